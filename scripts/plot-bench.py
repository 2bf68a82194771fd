#!/usr/bin/python3
"""Plots `ustack bench --json` output (one JSON object a line) to PNG: one bar a
measurement, the ratio of ustack's figure to its reference measured in the same
run, with 1.0 marked; skipped measurements are listed, not drawn. For memory
per connection (lower is better) the bar is bytes / the 2 KB target.

Usage: scripts/plot-bench.py BENCH.jsonl [-o OUT.png]
Needs matplotlib (Debian: python3-matplotlib), run with /usr/bin/python3.
"""
import argparse
import json
import sys


def main():
    ap = argparse.ArgumentParser(description="Plot ustack bench --json output to PNG")
    ap.add_argument("jsonl")
    ap.add_argument("-o", "--output", default=None)
    a = ap.parse_args()
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot-bench: matplotlib is missing (Debian: apt-get install python3-matplotlib)", file=sys.stderr)
        return 3
    rows = []
    with open(a.jsonl) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                rows.append(json.loads(line))
    drawn = [r for r in rows if "ratio" in r]
    skipped = [r for r in rows if "skipped" in r]
    if not drawn:
        print(f"plot-bench: {a.jsonl} holds no measurement with a ratio", file=sys.stderr)
        return 1
    colours = {"memory": "tab:blue", "tap": "tab:orange", "scale": "tab:green"}
    fig, ax = plt.subplots(figsize=(10, 0.5 * len(drawn) + 1.8))
    labels = [f'{r["group"]}: {r["what"]}' for r in drawn]
    ratios = [r["ratio"] for r in drawn]
    y = list(range(len(drawn)))[::-1]
    ax.barh(y, ratios, color=[colours.get(r["group"], "grey") for r in drawn])
    for yi, r in zip(y, drawn):
        better = "" if r.get("higher_is_better", True) else " (lower is better)"
        ax.text(r["ratio"], yi, f' {r["ratio"]:.2f}x  ({r["value"]:.4g} vs {r["reference_value"]:.4g} {r["unit"]}){better}',
                va="center", fontsize=7)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("ustack / reference measured in the same run (log scale)")
    title = "ustack bench"
    if skipped:
        title += "  (not measured: " + ", ".join(r["group"] + "/" + r["name"] for r in skipped) + ")"
    ax.set_title(title, fontsize=9)
    hi = max(ratios)
    ax.set_xlim(min(min(ratios) / 2, 0.5), hi * 8)
    fig.tight_layout()
    out = a.output or a.jsonl.rsplit(".", 1)[0] + ".png"
    fig.savefig(out, dpi=110)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
