"""The models ``chainrule train --model NAME`` can build, and their registry.

A ``ModelSpec`` builds a ``Module`` for a task from the shape of one input
sample, the number of outputs the task wants and the run's settings
(``config``, a dict: ``hidden``, ``activation``, and any option the model
adds). ``--model`` offers exactly the registered names, so the convolutional
and recurrent issues add ``cnn``, ``rnn``, ``lstm`` and ``gru`` with one
``register_model`` call each (in a module ``chainrule.training`` imports),
together with any option of their own::

    register_model(ModelSpec(name="cnn", help="...", build=build_cnn, describe=describe_cnn,
                             options=(Option(("--channels",), {...}),)))

A model that cannot serve a task (a CNN on XOR's two numbers) raises
``ModelError`` from ``build`` with a message saying why.
"""
from dataclasses import dataclass
from typing import Callable

import chainrule.nn as nn
from .tasks import input_features


@dataclass(frozen=True)
class ModelSpec:
    """``build(input_shape, outputs, config) -> Module``; ``describe`` (same
    arguments) says in a few words what will be built, for the run's header."""
    name: str
    help: str
    build: Callable
    describe: Callable
    options: tuple = ()


class ModelError(Exception):
    """The model cannot be built for this task with these settings: a user error."""


MODELS = {}


def register_model(spec):
    """Add ``spec`` to the registry (its name becomes a ``--model`` choice)."""
    if spec.name in MODELS:
        raise ValueError(f"register_model: a model named {spec.name!r} is already registered")
    MODELS[spec.name] = spec
    return spec


ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU}


class MLP(nn.Module):
    """A multilayer perceptron: ``Linear -> activation`` for each hidden size,
    then a ``Linear`` to the outputs (no activation: the loss takes logits).

    Inputs with more than one dimension per sample (MNIST's 1x28x28 images)
    are flattened first, so the same model serves every task. Layers get
    PyTorch's default initialisation (``Linear``'s own).
    """

    def __init__(self, in_features, hidden, out_features, activation="relu"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ModelError(f"mlp: unknown activation {activation!r}; choose one of "
                             f"{', '.join(ACTIVATIONS)}")
        layers, width = [], in_features
        for size in hidden:
            layers += [nn.Linear(width, size), ACTIVATIONS[activation]()]
            width = size
        layers.append(nn.Linear(width, out_features))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x.flatten(1) if x.ndim > 2 else x)


def _check_hidden(hidden):
    if any(size < 1 for size in hidden):
        raise ModelError(f"mlp: hidden sizes must be positive, got --hidden "
                         f"{' '.join(map(str, hidden))}")


def build_mlp(input_shape, outputs, config):
    _check_hidden(config["hidden"])
    return MLP(input_features(input_shape), config["hidden"], outputs, config["activation"])


def describe_mlp(input_shape, outputs, config):
    sizes = [input_features(input_shape), *config["hidden"], outputs]
    return f"mlp {'-'.join(map(str, sizes))} ({config['activation']})"


register_model(ModelSpec(name="mlp", help="multilayer perceptron (--hidden, --activation)",
                         build=build_mlp, describe=describe_mlp))
