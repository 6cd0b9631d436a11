"""``GradientMonitor(model)``: is every layer still learning?

Hooks record, for each layer (each named module that owns parameters, e.g.
every ``Linear``) and each backward pass:

* ``grad_norm``: the 2-norm of the layer's parameter gradients together,
  from hooks on the parameters, which fire once per backward with each
  parameter's total gradient;
* ``weight_norm``: the 2-norm of its parameters at that backward;
* ``update_ratio``: ``||w_t - w_(t-1)|| / ||w_(t-1)||`` between this backward
  and the previous one, i.e. the relative size of the optimiser step taken in
  between (``nan`` at the first); about 1e-3 is the usual healthy order;
* ``act_mean``, ``act_std``, ``act_frac_zero``: statistics of the layer's
  output in the forward pass behind this backward (a forward hook; passes
  under ``no_grad``, such as evaluation, are ignored);
* ``in_frac_zero``: the fraction of exact zeros in the layer's input, which
  for a layer after a ReLU counts the units that were off.

``history[layer][metric]`` is a list with one entry per backward pass.
``flags()`` names layers whose gradients vanish (median over the last few
passes below ``vanish`` times the largest layer's), explode (above
``explode``, or grown more than ``growth``-fold since the first passes) or
are not finite; ``report()`` prints a table, ``plot(path)`` draws the
gradient norms (log scale) and ``remove()`` takes the hooks off.

The hooks never change a gradient, so monitored training is the same
training, step for step.
"""
import math
import sys

import numpy as np

from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor

METRICS = ("grad_norm", "weight_norm", "update_ratio", "act_mean", "act_std",
           "act_frac_zero", "in_frac_zero")


class Flag:
    """One problem: ``layer``, ``kind`` ("vanishing", "exploding" or
    "non-finite") and a sentence with the numbers."""

    __slots__ = ("layer", "kind", "message")

    def __init__(self, layer, kind, message):
        self.layer, self.kind, self.message = layer, kind, message

    def __repr__(self):
        return f"Flag({self.layer!r}, {self.kind!r})"

    def __str__(self):
        return f"{self.layer}: {self.kind}: {self.message}"


class _Layer:
    """What the hooks gather for one layer between two records."""

    def __init__(self, name, module):
        self.name = name
        self.params = [p for _, p in module.named_parameters(recurse=False) if p.requires_grad]
        self.pending = {}            # id(param) -> squared gradient norm, this backward
        self.forward = None          # (mean, std, frac_zero, in_frac_zero) of the last forward
        self.previous = None         # the parameters at the previous record, flattened


