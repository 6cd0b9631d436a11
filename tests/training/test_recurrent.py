"""The recurrent models of ``chainrule train``, the adding problem, the
gradient diagnosis and the text task: tiny runs end to end, the pieces
against torch, and one-line errors."""
import json
import re

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.training.recurrent as recurrent
from chainrule.cli.main import main
from chainrule.data.datasets import adding_problem
from chainrule.nn.layers.rnn import RNN
from chainrule.training import MODELS, ModelError, TASKS
from chainrule.training.tasks import task_defaults
from nn.nn_oracle import assert_close, copy_weights, to_torch

ADDING_TINY = ["adding", "--seq-len", "8", "--epochs", "2", "--epoch-size", "64",
               "--hidden", "8"]


def train(args, tmp_path, capsys):
    status = main(["train", *args, "--out", str(tmp_path / "run")])
    captured = capsys.readouterr()
    return status, captured.out.splitlines(), captured.err


def assert_one_line_error(status, err, *fragments):
    assert status == 2 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def config(task, **overrides):
    return {"task": task, **task_defaults(TASKS[task]), **overrides}


# -- the models ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_models_read_sequences_and_images_row_by_row(kind, rng):
    settings = config("adding", hidden=[5, 5])
    sequences = MODELS[kind].build((7, 3), 2, settings)
    assert sequences.rnn.num_layers == 2 and sequences.rnn.batch_first
    assert sequences(cr.tensor(rng.standard_normal((4, 7, 3)).astype(np.float32))).shape == (4, 2)
    images = MODELS[kind].build((2, 6, 4), 10, settings)        # 6 rows of 2 x 4 numbers
    x = rng.standard_normal((3, 2, 6, 4)).astype(np.float32)
    rows = np.ascontiguousarray(x.transpose(0, 2, 1, 3).reshape(3, 6, 8))
    np.testing.assert_allclose(images(cr.tensor(x)).data,
                               images.head(images.rnn(cr.tensor(rows))[0][:, -1]).data)
    assert MODELS[kind].describe((7, 3), 2, settings).startswith(f"{kind} 3-5-2 (2 layers, ")


@pytest.mark.parametrize("shape, hidden, match", [
    ((64,), [8], r"lstm: needs a sequence per sample, .* have shape \(64,\)"),
    ((5, 2), [8, 4], r"lstm: --hidden gives the size of each stacked layer"),
])
def test_models_refuse_what_they_cannot_build(shape, hidden, match):
    with pytest.raises(ModelError, match=match):
        MODELS["lstm"].build(shape, 1, config("adding", hidden=hidden))


def test_forget_bias_sets_the_forget_gate_of_every_layer():
    model = MODELS["lstm"].build((5, 2), 1, config("adding", hidden=[4, 4], forget_bias=2.5))
    for layer in (0, 1):
        b_ih = getattr(model.rnn, f"bias_ih_l{layer}").data
        b_hh = getattr(model.rnn, f"bias_hh_l{layer}").data
        np.testing.assert_array_equal(b_ih[4:8] + b_hh[4:8], 2.5)
        assert np.abs(b_ih[:4]).max() < 0.5        # the other gates keep PyTorch's init


def test_rnn_takes_the_activation_setting():
    model = MODELS["rnn"].build((5, 2), 1, config("adding", activation="relu"))
    assert model.rnn.nonlinearity == "relu"
    with pytest.raises(ModelError, match="rnn: --activation must be tanh or relu, got gelu"):
        MODELS["rnn"].build((5, 2), 1, config("adding", activation="gelu"))


# -- the adding problem ----------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["lstm", "gru", "rnn"])
def test_adding_run_prints_table_and_final_line_and_saves_files(model, tmp_path, capsys):
    status, lines, err = train(ADDING_TINY + ["--model", model], tmp_path, capsys)
    assert status == 0, err
    assert lines[0].startswith(f"chainrule train adding: {model} 2-8-1 (")
    assert "T = 8: 64 fresh sequences per epoch" in lines[1]
    assert "baseline (a constant answer): MSE 1/24 = 0.0417, 15.4% correct" in lines[1]
    rows = [line for line in lines if re.match(r"^\s+\d+\s", line)]
    assert 1 <= len(rows) <= 2
    assert re.match(r"^test correct: \d{1,3}\.\d%$", lines[-1])
    assert lines[-1].split()[-1] == rows[-1].split()[4]
    assert any(line.startswith(("not solved:", "solved after")) for line in lines)
    assert (tmp_path / "run" / "curves.png").read_bytes()[:4] == b"\x89PNG"
    weights = cr.load(tmp_path / "run" / "model.safetensors")
    assert "rnn.weight_hh_l0" in weights and "head.weight" in weights


