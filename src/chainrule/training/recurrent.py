"""Recurrent networks in ``chainrule train``: the models ``rnn``, ``lstm`` and
``gru``, the adding problem, the gradient-against-time diagnosis and a
character-level language model.

``chainrule train adding --model lstm|gru|rnn --seq-len T`` is experiment 4
of Hochreiter & Schmidhuber (1997), "Long Short-Term Memory" (variants in
``chainrule.data.datasets.adding``): two marked numbers among T, their sum
to be given after the last step. Every epoch trains on ``--epoch-size``
*fresh* sequences, as the paper's online training did, so the count of
sequences seen is the measure of how much training a model needed; the test
set is fixed (2,560 sequences, the paper's number). A prediction is correct
when its error is below 0.04 (the paper's criterion); the task counts as
solved at the first epoch with at least 95% of the test set correct, where
the run stops and reports the sequences used (the paper: 74,000 at T = 100).
Baselines: always predicting the mean target scores MSE 1/24 = 0.0417 and
15.4% correct ("1997"), MSE 1/6 ("sum").

The LSTM of 1997 had no forget gate: its cell kept its content exactly
(f = 1). PyTorch's LSTM initialises the forget gate's bias around 0, so its
cells start out halving their content at every step (sigmoid(0) = 1/2) and the
gradient from a marker 50 steps back is about 0.5^50 ~ 1e-15: at T = 100 it
sits on the baseline plateau. ``--forget-bias b`` (default 3 here, so f starts
at sigmoid(3) = 0.95; Gers, Schmidhuber & Cummins 2000 and Jozefowicz et al.
2015 recommend a positive one) sets that bias at initialisation.

``chainrule train adding --diagnose`` trains nothing: it measures
||dL/dh_t|| against t for fresh networks and saves ``gradients.png``
(vanishing in the vanilla RNN, kept by the LSTM; exploding with a scaled-up
recurrent weight, and ``clip_grad_norm_`` taming the update).

``chainrule train text --file F --model lstm`` trains a character-level
language model on any text file with truncated BPTT (``nn.bptt``), printing
the perplexity of a held-out tenth after each epoch and a sample of text.
"""
import json
import math
import time
from pathlib import Path

import numpy as np

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from .. import optim
from ..autograd.grad_mode import no_grad
from ..data.datasets import adding_problem
from ..nn.bptt import truncated_bptt
from ..nn.layers.rnn import GRU, LSTM, RNN
from ..nn.utils import clip_grad_norm_
from .loop import TrainingStopped, evaluate, train_epoch
from .models import MODELS, ModelError, ModelSpec, register_model
from .optimizers import build_optimizer, describe_optimizer, scheduled_lr
from .plots import MissingMatplotlib, plot_curves
from .progress import progress_bars
from .report import Table
from .symmetry import ExperimentError
from .tasks import DATA_SEED, DataError, Objective, Option, Task, register_task

LAYERS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}
CORRECT = 0.04          # |error| below which an adding-problem answer is correct (1997)
SOLVED = 0.95           # the share of the test set that must be correct
TEST_SIZE = 2560        # the paper's test set


# -- the models ------------------------------------------------------------------------------
def recurrent_layer(kind, input_size, config):
    """``--model kind`` as a layer: ``--hidden H [H ...]`` gives one layer per
    entry (all of one size, as ``nn.LSTM`` stacks them); the RNN's
    nonlinearity is ``--activation`` (tanh or relu); the LSTM's forget-gate
    bias starts at ``forget_bias`` (b_ih's f block; b_hh's is zeroed)."""
    hidden = config["hidden"]
    if len(set(hidden)) != 1 or hidden[0] < 1:
        raise ModelError(f"{kind}: --hidden gives the size of each stacked layer, all equal and "
                         f"positive (e.g. --hidden 64 64), got {' '.join(map(str, hidden))}")
    options = {"num_layers": len(hidden), "batch_first": True}
    if kind == "rnn":
        if config["activation"] not in ("tanh", "relu"):
            raise ModelError(f"rnn: --activation must be tanh or relu, got "
                             f"{config['activation']}")
        options["nonlinearity"] = config["activation"]
    layer = LAYERS[kind](input_size, hidden[0], **options)
    forget_bias = config.get("forget_bias")
    if kind == "lstm" and forget_bias is not None:
        size = hidden[0]
        with no_grad():
            for name, param in layer.named_parameters():
                if name.startswith("bias_"):
                    param.data[size:2 * size] = forget_bias if name.startswith("bias_ih") else 0
    return layer


