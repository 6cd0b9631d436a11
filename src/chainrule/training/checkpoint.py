"""One training run in one safetensors file: model, optimiser, epoch, history, settings.

safetensors holds only a flat dict of tensors plus a str -> str metadata
dict, so a checkpoint is laid out as

    tensors   model.<name>                   the model's state_dict
              optimizer.state.<i>.<key>      each array in the optimiser's
                                             per-parameter state (momentum
                                             buffers, Adam's moments, ...)
    metadata  format      "chainrule-train/1"
              epoch       epochs completed, e.g. "7"
              config      JSON: the run's settings (task, model, lr, ...)
              history     JSON: one record per epoch (losses, metrics, seconds)
              optimizer   JSON: the optimiser's state_dict with every array
                          taken out (param_groups; per-parameter values that
                          are not arrays, such as Adam's ``step`` count)
              rng         JSON: the global generator's bit-generator state

Floats pass through JSON exactly (Python writes the shortest string that
reads back as the same double) and arrays keep their bytes, so a resumed run
continues bit for bit. The global generator is saved because layers that
draw during training (dropout) draw from it; batch order needs nothing saved
(see ``loop.epoch_seed``).

``cr.save`` writes atomically: an interrupted save leaves the previous
checkpoint in place. Loading checks everything before returning, and raises
``CheckpointError`` (with the file named) for anything else than a complete
checkpoint of this format.
"""
import json
import struct

import numpy as np

import chainrule as cr
from ..random import default_generator
from ..serialization import CheckpointError

FORMAT = "chainrule-train/1"
_MODEL, _STATE = "model.", "optimizer.state."


def save_checkpoint(path, model, optimizer, epoch, history, config):
    """Write the run's full state to ``path`` (atomically)."""
    tensors = {_MODEL + name: value for name, value in model.state_dict().items()}
    optimizer_state = optimizer.state_dict()
    plain_state = {}
    for index, entries in optimizer_state["state"].items():
        plain_state[str(index)] = {}
        for key, value in entries.items():
            if isinstance(value, np.ndarray):
                tensors[f"{_STATE}{index}.{key}"] = value
            else:
                plain_state[str(index)][key] = value
    metadata = {
        "format": FORMAT,
        "epoch": str(epoch),
        "config": json.dumps(config),
        "history": json.dumps(history),
        "optimizer": json.dumps({"state": plain_state,
                                 "param_groups": optimizer_state["param_groups"]}),
        "rng": json.dumps(default_generator().bit_generator.state),
    }
    cr.save(tensors, path, metadata=metadata)


class Checkpoint:
    """A loaded checkpoint: ``epoch``, ``config``, ``history``, and the means to
    restore the model, the optimiser and the global generator."""

    def __init__(self, path, tensors, metadata):
        self.path = path
        self.epoch = _field(path, metadata, "epoch", int)
        self.config = _field(path, metadata, "config", json.loads)
        self.history = _field(path, metadata, "history", json.loads)
        self._optimizer = _field(path, metadata, "optimizer", json.loads)
        self._rng = _field(path, metadata, "rng", json.loads)
        self._tensors = tensors
        if not isinstance(self.config, dict) or not isinstance(self.history, list):
            _fail(path, "its config or history is not what chainrule train writes")
        if self.epoch != len(self.history):
            _fail(path, f"it says {self.epoch} epochs were run but holds {len(self.history)} "
                        f"epochs of history")

    def restore_model(self, model):
        state = {name[len(_MODEL):]: value
                 for name, value in self._tensors.items() if name.startswith(_MODEL)}
        try:
            model.load_state_dict(state)
        except (KeyError, ValueError, RuntimeError) as e:
            _fail(self.path, f"its model does not fit the one built from its settings ({e})")

    def restore_optimizer(self, optimizer):
        saved = self._optimizer
        try:
            state = {int(index): dict(entries) for index, entries in saved["state"].items()}
            for name, value in self._tensors.items():
                if name.startswith(_STATE):
                    index, key = name[len(_STATE):].split(".", 1)
                    state.setdefault(int(index), {})[key] = value.data
            groups = [_like(saved_group, group)
                      for saved_group, group in zip(saved["param_groups"],
                                                    optimizer.param_groups)]
            optimizer.load_state_dict({"state": state, "param_groups": groups})
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            _fail(self.path, f"its optimizer state does not fit a "
                             f"{type(optimizer).__name__} built from its settings ({e})")

    def restore_rng(self):
        try:
            default_generator().bit_generator.state = self._rng
        except (KeyError, TypeError, ValueError) as e:
            _fail(self.path, f"its random generator state is unusable ({e})")


def load_checkpoint(path):
    """Read and check the checkpoint at ``path``; raises ``CheckpointError``
    (or ``OSError`` if it cannot be read at all)."""
    tensors = cr.load(path)        # validates the whole file first
    metadata = _read_metadata(path)
    if metadata.get("format") != FORMAT:
        _fail(path, f"it is a safetensors file but not a chainrule train checkpoint "
                    f"(format {metadata.get('format')!r}, expected {FORMAT!r})")
    return Checkpoint(path, tensors, metadata)


def _read_metadata(path):
    """The ``__metadata__`` dict of a safetensors file that ``cr.load`` accepted.

    ``cr.load`` returns the tensors only, so the header is read again here;
    its length and JSON were already checked by ``cr.load``.
    """
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length).decode("utf-8"))
    return header.get("__metadata__", {})


def _field(path, metadata, key, parse):
    if key not in metadata:
        _fail(path, f"its metadata lacks {key!r}")
    try:
        return parse(metadata[key])
    except ValueError as e:
        _fail(path, f"its {key!r} metadata is damaged ({e})")


def _like(saved_group, group):
    """``saved_group`` with JSON lists turned back into tuples where the live
    group holds a tuple (Adam's ``betas``), so a restored group equals the
    original in type as well as value."""
    return {key: tuple(value) if isinstance(group.get(key), tuple) and isinstance(value, list)
            else value for key, value in saved_group.items()}


def _fail(path, problem):
    raise CheckpointError(f"cannot load {str(path)!r}: {problem}")
