"""``chainrule train`` end to end: output, files, resume, and one-line errors."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli.main import main
from chainrule.training import checkpoint as checkpoint_module
from chainrule.training import models, tasks
from chainrule.training.checkpoint import load_checkpoint
from chainrule.training.tasks import CLASSIFICATION, Option, Task, TaskData

TINY = ["--hidden", "8", "--epochs", "2", "--no-progress"]
FINAL = re.compile(r"^test accuracy: \d{1,3}\.\d%$")


def train(args, tmp_path, capsys, out="run"):
    """Run ``chainrule train ARGS --out tmp/out``; return (status, stdout lines, stderr)."""
    status = main(["train", *args, "--out", str(tmp_path / out)])
    captured = capsys.readouterr()
    return status, captured.out.splitlines(), captured.err


def assert_one_line_error(status, err, *fragments):
    assert status == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("chainrule train: error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def table_rows(lines):
    return [line for line in lines if re.match(r"^\s+\d+\s", line)]


def test_digits_run_prints_table_and_final_line_and_saves_files(tmp_path, capsys):
    status, lines, err = train(TINY, tmp_path, capsys)
    assert status == 0, err
    assert lines[0].startswith("chainrule train digits: mlp 64-8-10 (relu), sgd lr 0.1")
    assert lines[1] == "data: 8x8 digits, stratified 80/20 split (seed 0): 1,437 train / 360 test"
    assert lines[2].split() == ["epoch", "train", "loss", "test", "loss", "train", "accuracy",
                                "test", "accuracy", "time"]
    rows = table_rows(lines)
    assert [row.split()[0] for row in rows] == ["1", "2"]
    assert FINAL.match(lines[-1])
    assert lines[-1].split()[-1] == rows[-1].split()[4]          # the last epoch's test column
    assert (tmp_path / "run" / "checkpoint.safetensors").is_file()
    assert (tmp_path / "run" / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert load_checkpoint(tmp_path / "run" / "checkpoint.safetensors").epoch == 2


def test_python_dash_m_runs_the_command(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "chainrule", "train", "xor", "--epochs", "2", "--no-progress",
         "--out", str(tmp_path / "xor")],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "MPLBACKEND": "Agg"})
    assert result.returncode == 0, result.stderr
    assert re.match(r"^accuracy on all 4 patterns: \d{1,3}\.\d%$", result.stdout.splitlines()[-1])
    assert (tmp_path / "xor" / "checkpoint.safetensors").is_file()


def test_python_dash_m_reports_bad_input_in_one_line():
    result = subprocess.run([sys.executable, "-m", "chainrule", "train", "imagenet"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "chainrule train: error: argument TASK: invalid choice: 'imagenet' (choose from "
        + ", ".join(repr(name) for name in tasks.TASKS) + ")"]


def test_default_run_reaches_97_percent(tmp_path, capsys):
    status, lines, err = train(["--no-progress"], tmp_path, capsys)
    assert status == 0, err
    accuracy = float(lines[-1].removeprefix("test accuracy: ").removesuffix("%"))
    assert accuracy >= 97.0, "\n".join(lines)


def weights_and_history(path):
    checkpoint = load_checkpoint(path)
    tensors = {name: value.data for name, value in cr.load(path).items()}
    history = [{k: v for k, v in record.items() if k != "seconds"}
               for record in checkpoint.history]
    return tensors, history


def assert_same_run(path_a, path_b):
    tensors_a, history_a = weights_and_history(path_a)
    tensors_b, history_b = weights_and_history(path_b)
    assert tensors_a.keys() == tensors_b.keys()
    for name in tensors_a:
        np.testing.assert_array_equal(tensors_a[name], tensors_b[name], err_msg=name)
    assert history_a == history_b


def test_resume_after_an_interruption_equals_an_uninterrupted_run(tmp_path, capsys,
                                                                 monkeypatch):
    args = ["--hidden", "8", "--epochs", "3", "--optimizer", "adam", "--no-progress"]
    assert train(args, tmp_path, capsys, out="straight")[0] == 0

    real_save = checkpoint_module.save_checkpoint

    def save_then_interrupt(path, model, optimizer, epoch, history, config):
        real_save(path, model, optimizer, epoch, history, config)
        if epoch == 1:
            raise KeyboardInterrupt
    monkeypatch.setattr(checkpoint_module, "save_checkpoint", save_then_interrupt)
    status, _, err = train(args, tmp_path, capsys, out="interrupted")
    assert status == 130 and "interrupted" in err
    monkeypatch.setattr(checkpoint_module, "save_checkpoint", real_save)
    assert load_checkpoint(tmp_path / "interrupted" / "checkpoint.safetensors").epoch == 1

    status = main(["train", "--resume", str(tmp_path / "interrupted" / "checkpoint.safetensors"),
                   "--no-progress"])
    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert "resumed from" in lines[2] and "after epoch 1" in lines[2]
    assert [row.split()[0] for row in table_rows(lines)] == ["1", "2", "3"]
    assert FINAL.match(lines[-1])
    assert_same_run(tmp_path / "straight" / "checkpoint.safetensors",
                    tmp_path / "interrupted" / "checkpoint.safetensors")


def test_resume_with_more_epochs_continues_a_constant_rate_run(tmp_path, capsys):
    args = ["spirals", "--hidden", "8", "--schedule", "constant", "--optimizer", "sgd",
            "--no-progress"]
    assert train([*args, "--epochs", "2"], tmp_path, capsys, out="straight")[0] == 0
    assert train([*args, "--epochs", "1"], tmp_path, capsys, out="short")[0] == 0
    status = main(["train", "--resume", str(tmp_path / "short" / "checkpoint.safetensors"),
                   "--epochs", "2", "--no-progress"])
    capsys.readouterr()
    assert status == 0
    assert_same_run(tmp_path / "straight" / "checkpoint.safetensors",
                    tmp_path / "short" / "checkpoint.safetensors")


def test_resume_refuses_a_changed_setting_and_a_finished_run(tmp_path, capsys):
    assert train(["xor", "--epochs", "1", "--no-progress"], tmp_path, capsys)[0] == 0
    saved = str(tmp_path / "run" / "checkpoint.safetensors")
    status, _, err = train(["--resume", saved, "--lr", "0.5"], tmp_path, capsys)
    assert_one_line_error(status, err, "--lr 0.5 differs from the checkpoint's 0.1",
                          "only --epochs may change")
    status, _, err = train(["--resume", saved], tmp_path, capsys)
    assert_one_line_error(status, err, "already holds 1 epochs", "--epochs N with N > 1")
    status, _, err = train(["digits", "--resume", saved, "--epochs", "3"], tmp_path, capsys)
    assert_one_line_error(status, err, "is a checkpoint of task 'xor', not 'digits'")


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all", b"\x80\x04pickle"])
def test_corrupt_checkpoint_is_refused_and_left_intact(tmp_path, capsys, content):
    path = tmp_path / "run" / "checkpoint.safetensors"
    path.parent.mkdir()
    path.write_bytes(content)
    status, _, err = train(["--resume", str(path), "--no-progress"], tmp_path, capsys)
    assert_one_line_error(status, err, "cannot resume", str(path))
    assert path.read_bytes() == content
    assert sorted(os.listdir(path.parent)) == ["checkpoint.safetensors"]


def test_truncated_checkpoint_is_refused_and_left_intact(tmp_path, capsys):
    assert train(["xor", "--epochs", "1", "--no-progress"], tmp_path, capsys)[0] == 0
    path = tmp_path / "run" / "checkpoint.safetensors"
    truncated = path.read_bytes()[:-10]
    path.write_bytes(truncated)
    status, _, err = train(["--resume", str(path), "--epochs", "2"], tmp_path, capsys)
    assert_one_line_error(status, err, "cannot resume", "truncated")
    assert path.read_bytes() == truncated


def test_missing_checkpoint_is_one_line(tmp_path, capsys):
    status, _, err = train(["--resume", str(tmp_path / "nope.safetensors")], tmp_path, capsys)
    assert_one_line_error(status, err, "cannot resume from", "no such file or directory")


def test_missing_mnist_says_where_the_files_are_expected(tmp_path, capsys):
    status, _, err = train(["mnist", "--root", str(tmp_path / "mnist")], tmp_path, capsys)
    assert_one_line_error(status, err, "MNIST files not found", "train-images-idx3-ubyte",
                          f"in {tmp_path / 'mnist'} or {tmp_path / 'mnist' / 'MNIST' / 'raw'}")


def test_unknown_task_is_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "cifar"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert_one_line_error(2, err, "invalid choice: 'cifar'")


def test_nan_loss_stops_and_says_where_and_what_to_try(tmp_path, capsys):
    status, lines, err = train(["--hidden", "8", "--epochs", "2", "--lr", "1e20",
                                "--no-progress"], tmp_path, capsys)
    assert_one_line_error(status, err, "the loss became nan at epoch 1, step",
                          "no checkpoint was written", "lower learning rate (--lr 1e+20 now)",
                          "--detect-anomaly")
    assert table_rows(lines) == []


def test_detect_anomaly_names_the_operation(tmp_path, capsys):
    status, _, err = train(["--hidden", "8", "--epochs", "2", "--lr", "1e20",
                            "--detect-anomaly", "--no-progress"], tmp_path, capsys)
    assert_one_line_error(status, err, "detect_anomaly: ", "produced", "(epoch 1, step")


@pytest.mark.parametrize("args, fragments", [
    (["xor", "--root", "data"], ["--root applies to mnist only, not to xor"]),
    (["--optimizer", "adam", "--momentum", "0.9"], ["--momentum applies to sgd and rmsprop"]),
    (["--hidden", "8", "0"], ["hidden sizes must be positive"]),
    (["--epochs", "0"], ["--epochs must be at least 1, got 0"]),
    (["--batch-size", "0"], ["--batch-size must be at least 1, got 0"]),
    (["--lr", "-1"], ["--lr must be positive, got -1.0"]),
    (["symmetry", "--optimizer", "adam"], ["symmetry reproduces the 1986 experiment",
                                           "--optimizer adam does not apply"]),
    (["symmetry", "--hidden", "2", "2"], ["symmetry has one hidden layer"]),
    (["symmetry", "--seeds", "0"], ["--seeds must be at least 1"]),
])
def test_bad_options_are_one_line(tmp_path, capsys, args, fragments):
    status, _, err = train([*args, "--no-progress"], tmp_path, capsys)
    assert_one_line_error(status, err, *fragments)


def test_monitor_reports_each_layer_and_saves_its_plot(tmp_path, capsys):
    status, lines, _ = train(["--hidden", "8", "--epochs", "1", "--monitor", "--no-progress"],
                             tmp_path, capsys)
    assert status == 0
    header = next(line for line in lines if line.startswith("layer"))
    assert "grad_norm" in header and "update_ratio" in header
    assert any(line.startswith("layers.0 ") for line in lines)
    assert any(line.startswith("layers.2 ") for line in lines)
    assert list(tmp_path.rglob("gradients.png"))


def test_another_optimizer_brings_its_own_learning_rate(tmp_path, capsys):
    status, lines, _ = train(["--optimizer", "adam", "--epochs", "1", "--hidden", "8",
                              "--no-progress"], tmp_path, capsys)
    assert status == 0
    assert "adam lr 0.001 (cosine)" in lines[0]


def test_missing_extras_are_notes_and_the_run_goes_on(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    status, lines, err = train(["--hidden", "8", "--epochs", "1"], tmp_path, capsys)
    assert status == 0
    assert FINAL.match(lines[-1])
    notes = err.strip().splitlines()
    assert len(notes) == 2 and all("pip install 'chainrule[all]'" in n for n in notes)
    assert "progress bars need tqdm" in notes[0] and "skipped curves.png" in notes[1]
    assert (tmp_path / "run" / "checkpoint.safetensors").is_file()
    assert not (tmp_path / "run" / "curves.png").exists()


def test_symmetry_with_a_known_seed_solves(tmp_path, capsys):
    status, lines, err = train(["symmetry", "--seed", "6"], tmp_path, capsys)
    assert status == 0, err
    assert re.match(r"^solved: yes, in [\d,]+ sweeps$", lines[-1])
    text = "\n".join(lines)
    assert "learned weights of seed 6" in text and "hidden 2" in text
    assert (tmp_path / "run" / "weights.safetensors").is_file()
    assert (tmp_path / "run" / "errors.png").is_file()


def test_symmetry_over_several_seeds_reports_count_and_median(tmp_path, capsys):
    status, lines, _ = train(["symmetry", "--seeds", "3", "--seed", "5", "--epochs", "3000"],
                             tmp_path, capsys)
    assert status == 0
    match = re.match(r"^solved: (\d)/3 seeds(, median ([\d,]+(\.5)?) sweeps)?$", lines[-1])
    assert match, lines[-1]
    rows = [line.split() for line in lines if re.match(r"^\s+\d+\s+(yes|no)\s", line)]
    assert sorted(int(r[0]) for r in rows) == [5, 6, 7]
    solved = sorted(int(r[2].replace(",", "")) for r in rows if r[1] == "yes")
    assert int(match.group(1)) == len(solved)
    if solved:
        assert float(match.group(3).replace(",", "")) == np.median(solved)


@pytest.fixture
def registries():
    """The task and model registries, restored after the test."""
    saved = dict(tasks.TASKS), dict(models.MODELS)
    yield
    for registry, entries in zip((tasks.TASKS, models.MODELS), saved):
        registry.clear()
        registry.update(entries)


def test_a_registered_task_and_model_are_trainable(tmp_path, capsys, registries):
    """The extension point: a task and a model registered later appear as choices,
    bring their own options, and train through the same loop."""
    from chainrule.data import TensorDataset
    from chainrule.training.models import MLP, ModelSpec

    rng = np.random.default_rng(0)
    points = rng.standard_normal((40, 2)).astype(np.float32)
    labels = (points[:, 0] > 0).astype(np.int64)
    half = TensorDataset(cr.from_numpy(points), cr.from_numpy(labels))
    seen = {}

    def load(config):
        seen["scale"] = config["scale"]
        return TaskData(half, half, "half planes: 40 points")

    tasks.register_task(Task(name="halves", help="left or right", load=load,
                             objective=CLASSIFICATION, outputs=2,
                             defaults={"model": "linear", "epochs": 2, "scale": 1.0},
                             options=(Option(("--scale",), {"type": float}),)))
    models.register_model(ModelSpec(
        name="linear", help="no hidden layer",
        build=lambda shape, outputs, config: MLP(shape[0], [], outputs),
        describe=lambda shape, outputs, config: "linear"))
    status, lines, err = train(["halves", "--scale", "2", "--no-progress"], tmp_path, capsys)
    assert status == 0, err
    assert lines[0].startswith("chainrule train halves: linear, adam lr 0.001")
    assert seen["scale"] == 2.0
    assert FINAL.match(lines[-1])
    status, _, err = train(["digits", "--scale", "2"], tmp_path, capsys)
    assert_one_line_error(status, err, "--scale applies to halves only")


def test_mnist_images_train_through_the_mlp(tmp_path, capsys):
    """A tiny stand-in for MNIST (IDX files of random pixels): 1x28x28 inputs are
    flattened by the MLP and the run ends with the test accuracy."""
    import gzip
    rng = np.random.default_rng(0)
    root = tmp_path / "mnist"
    root.mkdir()
    for prefix, n in (("train", 20), ("t10k", 10)):
        for kind, magic, shape in (("images", 2051, (n, 28, 28)), ("labels", 2049, (n,))):
            array = rng.integers(0, 256 if kind == "images" else 10, shape).astype(np.uint8)
            header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in shape)
            with gzip.open(root / f"{prefix}-{kind}-idx{len(shape)}-ubyte.gz", "wb") as f:
                f.write(header + array.tobytes())
    status, lines, err = train(["mnist", "--root", str(root), *TINY], tmp_path, capsys)
    assert status == 0, err
    assert lines[0].startswith("chainrule train mnist: mlp 784-8-10 (relu)")
    assert lines[1] == f"data: MNIST from {root}: 20 train / 10 test (its own split)"
    assert FINAL.match(lines[-1])