class SequenceModel(nn.Module):
    """A recurrent layer read at the last step: ``head(output[:, -1])``. Input
    (batch, steps, features), or images (batch, channels, rows, columns) read
    row by row (each row one step of channels * columns features)."""

    def __init__(self, kind, input_size, outputs, config):
        super().__init__()
        self.rnn = recurrent_layer(kind, input_size, config)
        self.head = nn.Linear(config["hidden"][0], outputs)

    def forward(self, x):
        if x.ndim == 4:
            batch, channels, rows, columns = x.shape
            x = x.permute(0, 2, 1, 3).reshape(batch, rows, channels * columns)
        output, _ = self.rnn(x)
        return self.head(output[:, -1])


def _steps_and_features(kind, input_shape):
    if len(input_shape) == 2:
        return input_shape
    if len(input_shape) == 3:
        return input_shape[1], input_shape[0] * input_shape[2]
    raise ModelError(f"{kind}: needs a sequence per sample, (steps, features), or an image "
                     f"(channels, rows, columns) to read row by row; this task's samples "
                     f"have shape {tuple(input_shape)}")


def _builder(kind):
    def build(input_shape, outputs, config):
        _, features = _steps_and_features(kind, input_shape)
        return SequenceModel(kind, features, outputs, config)

    def describe(input_shape, outputs, config):
        steps, features = _steps_and_features(kind, input_shape)
        hidden = config["hidden"]
        text = f"{kind} {features}-{hidden[0]}-{outputs}"
        text += f" ({len(hidden)} layers, " if len(hidden) > 1 else " ("
        if kind == "rnn":
            text += f"{config['activation']}, "
        if kind == "lstm" and config.get("forget_bias") is not None:
            text += f"forget-gate bias {config['forget_bias']:g}, "
        return text + f"{steps} steps, read at the last)"
    return build, describe


for _kind, _help in (("rnn", "Elman RNN (--hidden, --activation tanh|relu)"),
                     ("lstm", "LSTM (--hidden; --forget-bias where the task has it)"),
                     ("gru", "GRU (--hidden)")):
    register_model(ModelSpec(_kind, _help, *_builder(_kind)))


# -- the adding problem ------------------------------------------------------------------------
def _correct(output, target):
    return float((np.abs(output.data - target.data) < CORRECT).sum())


ADDING = Objective(loss=F.mse_loss, metric=_correct, metric_name="correct",
                   format=lambda value: f"{100 * value:.1f}%")

FORGET_BIAS = Option(("--forget-bias",), {
    "type": float, "metavar": "B",
    "help": "adding, text: the LSTM forget gate's initial bias (sigmoid(B) is the share of "
            "its memory a cell keeps per step at first; default 3 for adding, 1 for text)"})


def _check_adding(config):
    if config["model"] not in LAYERS:
        raise ModelError(f"adding: needs a recurrent model (--model rnn, lstm or gru), got "
                         f"{config['model']}")
    if config["variant"] not in ("1997", "sum"):
        raise ExperimentError(f"adding: --variant must be 1997 or sum, got {config['variant']}")
    minimum = 6 if config["variant"] == "1997" else 2
    if config["seq_len"] < minimum:
        raise ExperimentError(f"adding: --seq-len must be at least {minimum} for the "
                              f"{config['variant']} variant, got {config['seq_len']}")
    if config["epoch_size"] < 1:
        raise ExperimentError(f"adding: --epoch-size must be positive, got "
                              f"{config['epoch_size']}")


def epoch_data_seed(epoch):
    """The seed of the sequences of ``epoch`` (not of ``--seed``: runs with
    different seeds see the same data)."""
    return int(np.random.SeedSequence([DATA_SEED, 1997, epoch]).generate_state(1)[0])


