"""The tasks ``chainrule train`` knows, and the registry that later ones join.

A ``Task`` says everything the training loop needs to know about a problem
and nothing about how a model is built:

* ``load(config)`` returns ``TaskData``: the train set, the test set (or
  ``None`` when the task is to fit every pattern, as for XOR) and one line
  describing the split, printed before training;
* ``objective``: the loss that is minimised and the metric that is reported
  (``CLASSIFICATION``: cross-entropy and accuracy over class scores;
  ``BINARY``: cross-entropy on one logit and accuracy of ``logit > 0``; a
  regression task would bring its own, e.g. mean squared error);
* ``outputs``: how many numbers the model produces per sample;
* ``defaults``: the settings (model, epochs, optimiser, ...) that work for
  this task, each overridable on the command line;
* ``options``: command-line options that only this task takes (``--root``);
* ``run``: set only by experiments with a procedure of their own (the
  symmetry experiment), which then replaces the standard loop.

Adding a task is one call in a module that ``chainrule.training`` imports
(as it imports ``symmetry``); the recurrent and convolutional issues register
theirs this way, a regression task with an objective of its own::

    MSE = Objective(loss=F.mse_loss, metric=summed_squared_error, metric_name="MSE",
                    format="{:.4f}".format)
    register_task(Task(name="adding", help="...", load=load_adding, objective=MSE,
                       outputs=1, defaults={"model": "lstm", "lr": 1e-2}))

after which ``chainrule train adding`` ends with ``test MSE: 0.0012``.

The data split never depends on ``--seed``: the seed changes initialisation
and batch order, so runs with different seeds are compared on the same data.
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

import chainrule.nn.functional as F
from ..data import TensorDataset, datasets
from ..data.datasets.mnist import FILES as MNIST_FILES

DATA_SEED = 0   # the split / generated sample of every task (see the module docstring)

# Settings every task starts from; a task's ``defaults`` override them. Its
# ``lr`` and ``momentum`` are for its own ``optimizer``: another optimiser
# chosen on the command line brings its own (``optimizers.DEFAULTS``).
COMMON_DEFAULTS = {
    "model": "mlp", "hidden": [128], "activation": "relu", "optimizer": "adam",
    "lr": 1e-3, "momentum": 0.0, "schedule": "cosine", "batch_size": 32, "epochs": 10,
    "seed": 0,
}


@dataclass(frozen=True)
class Option:
    """A command-line option owned by one task or model: ``argparse`` arguments."""
    flags: tuple
    kwargs: dict

    @property
    def dest(self):
        return self.flags[0].lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class Objective:
    """What is minimised and what is reported.

    ``loss(output, target)`` is a scalar Tensor, the mean over the batch.
    ``metric(output, target)`` is the metric summed over the batch (a float),
    so the loop can average it over batches of any size. ``metric_name`` names
    it in the table and in the final line; ``format`` turns a mean into text.
    """
    loss: Callable
    metric: Callable
    metric_name: str
    format: Callable


def _class_accuracy(output, target):
    return float((output.data.argmax(axis=1) == target.data).sum())


def _binary_accuracy(output, target):
    # logit > 0 is probability > 1/2: the decision without computing a sigmoid
    return float(((output.data > 0) == (target.data > 0.5)).sum())


def _percent(value):
    return f"{100 * value:.1f}%"


CLASSIFICATION = Objective(loss=F.cross_entropy, metric=_class_accuracy,
                           metric_name="accuracy", format=_percent)
BINARY = Objective(loss=F.binary_cross_entropy_with_logits, metric=_binary_accuracy,
                   metric_name="accuracy", format=_percent)


@dataclass(frozen=True)
class TaskData:
    """A task's data: ``test`` is ``None`` when the task is to fit ``train`` itself."""
    train: TensorDataset
    test: Optional[TensorDataset]
    description: str


@dataclass(frozen=True)
class Task:
    """One problem ``chainrule train NAME`` can solve; see the module docstring.

    A task trained by the standard loop gives ``load``, ``objective`` and
    ``outputs``; an experiment gives ``run(config, out_dir, warn)`` instead,
    which prints its own report and returns its final line.
    """
    name: str
    help: str
    load: Optional[Callable] = None
    objective: Optional[Objective] = None
    outputs: Optional[int] = None
    defaults: dict = field(default_factory=dict)
    options: tuple = ()
    run: Optional[Callable] = None


TASKS = {}


