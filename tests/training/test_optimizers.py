"""--optimizer and --schedule: construction from settings, and the cosine
schedule against torch's CosineAnnealingLR."""
import pytest
import torch

import chainrule as cr
from chainrule import optim
from chainrule.training.optimizers import (
    DEFAULTS, OPTIMIZERS, OptimizerError, build_optimizer, describe_optimizer, scheduled_lr)


def params():
    return [cr.zeros(3, requires_grad=True)]


def test_cosine_schedule_matches_torch_stepped_once_per_epoch():
    epochs, lr = 12, 0.1
    weight = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([weight], lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    for epoch in range(1, epochs + 1):
        assert scheduled_lr("cosine", lr, epoch, epochs) == pytest.approx(
            optimizer.param_groups[0]["lr"], rel=1e-12, abs=1e-15)
        optimizer.step()
        scheduler.step()


def test_constant_schedule_keeps_the_rate():
    assert [scheduled_lr("constant", 0.3, e, 5) for e in range(1, 6)] == [0.3] * 5


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_builds_with_its_defaults(name):
    optimizer = build_optimizer(name, params(), **DEFAULTS[name])
    assert isinstance(optimizer, OPTIMIZERS[name])
    assert optimizer.param_groups[0]["lr"] == DEFAULTS[name]["lr"]


def test_momentum_reaches_sgd_and_rmsprop():
    assert build_optimizer("sgd", params(), 0.1, 0.9).param_groups[0]["momentum"] == 0.9
    assert build_optimizer("rmsprop", params(), 0.01, 0.5).param_groups[0]["momentum"] == 0.5
    assert isinstance(build_optimizer("adam", params(), 1e-3, 0.0), optim.Adam)


@pytest.mark.parametrize("name, lr, momentum, message", [
    ("adam", 1e-3, 0.9, "--momentum applies to sgd and rmsprop only, not to adam"),
    ("sgd", 0.0, 0.0, "--lr must be positive, got 0.0"),
    ("sgd", float("nan"), 0.0, "--lr must be positive, got nan"),
    ("sgd", 0.1, 1.0, r"--momentum must be in \[0, 1\), got 1.0"),
])
def test_bad_settings_are_optimizer_errors(name, lr, momentum, message):
    with pytest.raises(OptimizerError, match=message):
        build_optimizer(name, params(), lr, momentum)


def test_description_names_what_applies():
    assert describe_optimizer("sgd", 0.1, 0.9, "cosine") == "sgd lr 0.1, momentum 0.9 (cosine)"
    assert describe_optimizer("adam", 0.001, 0.0, "constant") == "adam lr 0.001 (constant)"
