"""``chainrule train symmetry``: Rumelhart, Hinton & Williams (1986), six-bit symmetry.

The experiment of "Learning representations by back-propagating errors"
(Nature 323, 533-536) and of chapter 8 of *Parallel Distributed Processing*:
decide whether six bits read the same backwards. The settings are theirs:

* a 6-2-1 network of logistic units, y = sigmoid(W2 . sigmoid(W1 x + b1) + b2);
* error E = 1/2 sum over all 64 patterns of (y - d)^2, a sum, not a mean;
* one weight change per sweep through the 64 patterns (full batch), with
  learning rate 0.1 and momentum 0.9:
  delta_w(t) = -0.1 dE/dw + 0.9 delta_w(t - 1), which is ``optim.SGD``'s
  ``b <- 0.9 b + g; w <- w - 0.1 b`` with delta_w = -0.1 b;
* initial weights and biases uniform in [-0.3, 0.3];
* solved when every pattern's output is on the right side of 0.5; the count
  of sweeps is the number of weight changes made before that. They report
  1,425 sweeps for one run, at most 20,000 are tried here.

Their solution: each hidden unit weighs mirror-image inputs equally and
oppositely (so a symmetric pattern gives it net input = its bias alone), with
the three pairs in the ratio 1:2:4 (so no asymmetric pattern cancels out);
their figure gives about 14.2, 7.1 and 3.6. At the sweep a run is first
solved its outputs sit barely past 0.5 and its weights are still moving, so
a solved run trains on until it has *settled* (E < 0.05, usually within a
few hundred sweeps), and the weights shown are those: the structure is then
plain (pairs equal and opposite to 0.01, ratios 1 : 2.0 : 4.0).
``weights_table`` prints them.

Several seeds train at once, in lockstep, as one stack of independent
networks: the parameters get a leading seed dimension, the batched ``@``
applies each network to the same 64 patterns, and backward runs on
sum_s E_s. As each seed's weights enter only its own E_s,
d(sum_s E_s)/dW_s = dE_s/dW_s, and SGD with momentum acts elementwise, so
each seed follows the trajectory it would follow alone (a test checks it),
while the engine's per-operation cost is paid once for all seeds. Seed ``s``
draws its initial weights from ``numpy.random.default_rng(s)`` in the order
W1, b1, W2, b2, so a seed's run does not depend on which seeds share the stack.
Arithmetic is float64, as in the NumPy reference runs.
"""
import json
from dataclasses import dataclass

import numpy as np

import chainrule as cr
from .. import optim
from ..data import datasets
from .tasks import Option, Task, register_task

PAPER = {"hidden": [2], "activation": "sigmoid", "optimizer": "sgd", "lr": 0.1,
         "momentum": 0.9, "schedule": "constant", "epochs": 20_000, "model": "mlp"}
INIT_RANGE = 0.3
SETTLED = 0.05      # E below which a solved run's weights are taken as its solution
INPUTS = 6


@dataclass
class SeedResult:
    """One seed's run.

    ``sweeps``: weight changes made before it was solved (the sweep limit if
    it never was). ``errors[t]``: E before change ``t``, up to ``weights_sweep``,
    the sweep at which ``weights`` (W1 (6, h), b1 (h,), W2 (h,), b2 (), NumPy
    arrays) were taken: when it settled, or at the limit.
    """
    seed: int
    solved: bool
    sweeps: int
    errors: list
    weights: tuple
    weights_sweep: int


def initial_weights(seed, hidden, init_range=INIT_RANGE):
    """(W1 (6, h), b1 (h,), W2 (h,), b2 ()) uniform in [-init_range, init_range]."""
    rng = np.random.default_rng(seed)
    return (rng.uniform(-init_range, init_range, (INPUTS, hidden)),
            rng.uniform(-init_range, init_range, hidden),
            rng.uniform(-init_range, init_range, hidden),
            rng.uniform(-init_range, init_range))


