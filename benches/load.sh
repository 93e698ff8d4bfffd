#!/usr/bin/env bash
# Loopback load test: bare axum, bare axum behind a no-op `Router::layer`,
# the floor (benches/support/floor.rs: the least a layer meeting issue 3 can do),
# axum + fapilog (access log + 1 event, rate 1.0), axum + tower-http/tracing,
# each on a 1-worker runtime, under `wrk -t1 -c32 -d${DURATION}s`. Installs wrk
# from Debian if missing.
# Usage: benches/load.sh [DURATION_SECONDS]   (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
PORT=3999
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --example bench_server -q
BIN=${CARGO_TARGET_DIR:-target}/release/examples/bench_server

printf "| stack | req/s | ratio to bare | p50 | p99 |\n|---|---:|---:|---:|---:|\n"
bare_rps=""
for mode in bare noop-layer floor fapilog tracing; do
  "$BIN" "$mode" "127.0.0.1:$PORT" 2>/dev/null &
  pid=$!
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
  out=$(wrk -t1 -c32 -d"${DURATION}s" --latency "http://127.0.0.1:$PORT/orders/7")
  kill -INT "$pid"; wait "$pid" 2>/dev/null || true
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  [ -z "$bare_rps" ] && bare_rps=$rps
  ratio=$(awk -v a="$rps" -v b="$bare_rps" 'BEGIN {printf "%.2f", a/b}')
  printf "| %s | %s | %s | %s | %s |\n" "$mode" "$rps" "$ratio" "$p50" "$p99"
done
