"""The MLP builder and the model registry."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
from chainrule.training import models
from chainrule.training.models import (
    ACTIVATIONS, MLP, MODELS, ModelError, ModelSpec, build_mlp, describe_mlp, register_model)

TORCH_ACTIVATIONS = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
                     "gelu": torch.nn.GELU}


def test_layers_follow_the_sizes():
    model = MLP(64, [32, 16], 10, "tanh")
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(64, 32), (32, 16), (16, 10)]
    assert sum(isinstance(m, nn.Tanh) for m in model.modules()) == 2


def test_no_hidden_layer_is_a_linear_model():
    model = MLP(4, [], 3)
    assert [type(m) for m in model.layers] == [nn.Linear]


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_forward_matches_torch_in_float64(activation, rng):
    model = MLP(5, [7, 6], 3, activation).double()
    layers = []
    for module in model.layers:
        if isinstance(module, nn.Linear):
            linear = torch.nn.Linear(module.in_features, module.out_features, dtype=torch.float64)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(module.weight.data))
                linear.bias.copy_(torch.from_numpy(module.bias.data))
            layers.append(linear)
        else:
            layers.append(TORCH_ACTIVATIONS[activation]())
    reference = torch.nn.Sequential(*layers)
    x = rng.standard_normal((4, 5))
    np.testing.assert_allclose(model(cr.tensor(x)).data,
                               reference(torch.from_numpy(x)).detach().numpy(), rtol=1e-10)


def test_images_are_flattened():
    model = MLP(1 * 3 * 3, [4], 2)
    x = cr.randn(5, 1, 3, 3)
    np.testing.assert_array_equal(model(x).data, model(x.reshape(5, 9)).data)


def test_build_and_describe_use_the_settings():
    config = {"hidden": [8, 4], "activation": "gelu"}
    model = build_mlp((1, 28, 28), 10, config)
    assert model.layers[0].in_features == 784
    assert describe_mlp((1, 28, 28), 10, config) == "mlp 784-8-4-10 (gelu)"


def test_bad_settings_raise_model_errors():
    with pytest.raises(ModelError, match="hidden sizes must be positive, got --hidden 8 0"):
        build_mlp((4,), 2, {"hidden": [8, 0], "activation": "relu"})
    with pytest.raises(ModelError, match="unknown activation 'swish'"):
        MLP(4, [3], 2, "swish")


def test_register_model_adds_a_choice_and_refuses_a_duplicate(monkeypatch):
    monkeypatch.setattr(models, "MODELS", dict(MODELS))
    spec = ModelSpec(name="linear", help="no hidden layer",
                     build=lambda shape, outputs, config: MLP(shape[0], [], outputs),
                     describe=lambda shape, outputs, config: "linear")
    register_model(spec)
    assert models.MODELS["linear"] is spec
    with pytest.raises(ValueError, match="a model named 'linear' is already registered"):
        register_model(spec)