def run_adding(config, out_dir, warn):
    """Train until solved or ``--epochs`` epochs; print the table; save curves
    and weights. Returns the final line."""
    _check_adding(config)
    if config["diagnose"]:
        return run_diagnosis(config, out_dir, warn)
    steps, variant = config["seq_len"], config["variant"]
    test = adding_problem(TEST_SIZE, steps, variant, seed=DATA_SEED + 1)
    cr.manual_seed(config["seed"])
    model = SequenceModel(config["model"], 2, 1, config)
    optimizer = build_optimizer(config["optimizer"], model.parameters(), config["lr"],
                                config["momentum"])
    print(f"chainrule train adding: {MODELS[config['model']].describe((steps, 2), 1, config)}, "
          f"{_optimizer_text(config)}, batch {config['batch_size']}, seed {config['seed']}")
    baseline = "MSE 1/24 = 0.0417, 15.4% correct" if variant == "1997" else "MSE 1/6 = 0.167"
    print(f"data: adding problem ({variant}), T = {steps}: {config['epoch_size']:,} fresh "
          f"sequences per epoch, at most {config['epochs']} epochs; {TEST_SIZE:,} test "
          f"sequences (seed {DATA_SEED + 1}); correct means |error| < {CORRECT}; baseline "
          f"(a constant answer): {baseline}")
    table = Table(ADDING, "test")
    print(table.header())
    history, solved_at = [], None
    bars = progress_bars(False, warn)
    for epoch in range(1, config["epochs"] + 1):
        lr = scheduled_lr(config["schedule"], config["lr"], epoch, config["epochs"])
        for group in optimizer.param_groups:
            group["lr"] = lr
        started = time.perf_counter()
        train = adding_problem(config["epoch_size"], steps, variant, seed=epoch_data_seed(epoch))
        try:
            train_loss, train_metric = train_epoch(
                model, optimizer, train, ADDING, batch_size=config["batch_size"],
                seed=config["seed"], epoch=epoch, progress=bars)
        except TrainingStopped as e:
            raise ExperimentError(f"{e}; try a lower learning rate (--lr {config['lr']:g} "
                                  f"now)") from None
        test_loss, test_metric = evaluate(model, test, ADDING)
        record = {"epoch": epoch, "lr": lr, "train_loss": train_loss,
                  "train_metric": train_metric, "test_loss": test_loss,
                  "test_metric": test_metric, "seconds": time.perf_counter() - started}
        history.append(record)
        print(table.row(record), flush=True)
        if test_metric >= SOLVED:
            solved_at = epoch * config["epoch_size"]
            break
    out_dir.mkdir(parents=True, exist_ok=True)
    saved = _save_run(model, history, out_dir, "correct", ADDING.format, warn)
    print(f"saved {' and '.join(saved)}")
    last = history[-1]
    if solved_at is None:
        print(f"not solved: {last['test_metric']:.1%} correct after "
              f"{len(history) * config['epoch_size']:,} training sequences")
    else:
        print(f"solved after {solved_at:,} training sequences (test MSE "
              f"{last['test_loss']:.5f})")
    return f"test correct: {ADDING.format(last['test_metric'])}"


def _optimizer_text(config):
    return describe_optimizer(config["optimizer"], config["lr"], config["momentum"],
                              config["schedule"])


def _save_run(model, history, out_dir, metric_name, format_metric, warn, metadata=None):
    weights = out_dir / "model.safetensors"
    cr.save(model.state_dict(), weights, metadata=metadata)
    saved = [str(weights)]
    try:
        plot_curves(history, out_dir / "curves.png", metric_name, format_metric)
        saved.append(str(out_dir / "curves.png"))
    except MissingMatplotlib as e:
        warn(f"{e}; skipped curves.png")
    return saved


# -- gradients against time ----------------------------------------------------------------------
EXPLODING_RADIUS = 2.0      # spectral radius the scaled-up RNN's W_hh is given
CLIP_NORM, CLIP_STEPS, CLIP_LR = 1.0, 20, 0.01


def hidden_gradient_norms(layer, head, x, y):
    """||dL/dh_t|| for t = 1..T, the mean over the batch of each sequence's
    norm (over all layers), with L the MSE of ``head(h_T)`` against ``y``.

    The layer is stepped one time step at a time, so that every h_t is a
    tensor of its own whose gradient can be kept (``retain_grad``); after
    backward that gradient is the total one, through every later step."""
    state, hs = None, []
    for t in range(x.shape[1]):
        _, state = layer(x[:, t:t + 1], state)
        h = state[0] if isinstance(state, tuple) else state     # (layers, batch, hidden)
        h.retain_grad()
        hs.append(h)
    F.mse_loss(head(hs[-1][-1]), y).backward()
    return np.array([np.sqrt((h.grad.data ** 2).sum(axis=(0, 2))).mean() for h in hs])


