"""GradientMonitor: the recorded statistics by their definitions, the flags,
the table and figure, removal, and the deep-sigmoid versus ReLU/He and
normalised nets (the point the teaching texts make)."""
import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
import chainrule.optim as optim
from chainrule.viz import GradientMonitor


def small_model():
    cr.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))


def test_statistics_follow_their_definitions():
    model = small_model()
    monitor = GradientMonitor(model)
    assert monitor.layers == ["0", "2"]
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y = cr.randn(8, 3), cr.randn(8, 1)
    before, expected = None, {"grad_norm": [], "update_ratio": [], "act_frac_zero": []}
    for _ in range(3):
        opt.zero_grad()
        hidden = model[0](x)
        expected["act_frac_zero"].append(float(np.mean(hidden.data == 0)))
        loss = F.mse_loss(model(x), y)
        loss.backward()
        w = np.concatenate([model[0].weight.data.ravel(), model[0].bias.data.ravel()])
        g = np.concatenate([model[0].weight.grad.data.ravel(), model[0].bias.grad.data.ravel()])
        expected["grad_norm"].append(np.linalg.norm(g.astype(np.float64)))
        expected["update_ratio"].append(math.nan if before is None else
                                        np.linalg.norm(w - before) / np.linalg.norm(before))
        before = w.astype(np.float64)
        opt.step()
    h = monitor.history["0"]
    assert monitor.steps == 3 and len(h["weight_norm"]) == 3
    np.testing.assert_allclose(h["grad_norm"], expected["grad_norm"], rtol=1e-6)
    assert math.isnan(h["update_ratio"][0])
    np.testing.assert_allclose(h["update_ratio"][1:], expected["update_ratio"][1:], rtol=1e-5)
    out = model[0](x).data     # the last forward's output (weights now one step further)
    assert h["act_frac_zero"] == expected["act_frac_zero"]
    assert np.isfinite(h["act_mean"]).all() and out.shape == (8, 4)
    # the second layer's input is the ReLU's output: its zeros are the units that were off
    assert 0 <= monitor.history["2"]["in_frac_zero"][-1] <= 1


def test_hooks_change_nothing_and_remove_takes_them_off():
    losses = []
    for monitored in (False, True):
        model = small_model()
        monitor = GradientMonitor(model) if monitored else None
        opt = optim.SGD(model.parameters(), lr=0.1)
        cr.manual_seed(1)
        x, y = cr.randn(8, 3), cr.randn(8, 1)
        run = []
        for _ in range(3):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            run.append(loss.item())
        losses.append(run)
    assert losses[0] == losses[1]
    monitor.remove()
    F.mse_loss(model(x), y).backward()
    assert monitor.steps == 3


def test_evaluation_forwards_are_ignored():
    model = small_model()
    monitor = GradientMonitor(model)
    x = cr.randn(5, 3)
    model(x).sum().backward()
    mean = monitor.history["0"]["act_mean"][-1]
    with cr.no_grad():
        model(x * 100)
    model(x).sum().backward()
    assert monitor.history["0"]["act_mean"][-1] == pytest.approx(mean)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_flags_non_finite_and_exploding():
    model = small_model()
    monitor = GradientMonitor(model)
    x = cr.randn(4, 3)
    (model(x).sum() * 1e6).backward()
    kinds = {(f.layer, f.kind) for f in monitor.flags()}
    assert ("2", "exploding") in kinds
    (model(x).sum() * float("inf")).backward()
    flags = monitor.flags()
    assert {f.kind for f in flags} == {"non-finite"}
    assert "first at pass 2" in str(flags[0])


def test_report_and_plot(tmp_path, capsys):
    model = small_model()
    monitor = GradientMonitor(model)
    model(cr.randn(4, 3)).sum().backward()
    monitor.report()
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["layer", "passes", "grad_norm"]
    assert "\u2212" not in out
    path = monitor.plot(tmp_path / "grads.png", title="small")
    assert (tmp_path / "grads.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path


def test_errors():
    with pytest.raises(ValueError, match="no parameters that require grad"):
        GradientMonitor(nn.ReLU())
    with pytest.raises(TypeError, match="expected a Module, got Tensor"):
        GradientMonitor(cr.randn(2))
    with pytest.raises(RuntimeError, match="no backward pass recorded yet"):
        GradientMonitor(small_model()).ratio()


def deep(activation, he=False, norm=None, depth=10, width=32, seed=0):
    cr.manual_seed(seed)
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


def first_to_last(model, passes=3):
    """Median first-layer / last-layer gradient norm over a few SGD steps on digits."""
    from chainrule.data.datasets import digits
    x, y = digits(train=True).tensors
    x, y = x[:256], y[:256]
    monitor = GradientMonitor(model)
    opt = optim.SGD(model.parameters(), lr=0.1)
    for _ in range(passes):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return monitor


def test_deep_sigmoid_vanishes_relu_he_and_normalisation_do_not():
    sigmoid = first_to_last(deep(nn.Sigmoid))
    assert sigmoid.ratio() < 1e-4
    assert "vanishing" in {f.kind for f in sigmoid.flags() if f.layer == "0"}
    relu_default = first_to_last(deep(nn.ReLU))
    assert relu_default.ratio() < 1e-2            # PyTorch's default init shrinks it too
    healthy = {"relu + He": first_to_last(deep(nn.ReLU, he=True)),
               "sigmoid + BatchNorm1d": first_to_last(deep(nn.Sigmoid, norm=nn.BatchNorm1d)),
               "relu + LayerNorm": first_to_last(deep(nn.ReLU, norm=nn.LayerNorm))}
    for name, monitor in healthy.items():
        assert monitor.ratio() > 1e-1, name
        assert not [f for f in monitor.flags() if f.kind == "vanishing"], name
    # LayerNorm before a sigmoid does not rescue it: the sigmoid's outputs are
    # all near 0.5, so each layer's input hardly varies from sample to sample
    assert first_to_last(deep(nn.Sigmoid, norm=nn.LayerNorm)).ratio() < 1e-2
