"""Make the figures and numbers of docs/showing-the-work.md.

    python docs/showing-the-work/gradient_health.py

Trains the same 10-hidden-layer MLP (64 -> 32 x 10 -> 10, on 1,437 digits
images, full-batch SGD, lr 0.1, seed 0) in five variants with a
GradientMonitor on each, prints the first-layer / last-layer gradient norm
ratios, and writes into this folder: depth.png (the comparison),
sigmoid.png and relu-he.png (GradientMonitor.plot of two of the runs) and
add-mul.svg (the graph of the first worked example). About a minute on
one core.
"""
from pathlib import Path

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import chainrule as cr  # noqa: E402
import chainrule.nn as nn  # noqa: E402
import chainrule.nn.functional as F  # noqa: E402
import chainrule.optim as optim  # noqa: E402
from chainrule.data.datasets import digits  # noqa: E402
from chainrule.viz import GradientMonitor, explain  # noqa: E402

HERE = Path(__file__).resolve().parent
PASSES = 100


def mlp(activation, he=False, norm=None, depth=10, width=32):
    cr.manual_seed(0)
    layers, d = [], 64
    for _ in range(depth):
        linear = nn.Linear(d, width)
        if he:
            nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
            nn.init.zeros_(linear.bias)
        layers += [linear] + ([norm(width)] if norm else []) + [activation()]
        d = width
    layers.append(nn.Linear(d, 10))
    return nn.Sequential(*layers)


VARIANTS = {
    "sigmoid": lambda: mlp(nn.Sigmoid),
    "relu (default init)": lambda: mlp(nn.ReLU),
    "relu + He init": lambda: mlp(nn.ReLU, he=True),
    "sigmoid + BatchNorm1d": lambda: mlp(nn.Sigmoid, norm=nn.BatchNorm1d),
    "sigmoid + LayerNorm": lambda: mlp(nn.Sigmoid, norm=nn.LayerNorm),
    "relu (default) + LayerNorm": lambda: mlp(nn.ReLU, norm=nn.LayerNorm),
}


def train(model):
    x, y = digits(train=True).tensors
    monitor = GradientMonitor(model)
    opt = optim.SGD(model.parameters(), lr=0.1)
    for _ in range(PASSES):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    monitor.remove()
    return monitor, loss.item()


def ratio_at(monitor, k):
    """first-layer / last-layer gradient norm at backward pass k."""
    first, last = monitor.layers[0], monitor.layers[-1]
    return monitor.history[first]["grad_norm"][k] / monitor.history[last]["grad_norm"][k]


def main():
    runs = {}
    print(f"{'variant':<28} {'first/last, pass 1':>18} {'median, passes 1-100':>21} "
          f"{'loss after':>10}  flags at the end")
    for name, make in VARIANTS.items():
        model = make()
        monitor, loss = train(model)
        linears = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
        runs[name] = (monitor, linears)
        flags = sorted({f.kind for f in monitor.flags()})
        print(f"{name:<28} {ratio_at(monitor, 0):>18.3g} {monitor.ratio():>21.3g} "
              f"{loss:>10.3f}  {', '.join(flags) or 'none'}")
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.4))
    for name, (monitor, linears) in runs.items():
        left.plot(range(1, len(linears) + 1),
                  [monitor.history[n]["grad_norm"][0] for n in linears], "o-", label=name)
        ratios = [ratio_at(monitor, k) for k in range(monitor.steps)]
        right.plot(range(1, len(ratios) + 1), ratios, label=name)
    left.set_yscale("log")
    left.set_xlabel("Linear layer (1 = next to the input)")
    left.set_ylabel("gradient norm at pass 1 (log)")
    left.set_title("gradient norm by depth, first backward pass")
    right.set_yscale("log")
    right.set_xlabel("backward pass (full-batch SGD step)")
    right.set_ylabel("first layer / last layer (log)")
    right.set_title("how much gradient reaches the first layer")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(HERE / "depth.png", dpi=100)
    plt.close(fig)
    runs["sigmoid"][0].plot(HERE / "sigmoid.png", title="10 sigmoid layers, default init")
    runs["relu + He init"][0].plot(HERE / "relu-he.png", title="10 ReLU layers, He init")
    explain("(x + y) * z", x=-2, y=5, z=-4).graph.save(HERE / "add-mul.svg")


if __name__ == "__main__":
    main()
