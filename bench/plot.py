#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Epoch time per system, as an SVG bar chart, from nn_bench's --tsv output.

usage: plot.py RESULTS.tsv OUT.svg [--title TEXT]

One group of horizontal bars per training workload (sgd64, adam64,
sgd256), one bar per system, on a log scale (FANN is tens of times slower
than the rest), with the physical floor (FLOP count / peak sgemm rate) as a
dashed line. Plain SVG written by hand: no plotting library needed.
"""
import argparse
import csv
import math
import sys

WORKLOADS = [("sgd64", "SGD + momentum, batch 64"),
             ("adam64", "Adam, batch 64"),
             ("sgd256", "SGD + momentum, batch 256")]
SYSTEMS = [("libnn", "libnn", "#1f77b4"),
           ("libnn_1t", "libnn, 1 thread", "#6baed6"),
           ("sgemm", "sgemm shapes alone", "#7f7f7f"),
           ("torch", "PyTorch 1.13 (best threads)", "#ff7f0e"),
           ("sklearn", "scikit-learn (float64)", "#2ca02c"),
           ("fann", "FANN 2.2", "#d62728")]


def read(path):
    rows = {}
    with open(path) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            rows[(r["workload"], r["system"])] = float(r["median"])
    for w, _ in WORKLOADS:  # PyTorch at its best thread setting
        best = [rows[(w, s)] for s in ("torch1", "torch2") if (w, s) in rows]
        if best:
            rows[(w, "torch")] = min(best)
    return rows


def esc(text):
    return (text.replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;"))


def plot(rows, title):
    present = [s for s in SYSTEMS
               if any((w, s[0]) in rows for w, _ in WORKLOADS)]
    values = [rows[(w, s[0])] for w, _ in WORKLOADS for s in present
              if (w, s[0]) in rows]
    values += [rows[("floor", w)] for w, _ in WORKLOADS
               if ("floor", w) in rows]
    def nice(v, up):  # the 1-2-5 value at or beyond v
        decade = 10 ** math.floor(math.log10(v))
        steps = [decade * m for m in (1, 2, 5, 10)]
        return (min(x for x in steps if x >= v) if up
                else max(x for x in steps if x <= v))
    lo, hi = nice(min(values), False), nice(max(values), True)
    left, right, top, bar, gap, head = 210, 70, 74, 18, 12, 20
    width = 820
    plot_w = width - left - right
    group_h = head + len(present) * bar + gap
    height = top + len(WORKLOADS) * group_h + 40

    def x(v):
        return left + plot_w * (math.log10(v) - math.log10(lo)) / (
            math.log10(hi) - math.log10(lo))

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="12">' % (width, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="8" y="24" font-size="15" font-weight="bold">%s</text>'
           % esc(title),
           '<text x="8" y="42" fill="#555">seconds per epoch of 60 000 '
           'samples, log scale: shorter is faster</text>',
           '<text x="8" y="58" fill="#555">dashed line: the floor, the '
           'epoch\'s FLOPs at the peak sgemm rate</text>']
    decade = 10 ** math.floor(math.log10(lo))
    while decade <= hi * 1.001:
        for m in (1, 2, 5):
            v = decade * m
            if v < lo * 0.999 or v > hi * 1.001:
                continue
            out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" '
                       'stroke="#ddd"/>' % (x(v), top, x(v), height - 34))
            out.append('<text x="%.1f" y="%d" text-anchor="middle" '
                       'fill="#555">%g s</text>' % (x(v), height - 18, v))
        decade *= 10
    y = top
    for w, label in WORKLOADS:
        out.append('<text x="%d" y="%d" font-weight="bold">%s</text>'
                   % (left, y + 14, esc(label)))
        y += head
        y0 = y
        for key, name, colour in present:
            v = rows.get((w, key))
            mid = y + bar / 2 + 4
            out.append('<text x="%d" y="%.1f" text-anchor="end" '
                       'fill="#333">%s</text>' % (left - 6, mid, esc(name)))
            if v is not None:
                out.append('<rect x="%d" y="%d" width="%.1f" height="%d" '
                           'fill="%s"/>' % (left, y + 2, x(v) - left,
                                            bar - 4, colour))
                out.append('<text x="%.1f" y="%.1f" fill="#333">%.3g s'
                           '</text>' % (x(v) + 4, mid, v))
            y += bar
        floor = rows.get(("floor", w))
        if floor:
            out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" '
                       'stroke="black" stroke-dasharray="4,3"/>'
                       % (x(floor), y0, x(floor), y))
        y += gap
    out.append('</svg>')
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tsv")
    ap.add_argument("svg")
    ap.add_argument("--title", default="784-256-128-10 MLP on Fashion-MNIST")
    args = ap.parse_args()
    rows = read(args.tsv)
    if not any((w, "libnn") in rows for w, _ in WORKLOADS):
        sys.exit("plot.py: no training workloads in %s" % args.tsv)
    with open(args.svg, "w") as f:
        f.write(plot(rows, args.title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
