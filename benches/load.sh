#!/usr/bin/env bash
# Loopback load test: bare axum, bare axum behind a no-op `Router::layer`,
# the floor (benches/support/floor.rs: the least a layer meeting issue 3 can do),
# axum + fapilog (access log + 1 event, rate 1.0), axum + tower-http/tracing,
# each on a 1-worker runtime, under `wrk -t1 -c32 -d${SECONDS_PER_RUN}s`. Installs wrk
# from Debian if missing.
#
# A shared VM's speed drifts by tens of percent within minutes, so one run per
# stack compares stacks measured at different speeds. Instead every round runs
# each stack once (starting one stack later each round), a stack's ratio is
# taken against bare axum's run of the same round, and the table gives the
# median over the rounds with its range. Slow spells only ever slow a run
# down, so the best round of each stack (its most req/s, its least CPU per
# request) is the steadiest figure on such a machine. The worker's CPU per request
# (/proc utime + stime of `tokio-rt-worker` over the run's middle, divided by
# wrk's req/s times that time) is the inverse of req/s when that thread
# is saturated, and shows when it is not. Its user-space part is what the
# stacks' code costs (what benches/cgload.sh counts).
#
# Usage: benches/load.sh [SECONDS [ROUNDS [STACK...]]]
#   (defaults 5, 5; stacks bare noop-layer floor fapilog tracing, or any of
#   those and floor-no-events; bare always runs, first)
# Every run's figures go to stderr as they come.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-5}
ROUNDS=${2:-5}
shift 2 || shift $#
for n in "$SECONDS_PER_RUN" "$ROUNDS"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [SECONDS [ROUNDS [STACK...]]]: '$n' is not a count" >&2; exit 2; }
done
PORT=3999
KNOWN=" bare noop-layer floor floor-no-events fapilog tracing "
STACKS=(bare noop-layer floor fapilog tracing)
if [ $# -gt 0 ]; then
  STACKS=(bare)
  for stack in "$@"; do
    [[ $KNOWN == *" $stack "* ]] || { echo "unknown stack '$stack' (known:$KNOWN)" >&2; exit 2; }
    [[ " ${STACKS[*]} " == *" $stack "* ]] || STACKS+=("$stack")
  done
fi
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --example bench_server -q
BIN=${CARGO_TARGET_DIR:-target}/release/examples/bench_server
TICK=$(getconf CLK_TCK)
RUNS=$(mktemp)
trap 'rm -f "$RUNS"' EXIT

# CPU ticks of the process's tokio worker thread: "utime+stime utime".
worker_ticks() {
  for task in /proc/"$1"/task/*; do
    [ "$(cat "$task/comm")" = tokio-rt-worker ] && sed 's/^.*) //' "$task/stat" | awk '{print $12 + $13, $12}'
  done
  return 0
}

# One run: prints "stack rps p50 p99 cpu_us_per_request user_us_per_request".
run_stack() {
  local stack=$1 pid wrk_pid t0 t1 ticks0 ticks1 out
  "$BIN" "$stack" "127.0.0.1:$PORT" 2>/dev/null &
  pid=$!
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
  out=$(mktemp)
  wrk -t1 -c32 -d"${SECONDS_PER_RUN}s" --latency "http://127.0.0.1:$PORT/orders/7" >"$out" &
  wrk_pid=$!
  sleep 1
  ticks0=$(worker_ticks "$pid"); t0=$(date +%s.%N)
  sleep $((SECONDS_PER_RUN > 2 ? SECONDS_PER_RUN - 2 : 1))
  ticks1=$(worker_ticks "$pid"); t1=$(date +%s.%N)
  wait "$wrk_pid"
  kill -INT "$pid"; wait "$pid" 2>/dev/null || true
  awk -v s="$stack" -v k0="$ticks0" -v k1="$ticks1" -v t0="$t0" -v t1="$t1" -v tick="$TICK" '
    BEGIN {split(k0, a, " "); split(k1, b, " ")}
    /Requests\/sec/ {rps = $2} $1 == "50%" {p50 = $2} $1 == "99%" {p99 = $2}
    END {
      per = 1e6 / tick / (rps * (t1 - t0))
      printf "%s %s %s %s %.2f %.2f\n", s, rps, p50, p99, (b[1] - a[1]) * per, (b[2] - a[2]) * per
    }' "$out"
  rm -f "$out"
}

for round in $(seq "$ROUNDS"); do
  n=${#STACKS[@]}
  for i in $(seq 0 $((n - 1))); do
    stack=${STACKS[$(((i + round - 1) % n))]}
    echo "$round $(run_stack "$stack")" | tee -a "$RUNS" >&2
  done
done

# Latencies as wrk prints them (850.00us, 1.06ms, 1.20s) in µs.
to_us() { awk '{v = $1 + 0; if ($1 ~ /ms$/) v *= 1e3; else if ($1 ~ /[0-9]s$/) v *= 1e6; print v}'; }
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
column() { awk -v s="$1" -v f="$2" '$2 == s {print $f}' "$RUNS"; }

best_bare=$(column bare 3 | sort -g | tail -1)
printf "| stack | req/s: best round (ratio to bare's best) | req/s: median | ratio to bare in the same round: median (range over %s rounds) | worker CPU per request: least, median | of it user space: least | p50 | p99 |\n" "$ROUNDS"
printf "|---|---:|---:|---|---:|---:|---:|---:|\n"
for stack in "${STACKS[@]}"; do
  ratios=$(awk -v s="$stack" '$2 == "bare" {bare[$1] = $3} $2 == s {rps[$1] = $3}
    END {for (r in rps) printf "%.3f\n", rps[r] / bare[r]}' "$RUNS" | sort -g)
  best=$(column "$stack" 3 | sort -g | tail -1)
  printf "| %s | %.0f (%.2f) | %.0f | %.2f (%.2f–%.2f) | %.2f, %.2f µs | %.2f µs | %.0f µs | %.0f µs |\n" "$stack" \
    "$best" "$(awk -v a="$best" -v b="$best_bare" 'BEGIN {print a / b}')" "$(column "$stack" 3 | median)" \
    "$(median <<<"$ratios")" "$(head -1 <<<"$ratios")" "$(tail -1 <<<"$ratios")" \
    "$(column "$stack" 6 | sort -g | head -1)" "$(column "$stack" 6 | median)" \
    "$(column "$stack" 7 | sort -g | head -1)" \
    "$(column "$stack" 4 | to_us | median)" "$(column "$stack" 5 | to_us | median)"
done
