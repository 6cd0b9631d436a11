"""One-file checkpoints: model, optimiser state (arrays as tensors, the rest as JSON),
epoch, history, settings and the global generator, restored exactly."""
import json
import struct

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from chainrule.random import default_generator
from chainrule.serialization import CheckpointError
from chainrule.training.checkpoint import FORMAT, load_checkpoint, save_checkpoint
from chainrule.training.models import MLP

CONFIG = {"task": "digits", "hidden": [5], "lr": 0.01}


def trained(optimizer_class, seed=0, steps=3, **options):
    """An MLP and its optimiser after ``steps`` steps on random data."""
    cr.manual_seed(seed)
    model = MLP(4, [5], 3)
    optimizer = optimizer_class(model.parameters(), **options)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        x = cr.tensor(rng.standard_normal((8, 4)).astype(np.float32))
        loss = (model(x) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model, optimizer


def history(epochs):
    return [{"epoch": e, "train_loss": 1 / e, "test_metric": 0.1 * e}
            for e in range(1, epochs + 1)]


@pytest.mark.parametrize("optimizer_class, options", [
    (optim.SGD, {"lr": 0.1, "momentum": 0.9}),
    (optim.Adam, {"lr": 1e-3, "betas": (0.8, 0.99), "amsgrad": True}),
    (optim.RMSprop, {"lr": 1e-3, "momentum": 0.5}),
    (optim.Adagrad, {"lr": 1e-2}),
])
def test_round_trip_restores_model_optimizer_and_generator(tmp_path, optimizer_class, options):
    model, optimizer = trained(optimizer_class, **options)
    cr.manual_seed(123)
    default_generator().random(7)           # a generator part-way through its stream
    path = tmp_path / "run.safetensors"
    save_checkpoint(path, model, optimizer, 2, history(2), CONFIG)
    expected_draws = default_generator().random(5)

    checkpoint = load_checkpoint(path)
    assert checkpoint.epoch == 2
    assert checkpoint.history == history(2)
    assert checkpoint.config == CONFIG

    fresh_model, fresh_optimizer = trained(optimizer_class, seed=1, steps=1, **options)
    checkpoint.restore_model(fresh_model)
    checkpoint.restore_optimizer(fresh_optimizer)
    for (name, a), (_, b) in zip(model.state_dict().items(), fresh_model.state_dict().items()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)
    saved, restored = optimizer.state_dict(), fresh_optimizer.state_dict()
    assert saved["param_groups"] == restored["param_groups"]
    assert type(restored["param_groups"][0].get("betas", ())) is tuple
    assert saved["state"].keys() == restored["state"].keys()
    for index, entries in saved["state"].items():
        assert entries.keys() == restored["state"][index].keys()
        for key, value in entries.items():
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(value, restored["state"][index][key])
                assert value.dtype == restored["state"][index][key].dtype
            else:
                assert type(value) is type(restored["state"][index][key])
                assert value == restored["state"][index][key]

    cr.manual_seed(999)
    checkpoint.restore_rng()
    np.testing.assert_array_equal(default_generator().random(5), expected_draws)


def test_optimizer_arrays_are_tensors_and_the_rest_is_json(tmp_path):
    model, optimizer = trained(optim.Adam, lr=1e-3)
    path = tmp_path / "run.safetensors"
    save_checkpoint(path, model, optimizer, 1, history(1), CONFIG)
    tensors = cr.load(path)
    assert {n for n in tensors if n.startswith("model.")} == \
        {"model." + n for n in model.state_dict()}
    assert "optimizer.state.0.exp_avg" in tensors and "optimizer.state.3.exp_avg_sq" in tensors
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        metadata = json.loads(f.read(length))["__metadata__"]
    assert metadata["format"] == FORMAT and metadata["epoch"] == "1"
    state = json.loads(metadata["optimizer"])["state"]
    assert state["0"] == {"step": 3}


def test_a_continued_run_matches_an_uninterrupted_one(tmp_path):
    """Save after 2 steps, restore into fresh objects, take 2 more: the same
    weights, bit for bit, as 4 steps straight."""
    straight, _ = trained(optim.Adam, steps=4, lr=1e-2)
    model, optimizer = trained(optim.Adam, steps=2, lr=1e-2)
    save_checkpoint(tmp_path / "c.safetensors", model, optimizer, 2, history(2), CONFIG)
    checkpoint = load_checkpoint(tmp_path / "c.safetensors")
    cr.manual_seed(5)
    resumed = MLP(4, [5], 3)
    resumed_optimizer = optim.Adam(resumed.parameters(), lr=1e-2)
    checkpoint.restore_model(resumed)
    checkpoint.restore_optimizer(resumed_optimizer)
    rng = np.random.default_rng(0)
    for step in range(4):
        x = cr.tensor(rng.standard_normal((8, 4)).astype(np.float32))
        if step < 2:
            continue                       # the batches the first two steps saw
        loss = (resumed(x) ** 2).mean()
        resumed_optimizer.zero_grad()
        loss.backward()
        resumed_optimizer.step()
    for a, b in zip(straight.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_not_a_checkpoint_is_refused_with_the_reason(tmp_path):
    plain = tmp_path / "weights.safetensors"
    cr.save({"w": cr.zeros(2)}, plain)
    with pytest.raises(CheckpointError, match="not a chainrule train checkpoint"):
        load_checkpoint(plain)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"definitely not safetensors")
    with pytest.raises(CheckpointError, match="garbage.safetensors"):
        load_checkpoint(garbage)


def test_damaged_metadata_is_refused(tmp_path):
    path = tmp_path / "damaged.safetensors"
    cr.save({"model.w": cr.zeros(2)}, path,
            metadata={"format": FORMAT, "epoch": "2", "config": "{}", "history": "[oops",
                      "optimizer": "{}", "rng": "{}"})
    with pytest.raises(CheckpointError, match="'history' metadata is damaged"):
        load_checkpoint(path)
    cr.save({"model.w": cr.zeros(2)}, path,
            metadata={"format": FORMAT, "epoch": "3", "config": "{}", "history": "[]",
                      "optimizer": "{}", "rng": "{}"})
    with pytest.raises(CheckpointError, match="3 epochs were run but holds 0 epochs"):
        load_checkpoint(path)
    cr.save({"model.w": cr.zeros(2)}, path, metadata={"format": FORMAT})
    with pytest.raises(CheckpointError, match="lacks 'epoch'"):
        load_checkpoint(path)


def test_a_model_of_another_shape_is_refused(tmp_path):
    model, optimizer = trained(optim.SGD, lr=0.1)
    save_checkpoint(tmp_path / "c.safetensors", model, optimizer, 1, history(1), CONFIG)
    checkpoint = load_checkpoint(tmp_path / "c.safetensors")
    with pytest.raises(CheckpointError, match="does not fit the one built from its settings"):
        checkpoint.restore_model(MLP(4, [6], 3))