def _spectral_radius(weight):
    return float(np.abs(np.linalg.eigvals(weight)).max())


def gradient_profiles(config):
    """``{label: norms}`` for fresh networks (float64, one layer of
    ``--hidden``): a tanh RNN, PyTorch's LSTM, the LSTM with ``--forget-bias``,
    and the RNN with W_hh scaled to spectral radius 2; the label of that last
    one; and the clipping experiment: ``{label: [update norm per SGD step]}``.

    The exploding case needs width: with a few units the scaled-up RNN drives
    them into saturation, where tanh' ~ 0 stops the growth; at the default 64
    units the gradient grows by 10^2 to 10^7 over 100 steps (seeds 0-3)."""
    steps, hidden = config["seq_len"], config["hidden"][0]
    x, y = (t.double() for t in adding_problem(64, steps, config["variant"],
                                               seed=DATA_SEED + 2).tensors)
    one_layer = {**config, "hidden": [hidden], "activation": "tanh"}

    def fresh(kind, **overrides):
        cr.manual_seed(config["seed"])
        layer = recurrent_layer(kind, 2, {**one_layer, **overrides}).double()
        return layer, nn.Linear(hidden, 1).double()

    networks = [("rnn (tanh)", "rnn", {}),
                ("lstm (PyTorch's init)", "lstm", {"forget_bias": None})]
    if config.get("forget_bias") is not None:
        networks.append((f"lstm (forget-gate bias {config['forget_bias']:g})", "lstm", {}))
    profiles = {label: hidden_gradient_norms(*fresh(kind, **overrides), x, y)
                for label, kind, overrides in networks}
    layer, head = fresh("rnn")
    with no_grad():
        w = layer.weight_hh_l0
        w.data *= EXPLODING_RADIUS / _spectral_radius(w.data)
    exploding = f"rnn, W_hh scaled to spectral radius {EXPLODING_RADIUS:g}"
    profiles[exploding] = hidden_gradient_norms(layer, head, x, y)
    return profiles, exploding, _clipping_experiment(fresh, config)


def _clipping_experiment(fresh, config):
    """The scaled-up RNN trained ``CLIP_STEPS`` SGD steps, with and without
    ``clip_grad_norm_``: the size of each update, ||delta theta||."""
    updates = {}
    for max_norm in (None, CLIP_NORM):
        layer, head = fresh("rnn")
        with no_grad():
            w = layer.weight_hh_l0
            w.data *= EXPLODING_RADIUS / _spectral_radius(w.data)
        params = list(layer.parameters()) + list(head.parameters())
        optimizer = optim.SGD(params, lr=CLIP_LR)
        sizes = []
        for step in range(CLIP_STEPS):
            x, y = (t.double() for t in adding_problem(64, config["seq_len"], config["variant"],
                                                       seed=DATA_SEED + 10 + step).tensors)
            before = [p.data.copy() for p in params]
            output, _ = layer(x)
            loss = F.mse_loss(head(output[:, -1]), y)
            optimizer.zero_grad()
            loss.backward()
            if max_norm is not None:
                clip_grad_norm_(params, max_norm)
            optimizer.step()
            sizes.append(math.sqrt(sum(float(((p.data - b) ** 2).sum())
                                       for p, b in zip(params, before))))
        updates["without clipping" if max_norm is None
                else f"clip_grad_norm_(max_norm={max_norm:g})"] = sizes
    return updates


def run_diagnosis(config, out_dir, warn):
    """Print ||dL/dh_1|| / ||dL/dh_T|| per network and save gradients.png."""
    steps = config["seq_len"]
    profiles, exploding, updates = gradient_profiles(config)
    print(f"||dL/dh_t|| of fresh networks on the adding problem ({config['variant']}), "
          f"T = {steps}, hidden {config['hidden'][0]}, float64, 64 sequences, seed "
          f"{config['seed']}")
    print(f"the teaching texts' arithmetic: a factor 0.9 per step gives 0.9^{steps} = "
          f"{0.9 ** steps:.3g}, a factor 1.1 gives 1.1^{steps} = {1.1 ** steps:.1f}")
    width = max(map(len, profiles))
    print(f"{'network':<{width}}  ||dL/dh_T||  ||dL/dh_1||  ratio")
    for label, norms in profiles.items():
        print(f"{label:<{width}}  {norms[-1]:11.3e}  {norms[0]:11.3e}  {norms[0] / norms[-1]:.3g}")
    first = {label: sizes[0] for label, sizes in updates.items()}
    print("first SGD step (lr {:g}) of the scaled-up rnn: ".format(CLIP_LR)
          + "; ".join(f"{label}: ||delta theta|| = {size:.3g}" for label, size in first.items()))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "gradients.png"
    try:
        plot_gradient_profiles(profiles, exploding, updates, steps, path)
        print(f"saved {path}")
    except MissingMatplotlib as e:
        warn(f"{e}; skipped {path.name}")
    return "dL/dh_1 relative to dL/dh_T: " + ", ".join(
        f"{label} {norms[0] / norms[-1]:.2g}" for label, norms in profiles.items())