def train_seeds(seeds, *, hidden=2, lr=0.1, momentum=0.9, max_sweeps=20_000,
                on_solved=None):
    """Train one 6-h-1 network per seed, all in lockstep; returns [SeedResult].

    Training stops when every seed has settled, or after ``max_sweeps``
    weight changes. ``on_solved(seed, sweeps, error)`` is called as each seed
    is first solved.
    """
    seeds = list(seeds)
    start = [initial_weights(s, hidden) for s in seeds]
    # a leading seed dimension; b1 and b2 get a row dimension to broadcast over patterns
    w1 = cr.tensor(np.stack([w[0] for w in start]), requires_grad=True)               # (S, 6, h)
    b1 = cr.tensor(np.stack([w[1] for w in start])[:, None, :], requires_grad=True)   # (S, 1, h)
    w2 = cr.tensor(np.stack([w[2] for w in start])[:, :, None], requires_grad=True)   # (S, h, 1)
    b2 = cr.tensor(np.stack([w[3] for w in start])[:, None, None], requires_grad=True)  # (S,1,1)
    params = (w1, b1, w2, b2)
    optimizer = optim.SGD(params, lr=lr, momentum=momentum)
    inputs, targets = (t.double() for t in datasets.symmetry().tensors)   # (64, 6), (64, 1)
    wanted = targets.data > 0.5

    errors = np.zeros((max_sweeps + 1, len(seeds)))
    solved_at = [None] * len(seeds)
    results = [None] * len(seeds)
    for sweep in range(max_sweeps + 1):
        output = ((inputs @ w1 + b1).sigmoid() @ w2 + b2).sigmoid()      # (S, 64, 1)
        error = 0.5 * ((output - targets) ** 2).sum(dim=(1, 2))          # (S,)
        errors[sweep] = error.data
        # strictly on the right side: an output of exactly 0.5 decides nothing
        right = np.where(wanted, output.data > 0.5, output.data < 0.5).all(axis=(1, 2))
        for i in range(len(seeds)):
            if right[i] and solved_at[i] is None:
                solved_at[i] = sweep
                if on_solved:
                    on_solved(seeds[i], sweep, float(error.data[i]))
            if results[i] is None and solved_at[i] is not None and error.data[i] < SETTLED:
                results[i] = _result(seeds[i], i, solved_at[i], sweep, errors, params)
        if sweep == max_sweeps or all(r is not None for r in results):
            break
        optimizer.zero_grad()
        error.sum().backward()
        optimizer.step()
    return [r if r is not None else _result(seeds[i], i, solved_at[i], sweep, errors, params)
            for i, r in enumerate(results)]


def _result(seed, i, solved_at, sweep, errors, params):
    w1, b1, w2, b2 = (p.data[i].copy() for p in params)
    return SeedResult(seed, solved_at is not None,
                      solved_at if solved_at is not None else sweep,
                      errors[:sweep + 1, i].tolist(), (w1, b1[0], w2[:, 0], b2[0, 0]), sweep)


def median_sweeps(results):
    """The median sweep count of the solved seeds (``None`` if none was solved)."""
    solved = [r.sweeps for r in results if r.solved]
    return float(np.median(solved)) if solved else None


def weights_table(result):
    """The learned weights as text: one row per hidden unit (its six input
    weights, its bias, its weight to the output), then the mirror pairs."""
    w1, b1, w2, b2 = result.weights
    head = "".join(f"{f'in {k + 1}':>8}" for k in range(INPUTS))
    lines = [f"{'':10}{head}{'bias':>8}  {'-> out':>8}"]
    for j in range(w1.shape[1]):
        row = "".join(f"{w:8.2f}" for w in w1[:, j])
        lines.append(f"{f'hidden {j + 1}':10}{row}{b1[j]:8.2f}  {w2[j]:8.2f}")
    lines.append(f"{'output':10}{'':{8 * INPUTS}}{b2:8.2f}")
    lines.append("mirror pairs (in k, in 7-k), inner to outer: (3,4) (2,5) (1,6)")
    for j in range(w1.shape[1]):
        lines.append(f"  hidden {j + 1}: {pair_summary(w1[:, j])}")
    return "\n".join(lines)


def pair_summary(weights):
    """For six input weights: each mirror pair's sum (0 when equal and opposite)
    and the pairs' sizes relative to the smallest (1:2:4 in the paper)."""
    pairs = [(2, 3), (1, 4), (0, 5)]          # inner to outer, 0-based
    sums = [weights[a] + weights[b] for a, b in pairs]
    sizes = [(abs(weights[a]) + abs(weights[b])) / 2 for a, b in pairs]
    smallest = min(sizes)
    if smallest > 0:
        ratio = " : ".join(f"{s / smallest:.2f}" for s in sizes)
        ordered = " : ".join(f"{s / smallest:.2f}" for s in sorted(sizes))
        ratio = f"ratio {ratio} (sorted {ordered})"
    else:
        ratio = "a pair of zero weights"
    return (f"pair sums {' '.join(f'{s:+.2f}' for s in sums)}; "
            f"sizes {' '.join(f'{s:.2f}' for s in sizes)}, {ratio}")


# -- the command: ``chainrule train symmetry [--seeds N]`` -------------------------

class ExperimentError(Exception):
    """Settings the experiment cannot take: a user error."""


