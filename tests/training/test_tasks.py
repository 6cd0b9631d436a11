"""The task registry and the built-in tasks' data, objectives and defaults."""
import gzip

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
from chainrule.training import tasks
from chainrule.training.tasks import (
    BINARY, CLASSIFICATION, COMMON_DEFAULTS, TASKS, DataError, Option, Task, TaskData,
    input_features, register_task, sample_shape, task_defaults)


def test_builtin_tasks_are_registered():
    assert {"digits", "mnist", "xor", "spirals", "moons", "symmetry"} <= set(TASKS)


def test_digits_is_the_stratified_80_20_split():
    data = TASKS["digits"].load({})
    assert (len(data.train), len(data.test)) == (1437, 360)
    assert "1,437 train / 360 test" in data.description and "stratified" in data.description
    labels = data.test.tensors[1].data
    assert np.bincount(labels, minlength=10).min() >= 35      # every class in the test set
    assert sample_shape(data.train) == (64,) and input_features((64,)) == 64


@pytest.mark.parametrize("name, size, classes", [("spirals", 300, 2), ("moons", 200, 2)])
def test_generated_tasks_test_on_fresh_points(name, size, classes):
    data = TASKS[name].load({})
    assert len(data.train) == len(data.test) == size
    assert not np.array_equal(data.train.tensors[0].data, data.test.tensors[0].data)
    assert set(np.unique(data.train.tensors[1].data)) == set(range(classes))
    assert TASKS[name].outputs == classes


def test_xor_is_fit_on_its_four_patterns():
    data = TASKS["xor"].load({})
    assert data.test is None and len(data.train) == 4
    assert TASKS["xor"].objective is BINARY and TASKS["xor"].outputs == 1


def test_missing_mnist_says_where_the_files_are_expected(tmp_path):
    with pytest.raises(DataError, match=rf"train-images-idx3-ubyte.*in {tmp_path} or "
                                        rf"{tmp_path / 'MNIST' / 'raw'}"):
        TASKS["mnist"].load({"root": str(tmp_path)})


def write_idx(path, magic, array):
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_mnist_reads_idx_files_from_root(tmp_path):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 6), ("t10k", 4)):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", 2051,
                  rng.integers(0, 256, (n, 28, 28)))
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", 2049, rng.integers(0, 10, n))
    data = TASKS["mnist"].load({"root": str(tmp_path)})
    assert (len(data.train), len(data.test)) == (6, 4)
    assert sample_shape(data.train) == (1, 28, 28)


def test_damaged_mnist_is_a_data_error(tmp_path):
    for prefix in ("train", "t10k"):
        (tmp_path / f"{prefix}-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03bad")
        (tmp_path / f"{prefix}-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01bad")
    with pytest.raises(DataError, match="MNIST files in .* are unusable"):
        TASKS["mnist"].load({"root": str(tmp_path)})


def test_objectives_match_torch():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((6, 4))
    labels = rng.integers(0, 4, 6)
    loss = CLASSIFICATION.loss(cr.tensor(logits), cr.tensor(labels))
    expected = TF.cross_entropy(torch.from_numpy(logits), torch.from_numpy(labels))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    assert CLASSIFICATION.metric(cr.tensor(logits), cr.tensor(labels)) == \
        (logits.argmax(1) == labels).sum()

    one = rng.standard_normal((6, 1))
    targets = rng.integers(0, 2, (6, 1)).astype(np.float64)
    loss = BINARY.loss(cr.tensor(one), cr.tensor(targets))
    expected = TF.binary_cross_entropy_with_logits(torch.from_numpy(one),
                                                   torch.from_numpy(targets))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    assert BINARY.metric(cr.tensor(one), cr.tensor(targets)) == ((one > 0) == targets).sum()
    assert CLASSIFICATION.format(0.9784) == "97.8%"


def test_task_defaults_layer_over_the_common_ones():
    settings = task_defaults(TASKS["xor"])
    assert settings["activation"] == "tanh" and settings["model"] == COMMON_DEFAULTS["model"]
    assert task_defaults(TASKS["mnist"])["root"] == "data"


def toy_task(name="toy", **changes):
    fields = dict(name=name, help="a toy", objective=CLASSIFICATION, outputs=2,
                  load=lambda config: TaskData(None, None, "toy"))
    fields.update(changes)
    return Task(**fields)


def test_register_task_adds_a_choice_and_refuses_a_duplicate(monkeypatch):
    monkeypatch.setattr(tasks, "TASKS", dict(TASKS))
    register_task(toy_task())
    assert "toy" in tasks.TASKS
    with pytest.raises(ValueError, match="a task named 'toy' is already registered"):
        register_task(toy_task())


def test_register_task_checks_its_fields(monkeypatch):
    monkeypatch.setattr(tasks, "TASKS", dict(TASKS))
    with pytest.raises(ValueError, match="'bad' needs load, objective and outputs"):
        register_task(toy_task("bad", load=None))
    with pytest.raises(ValueError, match=r"defaults for unknown settings \['widht'\]"):
        register_task(toy_task("typo", defaults={"widht": 3}))
    register_task(toy_task("with_option", defaults={"width": 3},
                           options=(Option(("--width",), {"type": int}),)))
    assert Option(("--max-len",), {}).dest == "max_len"