def plot_gradient_profiles(profiles, exploding, updates, steps, path):
    """Left: vanishing (fresh networks); middle: exploding (scaled W_hh); both
    with the lines c 0.9^(T - t) and c 1.1^(T - t) through the last point;
    right: update sizes with and without clipping."""
    from .plots import _pyplot
    plt = _pyplot()
    figure, (vanish, explode, clip) = plt.subplots(1, 3, figsize=(16, 4.8))
    try:
        t = np.arange(1, steps + 1)
        for axes, labels in ((vanish, [k for k in profiles if k != exploding]),
                             (explode, [exploding])):
            for label in labels:
                axes.plot(t, np.maximum(profiles[label], 1e-300), label=label)
            end = profiles[labels[0]][-1]
            for factor, style, value in ((0.9, ":", f"{0.9 ** steps:.3g}"),
                                         (1.1, "--", f"{1.1 ** steps:.1f}")):
                axes.plot(t, end * factor ** (steps - t), "k" + style, linewidth=1,
                          label=f"{factor}^(T-t); {factor}^{steps} = {value}")
            axes.set_yscale("log")
            axes.set(xlabel="time step t", ylabel="||dL/dh_t||")
            axes.legend(fontsize="small")
            axes.grid(alpha=0.3)
        vanish.set_title("vanishing: fresh networks")
        explode.set_title("exploding: recurrent weight scaled up")
        for label, sizes in updates.items():
            clip.plot(np.arange(1, len(sizes) + 1), sizes, marker=".", label=label)
        clip.set_yscale("log")
        clip.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
        clip.set(xlabel="SGD step", ylabel="||delta theta|| (the update's size)",
                  title=f"the scaled-up rnn trained (lr {CLIP_LR:g})")
        clip.legend(fontsize="small")
        clip.grid(alpha=0.3)
        figure.tight_layout()
        figure.savefig(path, dpi=100)
    finally:
        plt.close(figure)


# -- a character-level language model --------------------------------------------------------------
PERPLEXITY = Objective(loss=F.cross_entropy, metric=None, metric_name="perplexity",
                       format="{:.2f}".format)


class CharModel(nn.Module):
    """Characters in, the next character's scores out: Embedding -> recurrent
    layer(s) -> Linear, on (batch, steps) indices. ``forward(x, state)``
    returns ``(scores (batch, steps, vocabulary), state)``."""

    def __init__(self, kind, vocabulary, config):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, config["embedding"])
        self.rnn = recurrent_layer(kind, config["embedding"], config)
        self.head = nn.Linear(config["hidden"][0], vocabulary)

    def forward(self, x, state=None):
        output, state = self.rnn(self.embedding(x), state)
        return self.head(output), state


def _next_char_loss(scores, targets):
    return F.cross_entropy(scores.reshape(-1, scores.shape[-1]), targets.reshape(-1))


def load_text(config):
    """``(text, vocabulary, train ids, test ids)``: the file as UTF-8, its
    characters sorted, the first nine tenths and the last tenth as indices."""
    if config["file"] is None:
        raise DataError("text: say which file to learn with --file PATH (any UTF-8 text)")
    path = Path(config["file"]).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"text: {path} does not exist") from None
    except UnicodeDecodeError as e:
        raise DataError(f"text: {path} is not UTF-8 text ({e.reason} at byte {e.start})") \
            from None
    except OSError as e:
        raise DataError(f"text: cannot read {path}: {e.strerror or e}") from None
    vocabulary = sorted(set(text))
    index = {c: i for i, c in enumerate(vocabulary)}
    ids = np.fromiter((index[c] for c in text), dtype=np.int64, count=len(text))
    split = len(ids) - len(ids) // 10
    # each part needs two characters per stream: an input and the next one
    needed = 2 * config["batch_size"]
    if len(ids) - split < needed or split < needed:
        raise DataError(f"text: {path} has {len(text):,} characters; with --batch-size "
                        f"{config['batch_size']} it needs at least {10 * needed:,} (its last "
                        f"tenth is held out), or a smaller --batch-size")
    return text, vocabulary, ids[:split], ids[split:]


