"""``GradientMonitor``'s table and figure.

The figure has two panels, both with a logarithmic gradient axis, because
vanishing gradients span orders of magnitude: left, every layer's gradient
norm over the backward passes (coloured from the first layer, dark, to the
last, light); right, gradient norm against depth at the first and last
pass, where a slope is the gradient shrinking (or growing) on its way back
to the input.
"""
import math

from .formatting import number


def format_report(monitor):
    rows = [("layer", "passes", "grad_norm", "/ largest", "weight_norm", "update_ratio",
             "act_mean", "act_std", "act_zero", "flags")]
    flags = {}
    for f in monitor.flags():
        flags.setdefault(f.layer, []).append(f.kind)
    last = {name: h["grad_norm"][-1] for name, h in monitor.history.items() if h["grad_norm"]}
    finite = [v for v in last.values() if math.isfinite(v)]
    largest = max(finite) if finite else math.nan
    for name, h in monitor.history.items():
        n = len(h["grad_norm"])
        if n == 0:
            rows.append((name, "0") + ("",) * 8)
            continue
        g = h["grad_norm"][-1]
        rows.append((name, str(n), _g(g), _g(g / largest) if largest else "", _g(h["weight_norm"][-1]),
                     _g(h["update_ratio"][-1]), _g(h["act_mean"][-1]), _g(h["act_std"][-1]),
                     _g(h["act_frac_zero"][-1]), ", ".join(flags.get(name, [])) or "ok"))
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    lines.append("(latest pass; grad_norm / largest: against the layer with the largest gradient)")
    return "\n".join(lines)


def _g(v):
    return number(v, 3)


def plot(monitor, path, title=None):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("GradientMonitor.plot needs matplotlib: pip install 'chainrule[all]'") \
            from None
    names = monitor.layers
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    cmap = plt.get_cmap("viridis")
    for i, name in enumerate(names):
        norms = monitor.history[name]["grad_norm"]
        left.plot(range(1, len(norms) + 1), [v if v > 0 else math.nan for v in norms],
                  color=cmap(i / max(len(names) - 1, 1)), label=name, linewidth=1.4)
    left.set_yscale("log")
    left.set_xlabel("backward pass")
    left.set_ylabel("gradient norm (log scale)")
    left.set_title("per-layer gradient norm")
    left.legend(fontsize=7, ncol=2)
    depth = range(1, len(names) + 1)
    for k, label, style in ((0, "first pass", "o--"), (-1, "last pass", "s-")):
        values = [monitor.history[n]["grad_norm"][k] if monitor.history[n]["grad_norm"]
                  else math.nan for n in names]
        right.plot(depth, [v if v > 0 else math.nan for v in values], style, label=label)
    right.set_yscale("log")
    right.set_xticks(list(depth))
    right.set_xticklabels(names, rotation=60, fontsize=7)
    right.set_xlabel("layer (input side left)")
    right.set_title("gradient norm by depth")
    right.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