def test_adding_stops_when_solved_and_reports_the_sequences_used(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(recurrent, "SOLVED", 0.0)      # any result counts as solved
    status, lines, err = train(ADDING_TINY + ["--variant", "sum"], tmp_path, capsys)
    assert status == 0, err
    assert len([line for line in lines if re.match(r"^\s+\d+\s", line)]) == 1
    assert "solved after 64 training sequences (test MSE " in "\n".join(lines)
    assert "MSE 1/6 = 0.167" in lines[1]


def test_adding_data_do_not_depend_on_the_seed():
    """Epoch e always trains on the same sequences, so seeds compare on equal data."""
    first = adding_problem(4, 8, seed=recurrent.epoch_data_seed(3)).tensors[0].data
    again = adding_problem(4, 8, seed=recurrent.epoch_data_seed(3)).tensors[0].data
    other = adding_problem(4, 8, seed=recurrent.epoch_data_seed(4)).tensors[0].data
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_the_correct_metric_counts_errors_below_0_04():
    output = cr.tensor(np.array([[0.5], [0.539], [0.461], [0.45], [0.56]]))
    target = cr.tensor(np.full((5, 1), 0.5))
    assert recurrent.ADDING.metric(output, target) == 3


@pytest.mark.parametrize("args, fragments", [
    (["adding", "--model", "mlp"], ["adding: needs a recurrent model", "got mlp"]),
    (["adding", "--seq-len", "5"], ["--seq-len must be at least 6 for the 1997 variant"]),
    (["adding", "--epoch-size", "0"], ["--epoch-size must be positive"]),
    (["digits", "--seq-len", "5"], ["--seq-len applies to adding only"]),
])
def test_adding_bad_settings_are_one_line_errors(args, fragments, tmp_path, capsys):
    status, _, err = train(args, tmp_path, capsys)
    assert_one_line_error(status, err, *fragments)


# -- gradients against time ---------------------------------------------------------------------------
def test_hidden_gradient_norms_match_torch(rng):
    """||dL/dh_t|| through the step-by-step loop equals torch's retain_grad on
    each hidden state of a step-by-step nn.RNN."""
    ours = RNN(2, 5, batch_first=True).double()
    theirs = torch.nn.RNN(2, 5, batch_first=True).double()
    copy_weights(ours, theirs)
    head, their_head = cr.nn.Linear(5, 1).double(), torch.nn.Linear(5, 1).double()
    copy_weights(head, their_head)
    x, y = rng.standard_normal((3, 6, 2)), rng.standard_normal((3, 1))
    norms = recurrent.hidden_gradient_norms(ours, head, cr.tensor(x), cr.tensor(y))
    state, hs = None, []
    for t in range(6):
        _, state = theirs(to_torch(x[:, t:t + 1]), state)
        state.retain_grad()
        hs.append(state)
    torch.nn.functional.mse_loss(their_head(hs[-1][-1]), to_torch(y)).backward()
    expected = [h.grad.norm(dim=(0, 2)).mean().item() for h in hs]
    assert_close(norms, np.array(expected))


@pytest.mark.parametrize("radius", [0.5, 2.0])
def test_gradients_shrink_or_grow_like_the_spectral_radius_to_the_power_of_the_lag(radius,
                                                                                    rng):
    """Near zero (tiny inputs, no biases) tanh is linear, dL/dh_t = (W^T)^(T-t)
    dL/dh_T, and the norm ratio follows radius^(T-1): the teaching texts'
    0.9^100 and 1.1^100, here 0.5^7 and 2^7."""
    cr.manual_seed(0)
    layer = RNN(2, 8, batch_first=True, bias=False).double()
    w = layer.weight_hh_l0
    w.data *= radius / np.abs(np.linalg.eigvals(w.data)).max()
    head = cr.nn.Linear(8, 1).double()
    x = cr.tensor(1e-4 * rng.standard_normal((4, 8, 2)))
    norms = recurrent.hidden_gradient_norms(layer, head, x, cr.tensor(np.ones((4, 1))))
    assert radius ** 7 / 4 < norms[0] / norms[-1] < radius ** 7 * 4


def test_clipping_bounds_the_first_update_of_the_exploding_network():
    _, _, updates = recurrent.gradient_profiles(config("adding", seq_len=40))
    unclipped, clipped = updates.values()
    assert len(clipped) == recurrent.CLIP_STEPS
    assert clipped[0] == pytest.approx(recurrent.CLIP_LR * recurrent.CLIP_NORM, rel=1e-6)
    assert unclipped[0] > 10 * clipped[0]


def test_diagnose_prints_the_arithmetic_and_saves_the_plot(tmp_path, capsys):
    status, lines, err = train(["adding", "--diagnose", "--seq-len", "12", "--hidden", "6"],
                               tmp_path, capsys)
    assert status == 0, err
    text = "\n".join(lines)
    assert f"0.9^12 = {0.9 ** 12:.3g}" in text and f"1.1^12 = {1.1 ** 12:.1f}" in text
    for label in ("rnn (tanh)", "lstm (PyTorch's init)", "lstm (forget-gate bias 3)",
                  "rnn, W_hh scaled to spectral radius 2"):
        assert label in text
    assert lines[-1].startswith("dL/dh_1 relative to dL/dh_T: rnn (tanh) ")
    assert (tmp_path / "run" / "gradients.png").read_bytes()[:4] == b"\x89PNG"


# -- the text task -----------------------------------------------------------------------------------
@pytest.fixture
def small_text(tmp_path):
    path = tmp_path / "small.txt"
    path.write_text("the cat sat on the mat. " * 40, encoding="utf-8")
    return path


TEXT_TINY = ["--epochs", "2", "--hidden", "8", "--embedding", "4", "--k1", "8",
             "--batch-size", "4", "--sample-length", "12"]


def test_text_run_prints_perplexity_and_samples(small_text, tmp_path, capsys):
    status, lines, err = train(["text", "--file", str(small_text), *TEXT_TINY], tmp_path, capsys)
    assert status == 0, err
    assert lines[0].startswith("chainrule train text: lstm 8 on a 4-d embedding of 11 "
                               "characters")
    assert "truncated BPTT (k1 8, k2 8)" in lines[0]
    samples = [line for line in lines if line.startswith("sample: ")]
    assert len(samples) == 2
    for line in samples:
        sample = eval(line[len("sample: "):])      # the repr of a str
        assert sample.startswith("t") and len(sample) == 13 and set(sample) <= set("the catsonm.")
    rows = [line for line in lines if re.match(r"^\s+\d+\s", line)]
    assert [row.split()[0] for row in rows] == ["1", "2"]
    for row in rows:
        loss, perplexity = float(row.split()[2]), float(row.split()[4])
        assert perplexity == pytest.approx(np.exp(loss), rel=1e-2)
    assert re.match(r"^test perplexity: \d+\.\d\d$", lines[-1])
    saved = (tmp_path / "run" / "model.safetensors")
    assert saved.is_file()
    header = json.loads(saved.read_bytes()[8:8 + int.from_bytes(saved.read_bytes()[:8],
                                                                    "little")])
    assert json.loads(header["__metadata__"]["vocabulary"]) == sorted(set("the cat sat on mat."))


def test_text_learns_a_repeating_text(tmp_path, capsys):
    path = tmp_path / "abc.txt"
    path.write_text("abcd" * 300, encoding="utf-8")
    status, lines, err = train(["text", "--file", str(path), "--epochs", "4", "--hidden", "16",
                                "--embedding", "4", "--k1", "10", "--batch-size", "4",
                                "--sample-length", "8", "--lr", "0.03", "--prompt", "ab"],
                               tmp_path, capsys)
    assert status == 0, err
    assert float(lines[-1].split()[-1]) < 1.5       # from 4 (uniform) to almost certain


def test_held_out_loss_in_chunks_equals_one_pass(rng):
    model = recurrent.CharModel("gru", 5, config("text", hidden=[6], embedding=3)).double()
    ids = rng.integers(0, 5, size=80)
    inputs, targets = recurrent.streams(ids, 3)
    assert inputs.shape == (3, 26)
    np.testing.assert_array_equal(inputs.data[:, 1:], targets.data[:, :-1])
    scores, _ = model(inputs)
    whole = recurrent._next_char_loss(scores, targets).item()
    assert recurrent.held_out_loss(model, inputs, targets, k1=7) == pytest.approx(whole,
                                                                                  rel=1e-12)


@pytest.mark.parametrize("setup, args, fragments", [
    (None, [], ["say which file to learn with --file PATH"]),
    ("missing", [], ["does not exist"]),
    ("short", [], ["has 10 characters; with --batch-size 32 it needs at least 640"]),
    ("latin1", [], ["is not UTF-8 text"]),
    ("good", ["--model", "mlp"], ["text: needs a recurrent model"]),
    ("good", ["--prompt", "xyz"], ["the --prompt must be made of characters the file holds"]),
    ("good", ["--temperature", "0"], ["--temperature must be positive"]),
])
def test_text_bad_input_is_a_one_line_error(setup, args, fragments, tmp_path, capsys):
    path = tmp_path / "input.txt"
    if setup == "short":
        path.write_text("0123456789", encoding="utf-8")
    elif setup == "latin1":
        path.write_bytes("café ".encode("latin-1") * 200)
    elif setup == "good":
        path.write_text("the cat sat on the mat. " * 40, encoding="utf-8")
    file_args = [] if setup is None else ["--file", str(path)]
    status, _, err = train(["text", *file_args, *args, "--batch-size", "32"], tmp_path, capsys)
    assert_one_line_error(status, err, *fragments)