def register_task(task):
    """Add ``task`` to the registry (its name becomes a ``chainrule train`` choice)."""
    if task.name in TASKS:
        raise ValueError(f"register_task: a task named {task.name!r} is already registered")
    if task.run is None and None in (task.load, task.objective, task.outputs):
        raise ValueError(f"register_task: {task.name!r} needs load, objective and outputs "
                         f"(or a run of its own)")
    unknown = set(task.defaults) - set(COMMON_DEFAULTS) - {o.dest for o in task.options}
    if unknown:
        raise ValueError(f"register_task: {task.name!r} has defaults for unknown settings "
                         f"{sorted(unknown)}; known: {sorted(COMMON_DEFAULTS)}")
    TASKS[task.name] = task
    return task


def task_defaults(task):
    """The full settings dict of ``task``: common defaults, then the task's own."""
    return {**COMMON_DEFAULTS, **task.defaults}


class DataError(Exception):
    """The task's data cannot be had (missing files, damaged files): a user error."""


# -- the built-in tasks ----------------------------------------------------------

def _load_digits(config):
    train, test = datasets.digits(train=True, seed=DATA_SEED), datasets.digits(train=False,
                                                                               seed=DATA_SEED)
    return TaskData(train, test,
                    f"8x8 digits, stratified 80/20 split (seed {DATA_SEED}): "
                    f"{len(train):,} train / {len(test):,} test")


def _load_mnist(config):
    root = Path(config["root"]).expanduser()
    try:
        train = datasets.mnist(root, train=True)
        test = datasets.mnist(root, train=False)
    except FileNotFoundError:
        names = ", ".join(name for pair in MNIST_FILES.values() for name in pair)
        raise DataError(f"MNIST files not found: expected {names} (raw or .gz) in {root} "
                        f"or {root / 'MNIST' / 'raw'}; download them there or pass "
                        f"--root DIR") from None
    except ValueError as e:
        raise DataError(f"MNIST files in {root} are unusable: {e}") from None
    return TaskData(train, test, f"MNIST from {root}: {len(train):,} train / "
                                 f"{len(test):,} test (its own split)")


def _load_xor(config):
    return TaskData(datasets.xor(), None, "XOR: all 4 patterns (the task is to fit them; "
                                          "there is no held-out set)")


def _generated(name, make, n):
    def load(config):
        train, test = make(n=n, seed=DATA_SEED), make(n=n, seed=DATA_SEED + 1)
        return TaskData(train, test, f"{name}: {n:,} train points (seed {DATA_SEED}) / "
                                     f"{n:,} fresh test points (seed {DATA_SEED + 1})")
    return load


register_task(Task(
    name="digits", help="8x8 handwritten digits (embedded; the default)",
    load=_load_digits, objective=CLASSIFICATION, outputs=10,
    # SGD with momentum and a cosine schedule: 97.5-98.1% over seeds 0-9 in
    # about a second, where Adam at 1e-3 scattered between 96.4% and 97.8%
    defaults={"hidden": [256], "optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "epochs": 30,
              "batch_size": 32}))

register_task(Task(
    name="mnist", help="MNIST from IDX files in --root DIR",
    load=_load_mnist, objective=CLASSIFICATION, outputs=10,
    defaults={"hidden": [256], "epochs": 5, "batch_size": 64, "root": "data"},
    options=(Option(("--root",), {"metavar": "DIR", "help": "mnist: the directory holding the "
                                  "four IDX files, raw or .gz (default ./data; DIR/MNIST/raw "
                                  "is searched too)"}),)))

register_task(Task(
    name="xor", help="the four XOR patterns",
    load=_load_xor, objective=BINARY, outputs=1,
    # one full-batch step per epoch: solved by every seed from 0 to 19
    defaults={"hidden": [8], "activation": "tanh", "lr": 0.1, "batch_size": 4, "epochs": 60}))

register_task(Task(
    name="spirals", help="two interleaved spirals (300 points)",
    load=_generated("two spirals", datasets.spirals, 300), objective=CLASSIFICATION, outputs=2,
    defaults={"hidden": [64, 64], "lr": 0.03, "batch_size": 32, "epochs": 40}))

register_task(Task(
    name="moons", help="two moons (200 points, noise 0.1)",
    load=_generated("two moons", datasets.moons, 200), objective=CLASSIFICATION, outputs=2,
    defaults={"hidden": [32], "lr": 0.02, "batch_size": 32, "epochs": 30}))


def sample_shape(dataset):
    """The shape of one input sample (without the batch dimension)."""
    return tuple(dataset.tensors[0].shape[1:])


def input_features(shape):
    """How many numbers one sample holds (what an MLP's first layer takes)."""
    return int(np.prod(shape, dtype=np.int64))

