"""Each scheduler's lr sequence equals torch.optim.lr_scheduler's, to the last bit."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.optim as optim
from chainrule.optim import lr_scheduler

EPOCHS = 120
LRS = (0.1, 0.03)          # two groups with different base rates


def _optimizers():
    """The same two-group SGD on both sides (no gradients: only lrs matter here)."""
    ours = optim.SGD([{"params": [cr.tensor(np.zeros(2), requires_grad=True)], "lr": lr}
                      for lr in LRS], momentum=0.9)
    theirs = torch.optim.SGD([{"params": [torch.zeros(2, requires_grad=True)], "lr": lr}
                              for lr in LRS], momentum=0.9)
    return ours, theirs


def _lrs(opt):
    return [group["lr"] for group in opt.param_groups]


class Warmup:
    """A callable object: LambdaLR saves its attributes in the state dict."""

    def __init__(self, epochs):
        self.epochs = epochs

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.epochs)


SCHEDULES = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "StepLR-1": lambda m, o: m.StepLR(o, step_size=1, gamma=0.9),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.97),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=10, eta_min=1e-3),
    "CosineAnnealingLR-T7": lambda m, o: m.CosineAnnealingLR(o, T_max=7),
    "CosineAnnealingLR-T100": lambda m, o: m.CosineAnnealingLR(o, T_max=100, eta_min=0.01),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda epoch: 0.5 * 0.98 ** epoch),
    "LambdaLR-per-group": lambda m, o: m.LambdaLR(
        o, [Warmup(5), lambda epoch: 1.0 / (1.0 + 0.1 * epoch)]),
}


@pytest.mark.parametrize("name", SCHEDULES)
def test_lr_sequence_matches_torch(name):
    ours_opt, torch_opt = _optimizers()
    ours = SCHEDULES[name](lr_scheduler, ours_opt)
    theirs = SCHEDULES[name](torch.optim.lr_scheduler, torch_opt)
    got, want = [_lrs(ours_opt)], [_lrs(torch_opt)]
    assert ours.get_last_lr() == theirs.get_last_lr() == want[0]
    for _ in range(EPOCHS):
        ours_opt.step()
        torch_opt.step()
        ours.step()
        theirs.step()
        got.append(_lrs(ours_opt))
        want.append(_lrs(torch_opt))
        assert ours.get_last_lr() == got[-1]
    assert got == want
    assert len({tuple(lrs) for lrs in got}) > 5       # the schedule did move
    assert [g["initial_lr"] for g in ours_opt.param_groups] == list(LRS)
    assert ours.base_lrs == theirs.base_lrs == list(LRS)
    # the state dict holds PyTorch's entries (minus its internal flags) with its values
    theirs_state = theirs.state_dict()
    for key, value in ours.state_dict().items():
        if key != "lr_lambdas":
            assert theirs_state[key] == value, key


def test_cosine_annealing_follows_the_closed_form_within_the_first_period():
    opt, _ = _optimizers()
    T, eta_min = 10, 1e-3
    scheduler = lr_scheduler.CosineAnnealingLR(opt, T_max=T, eta_min=eta_min)
    for epoch in range(1, 2 * T + 1):
        scheduler.step()
        for lr, base in zip(_lrs(opt), LRS):
            closed = eta_min + (base - eta_min) * (1 + math.cos(math.pi * epoch / T)) / 2
            assert lr == pytest.approx(closed, rel=1e-12, abs=1e-15)


def test_a_scheduler_applies_epoch_zero_when_constructed():
    opt, _ = _optimizers()
    scheduler = lr_scheduler.LambdaLR(opt, lambda epoch: 0.25 + epoch)
    assert _lrs(opt) == [0.1 * 0.25, 0.03 * 0.25]
    assert scheduler.get_last_lr() == _lrs(opt)
    assert scheduler.last_epoch == 0
    assert [g["initial_lr"] for g in opt.param_groups] == list(LRS)


@pytest.mark.parametrize("name", ["StepLR", "ExponentialLR", "CosineAnnealingLR"])
def test_resuming_with_last_epoch_matches_torch(name):
    ours_opt, torch_opt = _optimizers()
    for opt in (ours_opt, torch_opt):
        for group, lr in zip(opt.param_groups, (0.05, 0.01)):
            group["initial_lr"], group["lr"] = group["lr"], lr
    kwargs = {"StepLR": {"step_size": 3}, "ExponentialLR": {"gamma": 0.9},
              "CosineAnnealingLR": {"T_max": 8}}[name]
    ours = getattr(lr_scheduler, name)(ours_opt, last_epoch=5, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(torch_opt, last_epoch=5, **kwargs)
    got, want = [_lrs(ours_opt)], [_lrs(torch_opt)]
    for _ in range(30):
        torch_opt.step()
        ours.step()
        theirs.step()
        got.append(_lrs(ours_opt))
        want.append(_lrs(torch_opt))
    assert got == want


# -- ReduceLROnPlateau ------------------------------------------------------------

def _metrics(seed=0, n=EPOCHS):
    """A loss curve: falls, then wanders on plateaus (so reductions happen)."""
    rng = np.random.default_rng(seed)
    trend = 1.0 / (1.0 + 0.1 * np.arange(n))
    plateaus = np.repeat(rng.random(n // 10), 10)[:n]
    return list(trend + 0.05 * plateaus + 0.01 * rng.standard_normal(n))


PLATEAU_CONFIGS = [
    {},
    {"patience": 2},
    {"patience": 0, "factor": 0.5},
    {"mode": "max", "patience": 3, "threshold": 0.01},
    {"mode": "max", "threshold_mode": "abs", "threshold": 0.02, "patience": 1, "cooldown": 4},
    {"threshold_mode": "abs", "threshold": 1e-3, "patience": 2, "cooldown": 2,
     "min_lr": [0.02, 0.001], "factor": 0.3},
    {"patience": 1, "min_lr": 0.01, "factor": 0.5},
    {"patience": 1, "factor": 0.999, "eps": 1e-4},        # changes below eps are skipped
]


@pytest.mark.parametrize("options", PLATEAU_CONFIGS, ids=[str(c) for c in PLATEAU_CONFIGS])
def test_reduce_on_plateau_matches_torch(options):
    ours_opt, torch_opt = _optimizers()
    ours = lr_scheduler.ReduceLROnPlateau(ours_opt, **options)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(torch_opt, **options)
    sign = -1.0 if options.get("mode") == "max" else 1.0
    got, want = [], []
    for metric in _metrics():
        ours.step(sign * metric)
        theirs.step(sign * metric)
        got.append((_lrs(ours_opt), ours.num_bad_epochs, ours.cooldown_counter, ours.best))
        want.append((_lrs(torch_opt), theirs.num_bad_epochs, theirs.cooldown_counter,
                     theirs.best))
    assert got == want
    assert ours.get_last_lr() == theirs.get_last_lr()
    if options.get("eps") != 1e-4:
        assert got[-1][0][0] < LRS[0] and got[-1][0][1] < LRS[1]    # both were reduced
    else:
        # 0.03 * (1 - 0.999) is below eps, so the second group's lr never moves
        assert got[-1][0][0] < LRS[0] and got[-1][0][1] == LRS[1]


def test_reduce_on_plateau_leaves_lr_alone_on_construction_and_takes_tensor_metrics():
    opt, _ = _optimizers()
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    assert _lrs(opt) == list(LRS) and "initial_lr" not in opt.param_groups[0]
    scheduler.step(cr.tensor(1.0))
    scheduler.step(cr.tensor(2.0))
    assert _lrs(opt) == pytest.approx([0.01, 0.003], rel=1e-15)


# -- checkpoints ------------------------------------------------------------------

RESUMABLE = {
    **SCHEDULES,
    "ReduceLROnPlateau": lambda m, o: m.ReduceLROnPlateau(o, patience=1, cooldown=2),
}


def _advance(scheduler, opt, epochs, start):
    lrs = []
    for epoch in range(start, start + epochs):
        opt.step()
        if isinstance(scheduler, lr_scheduler.ReduceLROnPlateau):
            scheduler.step(_metrics()[epoch])
        else:
            scheduler.step()
        lrs.append(_lrs(opt))
    return lrs


@pytest.mark.parametrize("name", RESUMABLE)
def test_a_schedule_resumes_from_state_dicts(name):
    straight_opt, _ = _optimizers()
    straight = RESUMABLE[name](lr_scheduler, straight_opt)
    reference = _advance(straight, straight_opt, 100, 0)

    first_opt, _ = _optimizers()
    first = RESUMABLE[name](lr_scheduler, first_opt)
    _advance(first, first_opt, 40, 0)
    saved_scheduler = first.state_dict()
    saved_optimizer = first_opt.state_dict()
    _advance(first, first_opt, 10, 40)     # the saved dicts are snapshots: this cannot leak in

    resumed_opt, _ = _optimizers()
    resumed = RESUMABLE[name](lr_scheduler, resumed_opt)
    resumed.load_state_dict(saved_scheduler)
    resumed_opt.load_state_dict(saved_optimizer)
    assert resumed.get_last_lr() == _lrs(resumed_opt) == reference[39]
    assert _advance(resumed, resumed_opt, 60, 40) == reference[40:]


def test_lambda_lr_saves_callable_objects_but_not_plain_functions():
    opt, _ = _optimizers()
    warmup = Warmup(5)
    scheduler = lr_scheduler.LambdaLR(opt, [warmup, lambda epoch: 1.0])
    saved = scheduler.state_dict()
    assert saved["lr_lambdas"] == [{"epochs": 5}, None]
    other_warmup = Warmup(50)
    other = lr_scheduler.LambdaLR(_optimizers()[0], [other_warmup, lambda epoch: 2.0])
    other.load_state_dict(saved)
    assert other_warmup.epochs == 5
    assert "lr_lambdas" in saved


# -- errors -----------------------------------------------------------------------

def test_bad_scheduler_arguments_are_rejected():
    opt, torch_opt = _optimizers()
    with pytest.raises(TypeError, match="StepLR: expected a chainrule.optim Optimizer, got SGD"):
        lr_scheduler.StepLR(torch_opt, step_size=3)
    with pytest.raises(ValueError, match="LambdaLR: lr_lambda has 3 functions but the "
                                         "optimizer has 2 param groups"):
        lr_scheduler.LambdaLR(opt, [lambda e: 1.0] * 3)
    with pytest.raises(TypeError, match="lr_lambda must be callable"):
        lr_scheduler.LambdaLR(opt, 0.5)
    with pytest.raises(ValueError, match="step_size must be a positive int, got 0"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="T_max must be a positive int, got 0"):
        lr_scheduler.CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(ValueError, match=r"last_epoch=4 resumes a schedule, but "
                                         r"param_groups\[0\] has no 'initial_lr'"):
        lr_scheduler.ExponentialLR(opt, gamma=0.9, last_epoch=4)
    with pytest.raises(KeyError):                       # PyTorch refuses it too
        torch.optim.lr_scheduler.ExponentialLR(torch_opt, gamma=0.9, last_epoch=4)


def test_bad_plateau_arguments_are_rejected():
    opt, _ = _optimizers()
    with pytest.raises(ValueError, match="factor must be < 1.0, got 1.5"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max', got 'up'"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="up")
    with pytest.raises(ValueError, match="threshold_mode must be 'rel' or 'abs', got 'pct'"):
        lr_scheduler.ReduceLROnPlateau(opt, threshold_mode="pct")
    with pytest.raises(ValueError, match="min_lr has 3 values but the optimizer has 2"):
        lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.0, 0.0, 0.0])