class GradientMonitor:
    """Per-layer gradient, weight and activation statistics (see the module docstring)."""

    def __init__(self, model):
        if not hasattr(model, "named_modules"):
            raise TypeError(f"GradientMonitor: expected a Module, got {type(model).__name__}")
        self._layers = {}
        self._handles = []
        for name, module in model.named_modules():
            layer = _Layer(name or type(module).__name__, module)
            if not layer.params:
                continue
            self._layers[layer.name] = layer
            self._handles.append(module.register_forward_hook(self._forward_hook(layer)))
            for p in layer.params:
                self._handles.append(p.register_hook(self._grad_hook(layer, p)))
        if not self._layers:
            raise ValueError("GradientMonitor: the model has no parameters that require grad, "
                             "so there are no gradients to monitor")
        self.history = {name: {m: [] for m in METRICS} for name in self._layers}

    @property
    def layers(self):
        """The monitored layers' names, in the model's order."""
        return list(self._layers)

    # -- hooks ---------------------------------------------------------------
    def _forward_hook(self, layer):
        def hook(module, args, output):
            if not is_grad_enabled():
                return None
            out = output if isinstance(output, Tensor) else next(
                (o for o in output if isinstance(o, Tensor)), None)
            inp = next((a for a in args if isinstance(a, Tensor)), None)
            if out is not None:
                a = out.data
                layer.forward = (float(a.mean()), float(a.std()), float(np.mean(a == 0)),
                                 float(np.mean(inp.data == 0)) if inp is not None else math.nan)
            return None
        return hook

    def _grad_hook(self, layer, param):
        def hook(grad):
            g = grad.data
            layer.pending[id(param)] = float(np.sum(np.square(g, dtype=np.float64)))
            if len(layer.pending) == len(layer.params):
                self._record(layer)
            return None
        return hook

    def _record(self, layer):
        h = self.history[layer.name]
        h["grad_norm"].append(math.sqrt(sum(layer.pending.values())))
        layer.pending = {}
        w = np.concatenate([p.data.ravel().astype(np.float64) for p in layer.params])
        h["weight_norm"].append(float(np.linalg.norm(w)))
        if layer.previous is None:
            h["update_ratio"].append(math.nan)
        else:
            base = np.linalg.norm(layer.previous)
            h["update_ratio"].append(float(np.linalg.norm(w - layer.previous) / base)
                                     if base > 0 else math.nan)
        layer.previous = w
        stats = layer.forward or (math.nan,) * 4
        for key, value in zip(("act_mean", "act_std", "act_frac_zero", "in_frac_zero"), stats):
            h[key].append(value)

    def remove(self):
        """Take every hook off the model (the history stays)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    # -- reading -------------------------------------------------------------
    @property
    def steps(self):
        """How many backward passes have been recorded (for the first layer)."""
        return len(next(iter(self.history.values()))["grad_norm"])

    def ratio(self, first=None, last=None, window=None):
        """Median over the last ``window`` passes (all by default) of
        grad_norm(first) / grad_norm(last); by default the first and last
        layer: below 1 the gradient shrinks on its way back to the input."""
        names = self.layers
        a = self.history[first or names[0]]["grad_norm"]
        b = self.history[last or names[-1]]["grad_norm"]
        n = min(len(a), len(b))
        if n == 0:
            raise RuntimeError("GradientMonitor.ratio: no backward pass recorded yet")
        k = n if window is None else min(window, n)
        return float(np.median(np.asarray(a[n - k:n]) / np.asarray(b[n - k:n])))

    def flags(self, vanish=1e-3, explode=1e3, growth=1e3, window=5):
        """The layers whose gradients vanish, explode or turn non-finite (a list of ``Flag``)."""
        out = []
        norms = {name: np.asarray(h["grad_norm"], dtype=float) for name, h in self.history.items()}
        n = min(len(v) for v in norms.values())
        if n == 0:
            return out
        recent = np.stack([v[n - min(window, n):n] for v in norms.values()])   # layers x steps
        finite = np.where(np.isfinite(recent), recent, -np.inf)
        largest = finite.max(axis=0)          # -inf where no layer is finite
        with np.errstate(invalid="ignore", divide="ignore"):
            relative = recent / largest
        for i, (name, v) in enumerate(norms.items()):
            bad = ~np.isfinite(v)
            if bad.any():
                out.append(Flag(name, "non-finite", f"gradient norm not finite at "
                                                    f"{int(bad.sum())} of {len(v)} passes "
                                                    f"(first at pass {int(np.argmax(bad)) + 1})"))
                continue
            rel = float(np.median(relative[i]))
            if rel < vanish:
                out.append(Flag(name, "vanishing", f"gradient norm {v[-1]:.3g} is {rel:.2e} of "
                                                   f"the largest layer's (threshold {vanish:g})"))
            start = float(np.median(v[:window]))
            if v[-1] > explode:
                out.append(Flag(name, "exploding", f"gradient norm {v[-1]:.3g} > {explode:g}"))
            elif start > 0 and v[-1] > growth * start:
                out.append(Flag(name, "exploding", f"gradient norm grew {v[-1] / start:.3g}-fold "
                                                   f"(from {start:.3g} to {v[-1]:.3g})"))
        return out

    def report(self, file=None):
        """Print a table: each layer's latest statistics and its flags."""
        from .monitor_report import format_report
        print(format_report(self), file=file or sys.stdout)

    def plot(self, path, title=None):
        """Draw each layer's gradient norm over the passes (log scale) and
        the norm by depth at the first and last pass; save to ``path``."""
        from .monitor_report import plot
        return plot(self, path, title)
