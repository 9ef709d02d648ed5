"""PNG output (--png DIR): the cost distribution of the top exit reasons on a log-scale x axis
(histogram.png) and exits per time slice by reason (timeline.png). matplotlib is optional
(Debian: python3-matplotlib); without it PlotUnavailable says what to install."""
import math, os

from . import analysis, fmt

TOP_REASONS = 6


class PlotUnavailable(Exception):
    pass


def _pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")           # files only: no display needed
        import matplotlib.pyplot as plt
    except Exception as e:              # ImportError, or a broken install (RuntimeError)
        raise PlotUnavailable(f"--png needs matplotlib ({e}); on Debian: apt-get install "
                              "python3-matplotlib (and run mvtrace with /usr/bin/python3)") from e
    return plt


def _top_reasons(sel):
    cycles = {}
    for r, c in sel.exits:
        cycles[r.reason] = cycles.get(r.reason, 0) + c
    return sorted(cycles, key=lambda x: (-cycles[x], x))[:TOP_REASONS]


def histogram(plt, sel, path):
    fig, ax = plt.subplots(figsize=(10, 5.5))
    costs_all = [c for _, c in sel.exits]
    # Log bins from the smallest to the largest cost; a zero cost (possible after overhead
    # subtraction) is drawn in the first bin, as log(0) has no place on the axis.
    lo, hi = max(1, min(costs_all, default=1)), max(2, max(costs_all, default=2))
    edges = [10 ** (math.log10(lo) + i * (math.log10(hi) - math.log10(lo) + 1e-9) / 60) for i in range(61)]
    for reason in _top_reasons(sel):
        costs = [max(c, lo) for r, c in sel.exits if r.reason == reason]
        ax.hist(costs, bins=edges, histtype="step", linewidth=1.5,
                label=f"{fmt.reason_name(reason)} (n={len(costs)})")
    ax.set_xscale("log")
    ax.set_xlabel("cycles per exit (log scale)")
    ax.set_ylabel("exits")
    ax.set_title(f"exit cost distribution, dump {sel.dump.index}, {sel.describe()}\n{sel.cost_note()}",
                 fontsize=9)
    if sel.exits:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def timeline(plt, sel, path, slice_ms=None):
    t = analysis.timeline(sel, slice_ms)
    fig, ax = plt.subplots(figsize=(10, 5.5))
    reasons = [c.key for c in t.cols[3:]]
    shown, rest = reasons[:TOP_REASONS], reasons[TOP_REASONS:]
    xs = [r["start_ms"] for r in t.rows]
    width = (xs[1] - xs[0]) if len(xs) > 1 else 1.0
    bottom = [0] * len(xs)
    series = [(name, [r[name] for r in t.rows]) for name in shown]
    if rest:
        series.append(("other", [sum(r[n] for n in rest) for r in t.rows]))
    for name, ys in series:
        ax.bar(xs, ys, width=width, bottom=bottom, align="edge", label=name)
        bottom = [b + y for b, y in zip(bottom, ys)]
    ax.set_xlabel("ms since the dump's first record")
    ax.set_ylabel("exits per slice")
    ax.set_title(f"{t.title}, dump {sel.dump.index}, {sel.describe()}", fontsize=9)
    if series:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_pngs(sel, outdir, slice_ms=None):
    """Writes the PNGs and returns their paths; raises PlotUnavailable without matplotlib."""
    plt = _pyplot()
    os.makedirs(outdir, exist_ok=True)
    paths = [os.path.join(outdir, "histogram.png"), os.path.join(outdir, "timeline.png")]
    histogram(plt, sel, paths[0])
    timeline(plt, sel, paths[1], slice_ms)
    return paths
