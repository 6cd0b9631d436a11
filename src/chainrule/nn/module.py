"""``Module``: the base class of every layer and model.

A Module holds state -- parameters, buffers and submodules -- and computes in
``forward``. State is registered by plain attribute assignment, as in
PyTorch::

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()                 # must come first: it makes the registries
            self.fc1 = nn.Linear(4, 8)         # a Module -> a submodule
            self.scale = nn.Parameter(cr.ones(8))  # a Parameter -> a parameter
            self.register_buffer("steps", cr.zeros((), dtype=cr.int64))

        def forward(self, x):
            return self.fc1(x) * self.scale

Registration order is the order of ``named_parameters()`` and ``state_dict()``;
names of nested state are dotted paths (``"fc1.weight"``). A parameter shared
by two submodules is listed once by ``parameters()`` (so an optimiser updates
it once) but appears under both names in ``state_dict()``, as in PyTorch.
"""
import collections

import numpy as np

from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..tensor import Tensor
from .hooks import BackwardHookCall, RemovableHandle
from .parameter import Parameter

IncompatibleKeys = collections.namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of layers and models: subclass it, call ``super().__init__()``
    first, assign parameters and submodules as attributes, define ``forward``."""

    training = True

    def __init__(self):
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers"] = set()
        d["_modules"] = {}
        d["_forward_pre_hooks"] = {}
        d["_forward_hooks"] = {}
        d["_backward_hooks"] = {}

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'{type(self).__name__} is missing the required "forward" method; define '
            f"forward(self, ...) in the subclass")

    # -- calling -------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks):
            return self.forward(*args, **kwargs)
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        call = None
        if self._backward_hooks and is_grad_enabled():
            call = BackwardHookCall(self, args)
            args = call.wrap_inputs(args)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        if call is not None:
            output = call.wrap_outputs(output)
        return output

    def register_forward_pre_hook(self, hook):
        """``hook(module, args)`` runs before ``forward``; a non-None return
        value (a tuple, or a single value) replaces the positional args."""
        return self._add_hook(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook):
        """``hook(module, args, output)`` runs after ``forward``; a non-None
        return value replaces the output."""
        return self._add_hook(self._forward_hooks, hook)

    def register_full_backward_hook(self, hook):
        """``hook(module, grad_input, grad_output)`` runs once per backward pass
        through each call of this module (see ``nn/hooks.py`` for how); a
        non-None return value (a tuple like ``grad_input``) replaces the
        gradients flowing on to the inputs."""
        return self._add_hook(self._backward_hooks, hook)

    @staticmethod
    def _add_hook(hooks, hook):
        if not callable(hook):
            raise TypeError(f"hook must be callable, got {type(hook).__name__}")
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    # -- registration --------------------------------------------------------
    def __setattr__(self, name, value):
        d = self.__dict__
        params, modules, buffers = d.get("_parameters"), d.get("_modules"), d.get("_buffers")
        if isinstance(value, (Parameter, Module)) and params is None:
            raise AttributeError(
                f"cannot assign {type(value).__name__} '{name}' before Module.__init__() "
                f"has run; call super().__init__() first in {type(self).__name__}.__init__")
        if isinstance(value, Parameter):
            self._forget(name, keep=params)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign a {type(value).__name__} to parameter "
                                f"'{name}' (nn.Parameter or None expected); wrap it as "
                                f"nn.Parameter(value) or copy into it with .copy_()")
            params[name] = None
        elif isinstance(value, Module):
            self._forget(name, keep=modules)
            modules[name] = value
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign a {type(value).__name__} to submodule "
                                f"'{name}' (a Module or None expected)")
            modules[name] = None
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign a {type(value).__name__} to buffer '{name}' "
                                f"(a Tensor or None expected)")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # only called when ordinary lookup fails: look in the registries
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = d.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    def _forget(self, name, keep):
        """Remove ``name`` from the instance dict and every registry but ``keep``
        (where re-assigning it keeps its place in the order)."""
        for registry in (self.__dict__, self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def _check_new_name(self, kind, name, registry):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot register a {kind} before Module.__init__() has run; "
                                 f"call super().__init__() first")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name must be a str, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f"{kind} name must be a non-empty string without '.', got {name!r}")
        if hasattr(self, name) and name not in registry:
            raise KeyError(f"attribute '{name}' already exists in {type(self).__name__}; "
                           f"choose another {kind} name")

    def register_parameter(self, name, param):
        """Add ``param`` (an ``nn.Parameter`` or None) as parameter ``name``."""
        self._check_new_name("parameter", name, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: '{name}' must be an nn.Parameter or None, "
                            f"got {type(param).__name__}; wrap it as nn.Parameter(tensor)")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add ``tensor`` (or None) as buffer ``name``: state that is not trained
        (running statistics). Persistent buffers are part of ``state_dict()``."""
        self._check_new_name("buffer", name, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: '{name}' must be a Tensor or None, got "
                            f"{type(tensor).__name__}")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        """Add ``module`` (or None) as submodule ``name``."""
        self._check_new_name("module", name, self._modules)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: '{name}' must be a Module or None, got "
                            f"{type(module).__name__}")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        """The submodule at dotted path ``target`` (``""`` is this module)."""
        module = self
        if target == "":
            return module
        for part in target.split("."):
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"get_submodule: {type(module).__name__} has no "
                                     f"submodule '{part}' (looking up '{target}')")
            module = child
        return module

    # -- traversal -------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """``(dotted name, module)`` for this module and every descendant, parents
        before children; a module reachable twice is listed once."""
        seen = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if module in seen:
                    continue
                seen.add(module)
            yield name, module
            children = [(f"{name}.{n}" if name else n, m)
                        for n, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))   # the first child is popped next

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse, remove_duplicate=True):
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        seen = set()
        for module_name, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_name}.{name}" if module_name else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """``(dotted name, parameter)`` in registration order; a shared parameter once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def apply(self, fn):
        """Call ``fn(module)`` on every submodule (children first) and then on
        this module; returns self. Typical use: custom weight initialisation."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # -- modes and gradients ---------------------------------------------------
    def train(self, mode=True):
        """Set training mode (dropout active, batch statistics) on this module and
        every descendant; returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode must be a bool, got {mode!r}")
        for module in self.modules():
            module.__dict__["training"] = mode
        return self

    def eval(self):
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's ``.grad``: to None (the default), or to zeros."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad = param.grad.detach()
                param.grad.zero_()

    # -- dtype -------------------------------------------------------------------
    def to(self, dtype_or_device):
        """Cast floating-point parameters and buffers (and their gradients) to a
        floating dtype, in place, keeping each Parameter object (so an optimiser
        built before still holds them). Integer buffers such as BatchNorm's
        ``num_batches_tracked`` keep their dtype. ``"cpu"`` is accepted and
        changes nothing: chainrule runs on the CPU only."""
        if isinstance(dtype_or_device, str):
            if dtype_or_device != "cpu":
                raise ValueError(f"to: chainrule runs on the CPU only; got device "
                                 f"{dtype_or_device!r}")
            return self
        dtype = np.dtype(dtype_or_device)
        if dtype.kind != "f":
            raise TypeError(f"to: modules can only be cast to a floating dtype, got {dtype}")
        for module in self.modules():
            for registry in (module._parameters, module._buffers):
                for t in registry.values():
                    if t is not None and t.dtype.kind == "f" and t.dtype != dtype:
                        t.data = t.data.astype(dtype)
                        if t.grad is not None:
                            t.grad.data = t.grad.data.astype(dtype)
        return self

    def double(self):
        return self.to(np.float64)

    def float(self):
        return self.to(np.float32)

    # -- state_dict ----------------------------------------------------------------
    def _state_entries(self, prefix=""):
        """``(key, tensor)`` of every parameter and persistent buffer, each module's
        own parameters then buffers, parents before children; shared tensors
        appear under every name."""
        for module_name, module in self.named_modules(prefix=prefix, remove_duplicate=False):
            lead = f"{module_name}." if module_name else ""
            for name, param in module._parameters.items():
                if param is not None:
                    yield lead + name, param
            for name, buf in module._buffers.items():
                if buf is not None and name not in module._non_persistent_buffers:
                    yield lead + name, buf

    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """An ordered dict of every parameter and persistent buffer by dotted name.

        Values are detached tensors sharing memory with the module (as in
        PyTorch): training on changes them too, so ``copy.deepcopy`` the dict
        (or save it with ``cr.save``) to keep a snapshot."""
        out = collections.OrderedDict() if destination is None else destination
        for key, t in self._state_entries(prefix):
            out[key] = t if keep_vars else t.detach()
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy the values of ``state_dict`` into this module's parameters and
        buffers, in place (each tensor keeps its identity and dtype).

        Errors -- a shape mismatch, and with ``strict=True`` a missing or an
        unexpected key -- are all listed in one RuntimeError, and then nothing
        has been copied. Returns ``(missing_keys, unexpected_keys)``.
        """
        expected = collections.OrderedDict(self._state_entries())
        missing = [key for key in expected if key not in state_dict]
        unexpected = [key for key in state_dict if key not in expected]
        errors, copies = [], []
        for key, target in expected.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            if not isinstance(value, (Tensor, np.ndarray)):
                errors.append(f'While copying "{key}": expected a Tensor or an array, got '
                              f"{type(value).__name__}.")
            elif tuple(value.shape) != tuple(target.shape):
                errors.append(f"size mismatch for {key}: copying a param with shape "
                              f"{tuple(value.shape)} from checkpoint, the shape in current "
                              f"model is {tuple(target.shape)}.")
            else:
                copies.append((target, value))
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ".")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ".")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        with no_grad():
            for target, value in copies:
                target.copy_(value.data if isinstance(value, Tensor) else value)
        return IncompatibleKeys(missing, unexpected)

    # -- repr ------------------------------------------------------------------------
    def extra_repr(self):
        """The text inside this module's parentheses in ``repr`` (its options)."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        children = [f"({name}): {_indent(repr(module), 2)}"
                    for name, module in self._modules.items()]
        if len(lines) == 1 and not children:
            return f"{type(self).__name__}({lines[0]})"
        if not lines and not children:
            return f"{type(self).__name__}()"
        body = "\n  ".join(lines + children)
        return f"{type(self).__name__}(\n  {body}\n)"


def _indent(text, spaces):
    """Indent every line but the first (the first follows a ``(name): `` label)."""
    first, *rest = text.split("\n")
    return "\n".join([first] + [" " * spaces + line for line in rest])
