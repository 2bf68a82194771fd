#!/usr/bin/python3
"""Plots a ustack TCP trace (docs/trace.md) to PNG: a time-sequence view
(SND.UNA, SND.NXT and retransmissions, as tcptrace draws it), the congestion
window with ssthresh and the bytes in flight, and SRTT, RTTVAR and RTO.

Usage: scripts/plot-trace.py TRACE.csv [-o OUT.png] [--conn SUBSTRING]

Without --conn it plots the connection that delivered the most bytes (the
sender of a bulk transfer). Needs matplotlib (Debian: python3-matplotlib).
"""
import argparse
import csv
import sys


def load(path):
    rows = {}
    with open(path, newline="") as f:
        lines = (line for line in f if not line.startswith("#"))
        for r in csv.DictReader(lines):
            rows.setdefault(r["conn"], []).append(r)
    return rows


def main():
    ap = argparse.ArgumentParser(description="Plot a ustack TCP trace to PNG")
    ap.add_argument("trace")
    ap.add_argument("-o", "--output", default=None, help="PNG to write (default: TRACE with .png)")
    ap.add_argument("--conn", default=None, help="plot the connection whose name contains this")
    a = ap.parse_args()
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot-trace: matplotlib is missing (Debian: apt-get install python3-matplotlib)", file=sys.stderr)
        return 3
    conns = load(a.trace)
    if not conns:
        print(f"plot-trace: {a.trace} holds no rows", file=sys.stderr)
        return 1
    if a.conn:
        names = [c for c in conns if a.conn in c]
        if not names:
            print(f"plot-trace: no connection matches '{a.conn}'; there are: {', '.join(conns)}", file=sys.stderr)
            return 1
        name = names[0]
    else:
        name = max(conns, key=lambda c: int(conns[c][-1]["delivered"]))
    rows = conns[name]
    t = [float(r["time"]) for r in rows]
    num = lambda key: [float(r[key]) if r[key] != "" else float("nan") for r in rows]
    una, nxt = num("snd_una"), num("snd_nxt")
    retrans = num("retrans_segs")
    fig, (ax1, ax2, ax3) = plt.subplots(3, 1, sharex=True, figsize=(10, 10))
    fig.suptitle(f"ustack TCP trace: {name}")
    ax1.step(t, [x / 1e6 for x in nxt], where="post", label="SND.NXT (sent)", color="tab:blue", lw=0.8)
    ax1.step(t, [x / 1e6 for x in una], where="post", label="SND.UNA (acknowledged)", color="tab:green", lw=0.8)
    rt = [(t[i], una[i] / 1e6) for i in range(1, len(rows)) if retrans[i] > retrans[i - 1]]
    if rt:
        ax1.plot([p[0] for p in rt], [p[1] for p in rt], "rx", ms=5, label="retransmission")
    ax1.set_ylabel("sequence (MB from ISS)")
    ax1.legend(loc="upper left", fontsize="small")
    ax1.grid(alpha=0.3)
    ax2.step(t, [x / 1e3 for x in num("cwnd")], where="post", label="cwnd", color="tab:blue")
    ax2.step(t, [x / 1e3 for x in num("ssthresh")], where="post", label="ssthresh", color="tab:red", ls="--")
    ax2.step(t, [x / 1e3 for x in num("in_flight")], where="post", label="bytes in flight", color="tab:gray", lw=0.6)
    ax2.set_ylabel("kB")
    ax2.legend(loc="upper left", fontsize="small")
    ax2.grid(alpha=0.3)
    ax3.step(t, [x / 1e3 for x in num("srtt_us")], where="post", label="SRTT", color="tab:blue")
    ax3.step(t, [x / 1e3 for x in num("rttvar_us")], where="post", label="RTTVAR", color="tab:orange", lw=0.8)
    ax3.step(t, [x / 1e3 for x in num("rto_us")], where="post", label="RTO", color="tab:red", ls="--")
    ax3.set_ylabel("ms")
    ax3.set_xlabel("time (s from the first row)")
    ax3.legend(loc="upper left", fontsize="small")
    ax3.grid(alpha=0.3)
    out = a.output or (a.trace.rsplit(".", 1)[0] + ".png")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(f"plot-trace: {name}, {len(rows)} rows -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