def _check_settings(config):
    """The experiment is the paper's network; only its numbers may change."""
    fixed = {"model": "--model", "activation": "--activation", "optimizer": "--optimizer",
             "batch_size": "--batch-size", "schedule": "--schedule"}
    for key, flag in fixed.items():
        if config[key] != TASK.defaults[key]:
            raise ExperimentError(
                f"symmetry reproduces the 1986 experiment ({TASK.defaults[key]} for {flag}, "
                f"full-batch sweeps); {flag} {config[key]} does not apply (try another task)")
    if len(config["hidden"]) != 1:
        raise ExperimentError(f"symmetry has one hidden layer; give one size, e.g. "
                              f"--hidden 2, not --hidden {' '.join(map(str, config['hidden']))}")
    checks = [(config["hidden"][0] >= 1, "--hidden must be at least 1"),
              (config["seeds"] >= 1, "--seeds must be at least 1"),
              (config["epochs"] >= 1, "--epochs (the sweep limit) must be at least 1"),
              (config["lr"] > 0, "--lr must be positive"),
              (0 <= config["momentum"] < 1, "--momentum must be in [0, 1)")]
    for ok, message in checks:
        if not ok:
            raise ExperimentError(message)


def run_experiment(config, out_dir, warn):
    """Train ``--seeds`` networks, print each as it is solved, the settled weights
    of the lowest solved seed, the summary line; save the weights and a plot.
    Returns the final line (printed last by the caller)."""
    from .plots import MissingMatplotlib, plot_error_curves

    _check_settings(config)
    hidden, count = config["hidden"][0], config["seeds"]
    seeds = range(config["seed"], config["seed"] + count)
    print(f"six-bit symmetry (Rumelhart, Hinton & Williams 1986): a 6-{hidden}-1 logistic "
          f"network, E = 1/2 sum of squared errors over all 64 patterns")
    print(f"one weight change per sweep, lr {config['lr']:g}, momentum "
          f"{config['momentum']:g}, initial weights uniform in [-{INIT_RANGE}, {INIT_RANGE}], "
          f"at most {config['epochs']:,} sweeps (--epochs)")
    print(f"seeds {seeds.start}..{seeds.stop - 1}, trained side by side; a row as each is "
          f"solved (E is its error then)")
    print(f"{'seed':>6}  {'solved':>6}  {'sweeps':>7}  {'E':>8}", flush=True)

    def row(seed, sweeps, error, solved=True):
        print(f"{seed:>6}  {'yes' if solved else 'no':>6}  {sweeps:>7,}  {error:>8.4f}",
              flush=True)

    results = train_seeds(seeds, hidden=hidden, lr=config["lr"], momentum=config["momentum"],
                          max_sweeps=config["epochs"], on_solved=row)
    for r in results:
        if not r.solved:
            row(r.seed, r.sweeps, r.errors[-1], solved=False)
    solved = [r for r in results if r.solved]
    if solved:
        shown = min(solved, key=lambda r: r.seed)
        state = (f"settled to E = {shown.errors[-1]:.3f} at sweep {shown.weights_sweep:,}"
                 if shown.errors[-1] < SETTLED else
                 f"at the sweep limit, E = {shown.errors[-1]:.3f}")
        print(f"\nlearned weights of seed {shown.seed} (solved in {shown.sweeps:,} sweeps, "
              f"{state}):")
        print(weights_table(shown))

    out_dir.mkdir(parents=True, exist_ok=True)
    weights_path, plot_path = out_dir / "weights.safetensors", out_dir / "errors.png"
    _save_weights(results, weights_path)
    saved = [str(weights_path)]
    try:
        plot_error_curves(results, plot_path, f"six-bit symmetry, 6-{hidden}-1: "
                                              f"{len(solved)}/{count} solved")
        saved.append(str(plot_path))
    except MissingMatplotlib as e:
        warn(f"{e}; skipped {plot_path.name}")
    print(f"\nsaved {', '.join(saved)}")
    if count == 1:
        return (f"solved: yes, in {results[0].sweeps:,} sweeps" if solved
                else f"solved: no, not within {config['epochs']:,} sweeps")
    median = median_sweeps(results)
    if median is None:
        tail = ""
    else:       # the median of an even count can end in .5
        tail = f", median {median:,.0f} sweeps" if median.is_integer() else \
            f", median {median:,.1f} sweeps"
    return f"solved: {len(solved)}/{count} seeds{tail}"


def _save_weights(results, path):
    tensors, summary = {}, []
    for r in results:
        for name, value in zip(("W1", "b1", "W2", "b2"), r.weights):
            tensors[f"seed{r.seed}.{name}"] = np.asarray(value)
        summary.append({"seed": r.seed, "solved": r.solved, "sweeps": r.sweeps,
                        "weights_sweep": r.weights_sweep})
    cr.save(tensors, path, metadata={"experiment": "six-bit symmetry",
                                     "seeds": json.dumps(summary)})


TASK = register_task(Task(
    name="symmetry", help="six-bit mirror symmetry, the 1986 experiment (--seeds N)",
    defaults={**PAPER, "batch_size": 64, "seeds": 1},
    options=(Option(("--seeds",), {"type": int, "metavar": "N",
                                   "help": "symmetry: train N seeds (from --seed on) and report "
                                           "how many solve it and their median sweeps "
                                           "(default 1)"}),),
    run=run_experiment))
