"""Module hooks: the handle that removes one, and full backward hooks.

A *full backward hook* ``hook(module, grad_input, grad_output)`` fires once
per backward pass through a module call, with the gradients of the loss with
respect to the module's tensor inputs (``grad_input``, one entry per
positional argument: ``None`` for arguments that are not tensors, zeros for
tensors that need no gradient) and its tensor outputs (``grad_output``). Gradients of the module's
parameters are not part of ``grad_input``, as in PyTorch.

How it works (the choice PyTorch also makes): the call's tensor inputs and
its outputs are each passed through an identity ``autograd.Function``.

* The identity on the outputs sits *after* every operation of the module,
  so its backward runs first and sees the total gradient of each output
  (fan-out already summed by the engine); it stores them as ``grad_output``.
* The identity on the inputs sits *before* every operation of the module,
  so its backward runs after all of them and sees the complete gradient of
  each input; it calls the hooks there. A hook may return a new
  ``grad_input`` tuple, which then flows on in place of the old one.

When no input requires grad (the first layer of a network, fed data), the
hooks fire from the outputs' identity with ``grad_input`` all ``None``, as
PyTorch does. Tensor hooks (``register_hook``) would not do: a module's
input can be used by several operations inside the module, and per-tensor
hooks would fire once per tensor rather than once per call.
"""
import itertools

from ..autograd.function import Function
from ..creation import zeros_like
from ..tensor import Tensor

_ids = itertools.count()


class RemovableHandle:
    """Returned by ``register_*_hook``: ``handle.remove()`` unregisters the hook
    (also usable as a context manager)."""

    def __init__(self, hooks):
        self._hooks = hooks
        self.id = next(_ids)

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class BackwardHookCall:
    """One module call with full backward hooks: wraps its inputs and outputs."""

    def __init__(self, module, args):
        self.module = module
        self.n_inputs = len(args)
        self.input_positions = [i for i, a in enumerate(args)
                                if isinstance(a, Tensor) and a.requires_grad]
        # tensors that need no gradient get zeros in grad_input (as in PyTorch,
        # whose identity passes them through as non-differentiable outputs)
        self.constant_inputs = {i: a for i, a in enumerate(args)
                                if isinstance(a, Tensor) and not a.requires_grad}
        self.n_outputs = 0
        self.output_positions = []
        self.grad_output = None

    def wrap_inputs(self, args):
        if not self.input_positions:
            return args
        wrapped = _InputsIdentity.apply(self, *[args[i] for i in self.input_positions])
        args = list(args)
        for i, t in zip(self.input_positions, wrapped):
            args[i] = t
        return tuple(args)

    def wrap_outputs(self, output):
        single = isinstance(output, Tensor)
        if not single and not isinstance(output, tuple):
            return output      # dicts and other containers are not hooked (as PyTorch)
        outputs = (output,) if single else output
        self.n_outputs = len(outputs)
        self.output_positions = [i for i, o in enumerate(outputs)
                                 if isinstance(o, Tensor) and o.requires_grad]
        if not self.output_positions:
            return output
        wrapped = _OutputsIdentity.apply(self, *[outputs[i] for i in self.output_positions])
        outputs = list(outputs)
        for i, t in zip(self.output_positions, wrapped):
            outputs[i] = t
        return outputs[0] if single else type(output)(outputs)

    def receive_grad_output(self, grads):
        self.grad_output = _spread(grads, self.output_positions, self.n_outputs)
        if not self.input_positions:
            self.fire(())

    def fire(self, grads):
        """Call the hooks; returns the (possibly replaced) gradients of the
        wrapped inputs."""
        grad_input = _spread(grads, self.input_positions, self.n_inputs)
        if self.input_positions:
            grad_input = tuple(zeros_like(self.constant_inputs[i]) if i in self.constant_inputs
                               else g for i, g in enumerate(grad_input))
        for hook in list(self.module._backward_hooks.values()):
            result = hook(self.module, grad_input, self.grad_output)
            if result is None:
                continue
            result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
            if len(result) != len(grad_input):
                raise RuntimeError(
                    f"backward hook of {type(self.module).__name__} returned "
                    f"{len(result)} gradient(s), but the module call has "
                    f"{len(grad_input)} input(s); return a tuple like grad_input")
            grad_input = result
        return tuple(grad_input[i] for i in self.input_positions)


def _spread(grads, positions, n):
    """One entry per argument: the gradient at the wrapped positions, None elsewhere."""
    out = [None] * n
    for i, g in zip(positions, grads):
        out[i] = g
    return tuple(out)


class _InputsIdentity(Function):
    @staticmethod
    def forward(ctx, call, *tensors):
        ctx.call = call
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.call.fire(grads))


class _OutputsIdentity(Function):
    @staticmethod
    def forward(ctx, call, *tensors):
        ctx.call = call
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        ctx.call.receive_grad_output(grads)
        return (None, *grads)
