#!/usr/bin/env python3
"""Draws the charts of `docs/benchmarks.md` from the JSON of `cargo bench --bench compare`.

Usage: benches/charts.py [JSON] [OUT_DIR]
(defaults: docs/bench/compare.json, docs/bench). Python 3 standard library only;
writes latency.svg, paced.svg, throughput.svg, burst-lost.svg and burst-memory.svg.
"""

import json
import math
import sys
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLORS = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756"]
WIDTH = 960
LEFT = 330  # room for the case labels
RIGHT = 90  # room for the value printed after the longest bar
BAR = 13
GAP = 12


def ns_label(ns):
    if ns >= 1_000_000:
        return f"{ns / 1_000_000:.3g} ms"
    if ns >= 1_000:
        return f"{ns / 1_000:.3g} µs"
    return f"{ns:.3g} ns"


def rate_label(per_s):
    return f"{per_s / 1e6:.2f}M/s"


class Axis:
    """Maps a value to an x offset, linear from 0 or log10 between powers of ten."""

    def __init__(self, values, log):
        self.log = log
        top = max(values) if values else 1.0
        if log:
            low = min(v for v in values if v > 0) if values else 1.0
            self.lo = 10 ** math.floor(math.log10(low))
            self.hi = 10 ** math.ceil(math.log10(top))
        else:
            self.lo = 0.0
            step = nice_step(top / 5)
            self.hi = step * math.ceil(top / step)

    def x(self, value, span):
        if self.log:
            v = max(value, self.lo)
            return span * (math.log10(v) - math.log10(self.lo)) / (
                math.log10(self.hi) - math.log10(self.lo))
        return span * value / self.hi

    def ticks(self):
        if self.log:
            k = round(math.log10(self.lo))
            while 10 ** k <= self.hi * 1.0001:
                yield 10 ** k
                k += 1
        else:
            step = nice_step(self.hi / 5)
            t = 0.0
            while t <= self.hi * 1.0001:
                yield t
                t += step


def nice_step(raw):
    if raw <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def bar_chart(path, title, note, categories, series, log, fmt):
    """Horizontal grouped bars: one group per category, one bar per series.

    series: [(name, [value or None per category])].
    """
    values = [v for _, vs in series for v in vs if v is not None and v > 0]
    axis = Axis(values, log)
    span = WIDTH - LEFT - RIGHT
    group_h = len(series) * BAR + GAP
    top = 70 + 18 * ((len(series) + 2) // 3)
    height = top + len(categories) * group_h + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        f'<text x="12" y="22" font-size="16" font-weight="bold">{escape(title)}</text>',
        f'<text x="12" y="40" fill="#555">{escape(note)}</text>',
    ]
    for i, (name, _) in enumerate(series):
        lx = 12 + (i % 3) * 300
        ly = 58 + 18 * (i // 3)
        out.append(f'<rect x="{lx}" y="{ly - 10}" width="12" height="12" '
                   f'fill="{COLORS[i % len(COLORS)]}"/>')
        out.append(f'<text x="{lx + 18}" y="{ly}">{escape(name)}</text>')
    bottom = top + len(categories) * group_h
    for t in axis.ticks():
        x = LEFT + axis.x(t, span)
        out.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{bottom}" '
                   f'stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" '
                   f'fill="#555">{escape(fmt(t))}</text>')
    for c, label in enumerate(categories):
        y0 = top + c * group_h
        out.append(f'<text x="{LEFT - 8}" y="{y0 + len(series) * BAR / 2 + 4:.1f}" '
                   f'text-anchor="end">{escape(label)}</text>')
        for i, (_, vs) in enumerate(series):
            v = vs[c]
            if v is None:
                continue
            y = y0 + i * BAR
            w = max(axis.x(v, span), 1.0) if v > 0 else 0.0
            out.append(f'<rect x="{LEFT}" y="{y}" width="{w:.1f}" height="{BAR - 2}" '
                       f'fill="{COLORS[i % len(COLORS)]}"/>')
            out.append(f'<text x="{LEFT + w + 4:.1f}" y="{y + BAR - 3}" '
                       f'font-size="10" fill="#333">{escape(fmt(v))}</text>')
    out.append(f'<line x1="{LEFT}" y1="{top - 4}" x2="{LEFT}" y2="{bottom}" stroke="#333"/>')
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"wrote {path}")


def main():
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs/bench/compare.json"
    out_dir = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "docs/bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    report = json.loads(src.read_text(encoding="utf-8"))
    sizes = report["sizes"]
    cases = report["cases"]
    runs = f"median of {sizes['runs']} round(s)"
    timer = f"timer overhead {report['timer_overhead_ns']} ns included"

    def pick(rows, section, key):
        return [row[section].get(key) for row in rows]

    latency_charts = (
        ("latency", "Per-call latency",
         f"{sizes['calls']:,} calls each timed alone after {sizes['warmup']:,} warm-up"),
        ("paced", "Per-call latency paced at 100k calls/s",
         f"{sizes['paced_calls']:,} calls, one every {sizes['paced_interval_ns'] / 1000:g} µs"),
    )
    for section, title, counts in latency_charts:
        bar_chart(
            out_dir / f"{section}.svg",
            f"{title} (log scale, lower is better)",
            f"{counts}; {runs}; {timer}",
            [c["label"] for c in cases],
            [(q, pick(cases, section, k)) for q, k in
             (("p50", "p50"), ("p99", "p99"), ("p99.9", "p999"))],
            True,
            ns_label,
        )
    enabled = [c for c in cases if c["producers1"].get("end_to_end_per_s") is not None]
    bar_chart(
        out_dir / "throughput.svg",
        "Throughput (events/s, higher is better)",
        f"{sizes['events']:,} events; end to end counts events written until the last "
        f"one is in the file; {runs}",
        [c["label"] for c in enabled],
        [
            ("producer, 1 thread", pick(enabled, "producers1", "producer_per_s")),
            ("producer, 2 threads", pick(enabled, "producers2", "producer_per_s")),
            ("end to end, 1 producer", pick(enabled, "producers1", "end_to_end_per_s")),
            ("end to end, 2 producers", pick(enabled, "producers2", "end_to_end_per_s")),
        ],
        False,
        rate_label,
    )
    bursts = report["bursts"]

    def lost_pct(b):
        s = b["burst"]
        return 100.0 * s["lost"] / s["expected"] if s.get("expected") else None

    bar_chart(
        out_dir / "burst-lost.svg",
        f"Burst of {sizes['burst']:,} events, lossy configurations: share lost (%)",
        f"lines missing from the output after the drain; {runs}",
        [b["label"] for b in bursts],
        [("lost (%)", [lost_pct(b) for b in bursts])],
        False,
        lambda v: f"{v:.1f}%",
    )
    bar_chart(
        out_dir / "burst-memory.svg",
        f"Burst of {sizes['burst']:,} events, lossy configurations: peak memory",
        f"peak resident memory (VmHWM) the burst added to its process; {runs}",
        [b["label"] for b in bursts],
        [("peak RSS added (MiB)", [b["burst"].get("peak_rss_mib") for b in bursts])],
        False,
        lambda v: f"{v:.0f} MiB",
    )

if __name__ == "__main__":
    main()
