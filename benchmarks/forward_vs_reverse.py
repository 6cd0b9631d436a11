"""Forward versus reverse mode: what a full gradient and a full Jacobian cost.

Forward mode pushes one tangent (a direction in input space) through the
function: one pass gives one column J u of the Jacobian. Reverse mode pulls
one cotangent back: one pass gives one row v^T J. So the full Jacobian of
f: R^n -> R^m costs n forward passes or m reverse passes. Two experiments:

1. **gradient**: the gradient of the scalar loss of an MLP with N
   parameters (m = 1, n = N), once by ``cr.func.jacfwd`` (N jvps, one per
   unit tangent) and once by ``cr.func.grad`` (one reverse pass). The MLP is
   10 -> h -> 1 with tanh, mean squared error on a fixed batch of 32; its N
   = 12 h + 1 parameters are one flat vector theta, cut into W1, b1, W2, b2
   inside the loss. The ratio forward / reverse grows like N.
2. **jacobian**: f: R^2 -> R^m, f(x) = tanh(A x + c) with A (m, 2), for m up
   to 1,000: ``jacfwd`` needs 2 passes, ``jacrev`` m. Here forward mode wins,
   by a factor that grows like m / 2.

For large N the forward-mode gradient would take minutes (N passes), so the
time is bounded: every row first times a random sample of unit-tangent jvps
(``--sample``, 200) and multiplies their median by N ("sampled s"); only if
that estimate is within ``--budget`` seconds does a full ``jacfwd`` run and
give the "measured" time, otherwise the estimate is the forward time and the
row says "extrapolated". Where both exist they show how good the estimate
is. Every row is also checked: each sampled jvp must equal its entry of
``grad``, and a full ``jacfwd`` the whole of it ("max |diff|").

Run ``python -m benchmarks.forward_vs_reverse [--plot docs/forward_vs_reverse.png]``
from the repository root; ``main(argv)`` is the command line and ``run()``
the function behind it (it returns the rows). Times are medians of repeated
calls on one thread (these products are too small to gain from threads, and
the machine is shared); the load average is printed at the end.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

from .harness import limit_threads, require_chainrule

WIDTHS = (1, 8, 83, 833, 2500, 8333)        # N = 12 h + 1: 13 ... 99,997
IN_FEATURES, BATCH = 10, 32
OUTPUTS = (10, 30, 100, 300, 1000)           # m for the R^2 -> R^m Jacobian
BUDGET = 20.0       # seconds a full forward-mode gradient may take, else extrapolated
SAMPLE = 200        # unit-tangent jvps timed for the estimate
MIN_TIME = 0.3      # seconds of repeated calls behind each median


# -- the two problems -------------------------------------------------------

def mlp_problem(width, seed=0):
    """``(loss, theta)``: the MLP loss as a function of its flat parameter
    vector, and a starting theta (PyTorch's Linear initialisation)."""
    cr = require_chainrule("func.jacfwd")
    rng = np.random.default_rng(seed)
    x = cr.tensor(rng.standard_normal((BATCH, IN_FEATURES)))
    y = cr.tensor(rng.standard_normal((BATCH, 1)))
    sizes = [("W1", (width, IN_FEATURES)), ("b1", (width,)), ("W2", (1, width)), ("b2", (1,))]
    bounds = {"W1": IN_FEATURES ** -0.5, "b1": IN_FEATURES ** -0.5,
              "W2": width ** -0.5, "b2": width ** -0.5}
    theta = np.concatenate([rng.uniform(-bounds[name], bounds[name], int(np.prod(shape)))
                            for name, shape in sizes])

    def loss(theta):
        params, start = {}, 0
        for name, shape in sizes:
            n = int(np.prod(shape))
            params[name] = theta[start:start + n].reshape(shape)
            start += n
        h = cr.tanh(x @ params["W1"].T + params["b1"])
        return ((h @ params["W2"].T + params["b2"] - y) ** 2).mean()
    return loss, theta


def wide_problem(m, seed=0):
    """``(f, x)``: f(x) = tanh(A x + c) from R^2 to R^m."""
    cr = require_chainrule("func.jacfwd")
    rng = np.random.default_rng(seed)
    a, c = cr.tensor(rng.standard_normal((m, 2))), cr.tensor(rng.standard_normal(m))
    return (lambda x: cr.tanh(a @ x + c)), rng.standard_normal(2)


# -- timing -----------------------------------------------------------------

def median_time(call, min_time=None, min_calls=3):
    """Median seconds per call over at least ``min_calls`` calls and
    ``min_time`` seconds (default ``MIN_TIME``), after one untimed call."""
    min_time = MIN_TIME if min_time is None else min_time
    call()
    times = []
    start = time.perf_counter()
    while len(times) < min_calls or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _timed_once(call):
    t0 = time.perf_counter()
    result = call()
    return time.perf_counter() - t0, result


def gradient_row(width, budget=BUDGET, sample=SAMPLE, seed=0):
    """One row of experiment 1 (see the module docstring)."""
    import chainrule.func as func

    loss, theta = mlp_problem(width, seed)
    n = theta.size
    reverse = median_time(lambda: func.grad(loss)(theta))
    gradient = func.grad(loss)(theta).data
    rng = np.random.default_rng(seed + 1)

    def jvp_at(j):
        unit = np.zeros(n)
        unit[j] = 1.0
        return func.jvp(loss, (theta,), (unit,))[1].item()
    # the sampled estimate first: it decides whether a full jacfwd fits the
    # budget, and where both exist the table shows how good an estimate it is
    times, error = [], 0.0
    for j in rng.choice(n, size=min(sample, n), replace=False):
        seconds, value = _timed_once(lambda j=j: jvp_at(j))
        times.append(seconds)
        error = max(error, abs(value - gradient[j]))
    estimate = statistics.median(times) * n
    if estimate <= budget:
        forward, by_forward = _timed_once(lambda: func.jacfwd(loss)(theta).data)
        error = max(error, float(np.max(np.abs(by_forward - gradient))))
        how = "measured"
    else:
        forward, how = estimate, "extrapolated"
    return {"experiment": "gradient", "width": width, "n": n, "forward_s": forward,
            "reverse_s": reverse, "ratio": forward / reverse, "forward_is": how,
            "estimate_s": estimate, "jvps_sampled": len(times), "max_abs_difference": error}


def jacobian_row(m, seed=0):
    """One row of experiment 2: the full m x 2 Jacobian both ways."""
    import chainrule.func as func

    f, x = wide_problem(m, seed)
    forward = median_time(lambda: func.jacfwd(f)(x))
    reverse = median_time(lambda: func.jacrev(f)(x))
    error = float(np.max(np.abs(func.jacfwd(f)(x).data - func.jacrev(f)(x).data)))
    return {"experiment": "jacobian", "m": m, "forward_s": forward, "reverse_s": reverse,
            "ratio": forward / reverse, "max_abs_difference": error}


# -- report -----------------------------------------------------------------

def run(widths=WIDTHS, outputs=OUTPUTS, budget=BUDGET, sample=SAMPLE, threads=1,
        plot=None, file=sys.stdout):
    """Run both experiments, print their tables to ``file`` (None: silent),
    save the figure to ``plot`` (a path) if given, and return the rows."""
    rows = []
    with limit_threads(threads):
        if file is not None:
            print(GRADIENT_TITLE, file=file)
            print(GRADIENT_HEADER, file=file, flush=True)
        for width in widths:
            rows.append(gradient_row(width, budget, sample))
            if file is not None:
                print(format_gradient_row(rows[-1]), file=file, flush=True)
        if file is not None:
            print("\n" + JACOBIAN_TITLE, file=file)
            print(JACOBIAN_HEADER, file=file, flush=True)
        for m in outputs:
            rows.append(jacobian_row(m))
            if file is not None:
                print(format_jacobian_row(rows[-1]), file=file, flush=True)
    if file is not None:
        print(f"\n(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
              f"{threads} thread(s); max |difference| checks forward against reverse)",
              file=file)
    if plot is not None:
        save_plot(rows, plot)
        if file is not None:
            print(f"plot saved to {plot}", file=file)
    return rows


GRADIENT_TITLE = ("Full gradient of an MLP loss (R^N -> R): N forward-mode passes "
                  "(jacfwd) vs one reverse pass (grad)")
GRADIENT_HEADER = (f"{'N':>8} {'forward s':>11} {'':<13} {'sampled s':>10} "
                   f"{'reverse ms':>11} {'fwd / rev':>10} {'max |diff|':>10}")
JACOBIAN_TITLE = ("Full Jacobian of f: R^2 -> R^m: jacfwd (2 forward passes) vs "
                  "jacrev (m reverse passes)")
JACOBIAN_HEADER = (f"{'m':>8} {'jacfwd ms':>11} {'jacrev ms':>11} {'fwd / rev':>10}  "
                   f"{'max |diff|':>10}")


def format_gradient_row(row):
    how = "measured" if row["forward_is"] == "measured" else "extrapolated"
    return (f"{row['n']:>8,} {row['forward_s']:>11.4g} {how:<13} "
            f"{row['estimate_s']:>10.4g} {row['reverse_s'] * 1e3:>11.3f} "
            f"{row['ratio']:>10.4g} {row['max_abs_difference']:>10.1e}")


def format_jacobian_row(row):
    return (f"{row['m']:>8,} {row['forward_s'] * 1e3:>11.3f} {row['reverse_s'] * 1e3:>11.3f} "
            f"{row['ratio']:>10.3g}  {row['max_abs_difference']:>10.1e}")


def save_plot(rows, path):
    """Three log-log panels: gradient times against N, their ratio against
    N (with a slope-1 guide), and Jacobian times against m."""
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError("the plot needs matplotlib: pip install 'chainrule[all]'") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grad_rows = [r for r in rows if r["experiment"] == "gradient"]
    jac_rows = [r for r in rows if r["experiment"] == "jacobian"]
    fig, (ax_t, ax_r, ax_j) = plt.subplots(1, 3, figsize=(15, 4.6))
    n = np.array([r["n"] for r in grad_rows])
    fwd = np.array([r["forward_s"] for r in grad_rows])
    measured = np.array([r["forward_is"] == "measured" for r in grad_rows])
    ax_t.plot(n, fwd, "-", color="tab:orange", label="forward: N jvps (jacfwd)")
    ax_t.plot(n[measured], fwd[measured], "o", color="tab:orange", label="measured")
    ax_t.plot(n[~measured], fwd[~measured], "o", mfc="white", color="tab:orange",
              label="extrapolated from sampled jvps")
    ax_t.plot(n, [r["reverse_s"] for r in grad_rows], "s-", color="tab:blue",
              label="reverse: one pass (grad)")
    ax_t.set(xscale="log", yscale="log", xlabel="parameters N", ylabel="seconds",
             title="Gradient of a scalar MLP loss")
    ax_t.legend(fontsize=8)

    ratio = fwd / np.array([r["reverse_s"] for r in grad_rows])
    ax_r.plot(n, ratio, "o-", color="tab:purple", label="forward / reverse")
    guide = ratio[0] * n / n[0]
    ax_r.plot(n, guide, ":", color="gray", label="slope 1 (proportional to N)")
    ax_r.set(xscale="log", yscale="log", xlabel="parameters N", ylabel="time ratio",
             title="Forward / reverse grows like N")
    ax_r.legend(fontsize=8)

    m = [r["m"] for r in jac_rows]
    ax_j.plot(m, [r["forward_s"] for r in jac_rows], "o-", color="tab:orange",
              label="jacfwd: 2 jvps")
    ax_j.plot(m, [r["reverse_s"] for r in jac_rows], "s-", color="tab:blue",
              label="jacrev: m vjps")
    ax_j.set(xscale="log", yscale="log", xlabel="outputs m", ylabel="seconds",
             title="Jacobian of f: R^2 -> R^m")
    ax_j.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    """``python -m benchmarks.forward_vs_reverse [--plot PATH] [--json] ...``"""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.forward_vs_reverse",
                                     description="Forward vs reverse mode: full gradient of "
                                                 "a scalar loss, and full Jacobian of R^2 -> "
                                                 "R^m")
    parser.add_argument("--widths", type=lambda s: [int(w) for w in s.split(",")],
                        default=list(WIDTHS),
                        help="hidden widths h of the MLP (N = 12 h + 1), comma-separated")
    parser.add_argument("--outputs", type=lambda s: [int(m) for m in s.split(",")],
                        default=list(OUTPUTS), help="output sizes m, comma-separated")
    parser.add_argument("--budget", type=float, default=BUDGET,
                        help="seconds a full forward-mode gradient may take before it is "
                             "extrapolated from the sampled jvps (default %(default)s)")
    parser.add_argument("--sample", type=int, default=SAMPLE,
                        help="unit-tangent jvps timed per row (default %(default)s)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--plot", default=None, metavar="PATH", help="save the figure (PNG)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    rows = run(args.widths, args.outputs, args.budget, args.sample, args.threads,
               args.plot, file=None if args.json else sys.stdout)
    if args.json:
        print(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
