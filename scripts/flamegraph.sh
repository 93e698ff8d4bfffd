#!/usr/bin/env bash
# Flame graph of the hot path: a loop of enabled calls with the writer running
# (JSON to a file, default stages), recorded with `perf` and drawn with inferno.
#
#   scripts/flamegraph.sh [CALLS] [OUT.svg]
#
# Needs `perf` (Debian: apt-get install -y linux-perf) and inferno
# (cargo install inferno). `-e cpu-clock` is a software event, so it works on
# VMs without hardware counters. The example is built with debug info in its
# own target directory so the normal release build is not invalidated.
set -euo pipefail

CALLS="${1:-5000000}"
OUT="${2:-docs/architecture/hot-path-flamegraph.svg}"
cd "$(dirname "$0")/.."

command -v perf >/dev/null || { echo "perf not found: apt-get install -y linux-perf" >&2; exit 1; }
command -v inferno-flamegraph >/dev/null || { echo "inferno not found: cargo install inferno" >&2; exit 1; }

TARGET="${CARGO_TARGET_DIR:-target}/flamegraph"
CARGO_PROFILE_RELEASE_DEBUG=true CARGO_TARGET_DIR="$TARGET" \
    cargo build --release --example profile_hot_path
BIN="$TARGET/release/examples/profile_hot_path"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
echo "loadavg before: $(cat /proc/loadavg)" >&2
# DWARF unwinding: release code has no frame pointers.
perf record -e cpu-clock -F 999 --call-graph dwarf,16384 -o "$WORK/perf.data" \
    -- "$BIN" --loop "$CALLS"
perf script -i "$WORK/perf.data" --no-inline 2>/dev/null \
    | inferno-collapse-perf > "$WORK/folded"
# Frames narrower than 0.05% of the samples are left out to keep the SVG small.
inferno-flamegraph --title "fapilog: $CALLS enabled calls, writer running (JSON to a file)" \
    --minwidth 0.05 < "$WORK/folded" > "$OUT"
echo "wrote $OUT ($(du -h "$OUT" | cut -f1)); threads: main = the calls, fapilog-writer = the writer" >&2
