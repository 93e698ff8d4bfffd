#!/usr/bin/env bash
# Loopback load under callgrind with cache simulation: a repeatable stand-in
# for benches/load.sh, whose req/s move by ±15% from minute to minute on a
# shared VM. Each stack's bench_server runs under valgrind, `wrk -t1 -c32`
# drives it, the counters are zeroed after a 5 s warm-up, and the serving
# thread's figures are divided by the requests wrk made:
#   Ir          instructions executed
#   I1, D1      first-level instruction and data cache misses (32 KiB each)
#   est.        Ir + 10 × (I1 + D1 misses): estimated cycles
# Under load the request path's code does not fit the instruction cache, so
# code size counts as well as instructions; a second run of the same binary
# repeats est. within ~0.3%. The writer and queue do not show here: they cost
# the serving thread little (docs/benchmarks.md, "A repeatable measure").
# Installs wrk and valgrind from Debian if missing.
#
# Usage: benches/cgload.sh [SECONDS] [STACK...]   (defaults 10; bare floor fapilog)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
shift || true
STACKS=("$@")
[ ${#STACKS[@]} -gt 0 ] || STACKS=(bare floor fapilog)
PORT=3989
for tool in wrk valgrind; do
  command -v "$tool" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$tool" >/dev/null; }
done
cargo build --release --example bench_server -q
BIN=${CARGO_TARGET_DIR:-target}/release/examples/bench_server
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# One stack: prints "stack requests Ir I1 D1 est" for its busiest thread.
run_stack() {
  local stack=$1 pid requests
  valgrind --tool=callgrind --cache-sim=yes --separate-threads=yes \
    --callgrind-out-file="$OUT/$stack.%p" "$BIN" "$stack" "127.0.0.1:$PORT" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 150); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.2; done
  wrk -t1 -c32 -d5s "http://127.0.0.1:$PORT/orders/7" >/dev/null
  callgrind_control -z "$pid" >/dev/null 2>&1
  requests=$(wrk -t1 -c32 -d"${SECONDS_PER_RUN}s" "http://127.0.0.1:$PORT/orders/7" | awk '/requests in/ {print $1}')
  callgrind_control -d "$pid" >/dev/null 2>&1
  kill -INT "$pid"; wait "$pid" 2>/dev/null || true
  # The dump after zeroing is part 1 of each thread's file.
  for f in "$OUT/$stack".*.1-*; do
    awk -v s="$stack" -v n="$requests" '
      /^events:/ {for (i = 2; i <= NF; i++) col[$i] = i}
      /^summary:/ {
        ir = $col["Ir"]; i1 = $col["I1mr"]; d1 = $col["D1mr"] + $col["D1mw"]
        printf "%s %d %.0f %.1f %.1f %.0f\n", s, n, ir / n, i1 / n, d1 / n, (ir + 10 * (i1 + d1)) / n
      }' "$f"
  done | sort -k3 -g | tail -1
  rm -f "$OUT/$stack".*
}

printf "| stack | requests | Ir | I1 misses | D1 misses | est. cycles | est. over bare |\n"
printf "|---|---:|---:|---:|---:|---:|---:|\n"
bare_est=
for stack in "${STACKS[@]}"; do
  read -r name requests ir i1 d1 est <<<"$(run_stack "$stack")"
  [ "$name" = bare ] && bare_est=$est
  over=$([ -n "$bare_est" ] && echo "+$((est - bare_est))" || echo "—")
  printf "| %s | %s | %s | %s | %s | %s | %s |\n" "$name" "$requests" "$ir" "$i1" "$d1" "$est" "$over"
done