def streams(ids, batch):
    """``(inputs, targets)`` of shape (batch, steps): the text cut into
    ``batch`` consecutive streams, each target the next character."""
    steps = (len(ids) - 1) // batch
    inputs = ids[:steps * batch].reshape(batch, steps)
    targets = ids[1:steps * batch + 1].reshape(batch, steps)
    return cr.from_numpy(inputs.astype(np.int64)), cr.from_numpy(targets.astype(np.int64))


def held_out_loss(model, inputs, targets, k1):
    """The mean next-character loss over the streams, run k1 steps at a time
    with the state carried (no gradients)."""
    state, total = None, 0.0
    with no_grad():
        for start in range(0, inputs.shape[1], k1):
            scores, state = model(inputs[:, start:start + k1], state)
            total += _next_char_loss(scores, targets[:, start:start + k1]).item() \
                * scores.shape[1]
    return total / inputs.shape[1]


def sample_text(model, vocabulary, prompt, length, temperature, rng):
    """``prompt`` followed by ``length`` characters drawn one at a time from
    softmax(scores / temperature)."""
    index = {c: i for i, c in enumerate(vocabulary)}
    ids = [index[c] for c in prompt]
    with no_grad():
        scores, state = model(cr.tensor(np.array([ids], dtype=np.int64)))
        for _ in range(length):
            logits = scores.data[0, -1].astype(np.float64) / temperature
            p = np.exp(logits - logits.max())
            ids.append(int(rng.choice(len(vocabulary), p=p / p.sum())))
            scores, state = model(cr.tensor(np.array([[ids[-1]]], dtype=np.int64)), state)
    return "".join(vocabulary[i] for i in ids)


