#!/usr/bin/env bash
# Regenerates every figure and chart of docs/benchmarks.md (issue 6):
#   1. cargo bench --bench compare     fapilog beside the floor, tracing, slog, ftlog → compare.json + table
#   2. cargo bench --bench middleware  per request through the router (two process setups)
#   3. benches/load.sh                 wrk loopback load, interleaved rounds: bare / no-op layer / floor / fapilog / tower-http+tracing
#   4. benches/charts.py               SVG charts from compare.json
# Outputs go to docs/bench/ (compare.json, *.txt, *.svg), or to $FAPILOG_BENCH_OUT.
#
# Usage: benches/compare.sh
#   FAPILOG_BENCH_QUICK=1   ten times smaller counts, one round, 2 s of load, criterion --quick;
#                           writes to $CARGO_TARGET_DIR/bench-quick (default target/) instead
#   FAPILOG_BENCH_MAX_LOAD  wait (at most 10 min) until the 1-minute load average is below
#                           this before starting (default 1.5; the machine is shared)
set -euo pipefail
cd "$(dirname "$0")/.."

quick=${FAPILOG_BENCH_QUICK:-}
[ "$quick" = 0 ] && quick=
if [ -n "$quick" ]; then
  out=${FAPILOG_BENCH_OUT:-${CARGO_TARGET_DIR:-target}/bench-quick}
  load_args=(2 1)
  criterion_args=(--quick)
else
  out=${FAPILOG_BENCH_OUT:-docs/bench}
  load_args=(5 5)
  criterion_args=()
fi
mkdir -p "$out"
export FAPILOG_BENCH_JSON="$PWD/$out/compare.json"
[[ "$out" = /* ]] && export FAPILOG_BENCH_JSON="$out/compare.json"

max_load=${FAPILOG_BENCH_MAX_LOAD:-1.5}
for _ in $(seq 60); do
  load=$(cut -d' ' -f1 /proc/loadavg)
  awk -v l="$load" -v m="$max_load" 'BEGIN {exit !(l < m)}' && break
  echo "load average $load ≥ $max_load: waiting 10 s" >&2
  sleep 10
done
echo "load average at start: $(cat /proc/loadavg)"

cargo bench --bench compare | tee "$out/compare.txt"
# Twice: the same five benchmarks, once with no filter and once with the
# filter `request` (which selects all five). The rate-1.0 figure moves by up to
# 0.4 µs between the two setups of one binary (docs/benchmarks.md, "Process
# setup"), so both are recorded.
for filter in "" request; do
  echo "== cargo bench --bench middleware -- ${criterion_args[*]} $filter"
  cargo bench --bench middleware -- "${criterion_args[@]}" $filter 2>&1 | tr '\r' '\n' \
    | grep -E '^request/|time:'
done | tee "$out/middleware.txt"
benches/load.sh "${load_args[@]}" | tee "$out/load.txt"
echo "load average at end: $(cat /proc/loadavg)" | tee -a "$out/compare.txt"
python3 benches/charts.py "$FAPILOG_BENCH_JSON" "$out"
