#!/usr/bin/python3
"""Plots the CSV of ustack-sweep (bench/README.md) to PNG: goodput against loss,
one panel per bottleneck rate, one line per RTT and congestion control, with
the ceiling min(bottleneck, Mathis bound, buffer/RTT) dotted.

Usage: scripts/plot-sweep.py SWEEP.csv [-o OUT.png]
Needs matplotlib (Debian: python3-matplotlib).
"""
import argparse
import csv
import sys


def main():
    ap = argparse.ArgumentParser(description="Plot a ustack-sweep CSV to PNG")
    ap.add_argument("csv")
    ap.add_argument("-o", "--output", default=None)
    a = ap.parse_args()
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot-sweep: matplotlib is missing (Debian: apt-get install python3-matplotlib)", file=sys.stderr)
        return 3
    with open(a.csv, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        print(f"plot-sweep: {a.csv} holds no rows", file=sys.stderr)
        return 1
    rates = sorted({int(r["rate_bps"]) for r in rows})
    rtts = sorted({int(r["rtt_ms"]) for r in rows})
    ccs = list(dict.fromkeys(r["cc"] for r in rows))
    fig, axes = plt.subplots(1, len(rates), figsize=(5 * len(rates), 5), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    styles = ["-", "--", "-.", ":"]
    for ax, rate in zip(axes[0], rates):
        for i, rtt in enumerate(rtts):
            color = colors[i % len(colors)]
            cell = [r for r in rows if int(r["rate_bps"]) == rate and int(r["rtt_ms"]) == rtt]
            for j, cc in enumerate(ccs):
                pts = sorted((float(r["loss"]) * 100, float(r["goodput_bps"]) / 1e6) for r in cell if r["cc"] == cc)
                if pts:
                    ax.plot([p[0] for p in pts], [max(p[1], 1e-3) for p in pts], styles[j % len(styles)],
                            marker="o", ms=3, color=color, label=f"{rtt} ms {cc}")
            ceil = sorted({(float(r["loss"]) * 100, float(r["ceiling_bps"]) / 1e6) for r in cell})
            ax.plot([p[0] for p in ceil], [p[1] for p in ceil], ":", color=color, lw=1, alpha=0.7)
        name = f"{rate // 10**9} Gbit/s" if rate >= 10**9 else f"{rate // 10**6} Mbit/s"
        ax.set_title(f"bottleneck {name}")
        ax.set_xlabel("loss (%)")
        ax.set_ylabel("goodput (Mbit/s)")
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both")
    axes[0][0].legend(fontsize="x-small", ncol=2)
    fig.suptitle("ustack goodput, one flow (dotted: min(bottleneck, Mathis bound, buffer/RTT))")
    fig.tight_layout()
    out = a.output or (a.csv.rsplit(".", 1)[0] + ".png")
    fig.savefig(out, dpi=90)
    print(f"plot-sweep: {len(rows)} runs -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