def run_text(config, out_dir, warn):
    """Train with truncated BPTT; per epoch a table row and a sample."""
    if config["model"] not in LAYERS:
        raise ModelError(f"text: needs a recurrent model (--model rnn, lstm or gru), got "
                         f"{config['model']}")
    for key in ("k1", "embedding", "sample_length"):
        if config[key] < 1:
            raise ExperimentError(f"text: --{key.replace('_', '-')} must be positive, got "
                                  f"{config[key]}")
    if not config["temperature"] > 0:
        raise ExperimentError(f"text: --temperature must be positive, got "
                              f"{config['temperature']}")
    text, vocabulary, train_ids, test_ids = load_text(config)
    prompt = config["prompt"] if config["prompt"] is not None else text[0]
    if not set(prompt) <= set(vocabulary) or not prompt:
        raise ExperimentError(f"text: the --prompt must be made of characters the file "
                              f"holds, got {prompt!r}")
    cr.manual_seed(config["seed"])
    model = CharModel(config["model"], len(vocabulary), config)
    optimizer = build_optimizer(config["optimizer"], model.parameters(), config["lr"],
                                config["momentum"])
    k1, k2 = config["k1"], config["k2"] or config["k1"]
    inputs, targets = streams(train_ids, config["batch_size"])
    test_inputs, test_targets = streams(test_ids, config["batch_size"])
    print(f"chainrule train text: {config['model']} {'-'.join(map(str, config['hidden']))} "
          f"on a {config['embedding']}-d embedding of {len(vocabulary)} characters, "
          f"{_optimizer_text(config)}, truncated BPTT (k1 {k1}, k2 {k2}), gradient norm clipped to {config['clip']:g}, "
          f"seed {config['seed']}")
    print(f"data: {config['file']}: {len(train_ids):,} characters to train on as "
          f"{config['batch_size']} streams of {inputs.shape[1]:,}, the last "
          f"{len(test_ids):,} held out (test)")
    table = Table(PERPLEXITY, "test")
    print(table.header())
    history = []
    for epoch in range(1, config["epochs"] + 1):
        lr = scheduled_lr(config["schedule"], config["lr"], epoch, config["epochs"])
        for group in optimizer.param_groups:
            group["lr"] = lr
        started = time.perf_counter()
        model.train()
        train_loss, _ = truncated_bptt(model, inputs, targets, _next_char_loss, optimizer, k1,
                                       k2, time_dim=1, max_norm=config["clip"])
        if not math.isfinite(train_loss):
            raise ExperimentError(f"the loss became {train_loss} in epoch {epoch}; try a lower "
                                  f"--lr ({config['lr']:g} now)")
        model.eval()
        test_loss = held_out_loss(model, test_inputs, test_targets, k1)
        record = {"epoch": epoch, "lr": lr, "train_loss": train_loss,
                  "train_metric": math.exp(train_loss), "test_loss": test_loss,
                  "test_metric": math.exp(test_loss), "seconds": time.perf_counter() - started}
        history.append(record)
        print(table.row(record))
        rng = np.random.default_rng([config["seed"], epoch])
        sample = sample_text(model, vocabulary, prompt, config["sample_length"],
                             config["temperature"], rng)
        print(f"sample: {sample!r}", flush=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    saved = _save_run(model, history, out_dir, "perplexity", PERPLEXITY.format, warn,
                      metadata={"vocabulary": json.dumps(vocabulary)})
    print(f"saved {' and '.join(saved)}")
    return f"test perplexity: {PERPLEXITY.format(history[-1]['test_metric'])}"


# -- registration ----------------------------------------------------------------------------------
def _int_option(flag, metavar, help):
    return Option((flag,), {"type": int, "metavar": metavar, "help": help})


register_task(Task(
    name="adding", help="the adding problem of Hochreiter & Schmidhuber 1997 (--seq-len T, "
                        "--variant 1997|sum; --diagnose: gradients against time)",
    load=None, objective=ADDING, outputs=1, run=run_adding,
    defaults={"model": "lstm", "hidden": [64], "activation": "tanh", "optimizer": "adam",
              "lr": 1e-3, "schedule": "constant", "batch_size": 32, "epochs": 100,
              "seq_len": 100, "variant": "1997", "epoch_size": 2000, "forget_bias": 3.0,
              "diagnose": False},
    options=(_int_option("--seq-len", "T", "adding: steps per sequence (default 100)"),
             Option(("--variant",), {"choices": ("1997", "sum"),
                                     "help": "adding: 1997 (values in [-1, 1], target 0.5 + "
                                             "(X1 + X2) / 4; the default) or sum (values in "
                                             "[0, 1], target X1 + X2)"}),
             _int_option("--epoch-size", "N", "adding: fresh training sequences per epoch "
                                              "(default 2000)"),
             FORGET_BIAS,
             Option(("--diagnose",), {"action": "store_true", "default": None,
                                      "help": "adding: train nothing; plot ||dL/dh_t|| against "
                                              "t for fresh networks (vanishing, exploding, "
                                              "clipping) into gradients.png"}))))

register_task(Task(
    name="text", help="a character-level language model of a text file (--file F)",
    load=None, objective=PERPLEXITY, outputs=0, run=run_text,
    defaults={"model": "lstm", "hidden": [128], "activation": "tanh", "optimizer": "adam",
              "lr": 3e-3, "batch_size": 32, "epochs": 10, "file": None, "k1": 50, "k2": None,
              "embedding": 32, "clip": 1.0, "sample_length": 200, "temperature": 0.8,
              "prompt": None, "forget_bias": 1.0},
    options=(Option(("--file",), {"metavar": "PATH", "help": "text: the UTF-8 text file to "
                                                             "learn"}),
             _int_option("--k1", "N", "text: truncated BPTT, steps per update (default 50)"),
             _int_option("--k2", "N", "text: truncated BPTT, steps backpropagated (default "
                                      "k1)"),
             _int_option("--embedding", "N", "text: size of the character embedding "
                                             "(default 32)"),
             Option(("--clip",), {"type": float, "metavar": "NORM",
                                  "help": "text: clip_grad_norm_ max_norm (default 1)"}),
             _int_option("--sample-length", "N", "text: characters sampled after each epoch "
                                                 "(default 200)"),
             Option(("--temperature",), {"type": float, "metavar": "T",
                                         "help": "text: sampling temperature (default 0.8)"}),
             Option(("--prompt",), {"metavar": "TEXT", "help": "text: the sample's start "
                                                               "(default the file's first "
                                                               "character)"}),
             FORGET_BIAS)))
