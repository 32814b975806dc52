#!/usr/bin/env python3
"""Draws benchmarks/soak.sh's CSV as an SVG: one small panel per measure over time (standard library only).
    python3 benchmarks/soak_chart.py results/X.csv results/X.svg
"""
import csv
import sys

PANELS = [("rss_mb", "RSS (MB)"), ("heap_after_gc_mb", "heap after GC (MB)"), ("fds", "open file descriptors"),
          ("server_connections", "server connections")]


def main(src, dst):
    with open(src) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit("no samples")
    xs = [float(r["seconds"]) / 60 for r in rows]
    w, h, pad = 420, 200, 45
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * w}" height="{2 * h}" font-family="sans-serif" font-size="11">',
             '<rect width="100%" height="100%" fill="white"/>']
    for k, (key, title) in enumerate(PANELS):
        ox, oy = (k % 2) * w, (k // 2) * h
        ys = [float(r[key]) for r in rows]
        top = max(ys) * 1.2 or 1
        xmax = max(xs) or 1
        px = lambda x: ox + pad + (x / xmax) * (w - pad - 15)
        py = lambda y: oy + h - 30 - (y / top) * (h - 60)
        parts.append(f'<text x="{ox + w / 2}" y="{oy + 18}" text-anchor="middle" font-weight="bold">{title}</text>')
        parts.append(f'<line x1="{px(0)}" y1="{py(0)}" x2="{px(xmax)}" y2="{py(0)}" stroke="#888"/>')
        parts.append(f'<line x1="{px(0)}" y1="{py(0)}" x2="{px(0)}" y2="{py(top)}" stroke="#888"/>')
        for frac in (0, 0.5, 1):
            v = top * frac
            parts.append(f'<text x="{px(0) - 4}" y="{py(v) + 4}" text-anchor="end">{v:.0f}</text>')
        parts.append(f'<text x="{px(xmax)}" y="{py(0) + 15}" text-anchor="end">{xmax:.0f} min</text>')
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>')
    parts.append("</svg>")
    with open(dst, "w") as f:
        f.write("\n".join(parts))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
