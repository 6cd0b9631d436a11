"""The backward pass: the chain rule, one gate at a time, in reverse order.

Nodes are numbered as they are recorded, so every node's consumers carry a
larger number than the node itself. Popping the pending node with the largest
number from a heap therefore visits the graph in reverse topological order
with no recursion and no separate sorting pass: when a node is popped, every
gradient that can reach it has already been added into its buffer (fan-out
accumulates there). Leaves receive their total at the end, after their hooks.

In an ordinary backward every gradient is a plain NumPy array and no Tensor is
created until the leaves' ``.grad``. Under ``create_graph=True`` gradients are
Tensors and the formulas run with grad mode on, so the backward pass is itself
recorded.
"""
import heapq

import numpy as np

from . import anomaly
from .grad_mode import state as _grad_state
from .node import TensorCtx
from ..tensor import Tensor


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of ``tensors`` into the leaves' ``.grad``."""
    tensors = _as_tuple(tensors, "tensors")
    grads = _root_grads(tensors, grad_tensors, create_graph, "backward")
    only = None if inputs is None else {id(t): t for t in _as_tuple(inputs, "inputs")}
    if retain_graph is None:
        retain_graph = create_graph
    captured = _run(tensors, grads, retain_graph, create_graph, only)
    handed_out = set()
    for t, g in captured.values():
        _accumulate(t, g, create_graph, handed_out)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned as a
    tuple; nothing is accumulated into any ``.grad``."""
    outputs = _as_tuple(outputs, "outputs")
    inputs_t = _as_tuple(inputs, "inputs")
    for i, t in enumerate(inputs_t):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad; call "
                               f".requires_grad_() on it before computing the outputs")
    grads = _root_grads(outputs, grad_outputs, create_graph, "grad")
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    captured = _run(outputs, grads, retain_graph, create_graph,
                    {id(t): t for t in inputs_t}, prune=True)
    result = []
    for i, t in enumerate(inputs_t):
        entry = captured.get(id(t))
        if entry is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} was not used to compute the outputs (or does not "
                    f"reach them through recorded operations); pass allow_unused=True "
                    f"to get None for it")
            result.append(Tensor(np.zeros_like(t.data)) if materialize_grads else None)
            continue
        g = entry[1]
        result.append(g if isinstance(g, Tensor) else Tensor._make(g, None, False))
    return tuple(result)


def _as_tuple(x, what):
    if isinstance(x, Tensor):
        return (x,)
    if isinstance(x, (tuple, list)) and all(isinstance(t, Tensor) for t in x):
        return tuple(x)
    raise TypeError(f"{what} must be a Tensor or a sequence of Tensors, "
                    f"got {type(x).__name__}")


def _root_grads(tensors, grad_tensors, create_graph, where):
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    elif isinstance(grad_tensors, (Tensor, np.ndarray)) or np.isscalar(grad_tensors):
        grad_tensors = (grad_tensors,)
    if len(grad_tensors) != len(tensors):
        raise ValueError(f"{where}: got {len(tensors)} tensors but {len(grad_tensors)} "
                         f"gradients; pass one gradient per tensor")
    out = []
    for t, g in zip(tensors, grad_tensors):
        if not t.requires_grad:
            raise RuntimeError(
                f"{where}: the tensor does not require grad and has no grad_fn: it was not "
                f"computed from a tensor with requires_grad=True (or it was computed under "
                f"no_grad). Set requires_grad=True on the inputs you want gradients for.")
        if g is None:
            if t.data.size != 1:
                raise RuntimeError(
                    f"{where}: the output has shape {tuple(t.shape)}, and a gradient can be "
                    f"created implicitly only for a scalar (one element). Pass "
                    f"gradient=<a tensor of shape {tuple(t.shape)}> (the upstream gradient, "
                    f"e.g. cr.ones_like(y)), or reduce first: y.sum().backward()")
            g = np.ones_like(t.data)
        else:
            g_arr = g.data if isinstance(g, Tensor) else np.asarray(g, dtype=t.dtype)
            if g_arr.shape != t.shape:
                raise RuntimeError(f"{where}: gradient has shape {tuple(g_arr.shape)} but the "
                                   f"output has shape {tuple(t.shape)}; they must match")
            if create_graph and isinstance(g, Tensor):
                out.append(g)
                continue
            g = np.array(g_arr, dtype=t.dtype)   # a copy: the caller's array is never mutated
        out.append(Tensor._make(g, None, False) if create_graph else g)
    return out


def _add(a, b):
    return a + b


def _prune_set(roots, targets):
    """The nodes from which some target tensor can be reached (for ``grad``)."""
    target_nodes = {id(t.grad_fn) for t in targets.values() if t.grad_fn is not None}
    target_leaves = {tid for tid, t in targets.items() if t.grad_fn is None}
    order, seen, stack = [], set(), [t.grad_fn for t in roots if t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        order.append(node)
        for t in node.inputs:
            if isinstance(t, Tensor) and t.grad_fn is not None and id(t.grad_fn) not in seen:
                stack.append(t.grad_fn)
    useful = set()
    for node in sorted(order, key=lambda n: n.seq):   # inputs before consumers
        if id(node) in target_nodes or any(
                isinstance(t, Tensor) and (id(t) in target_leaves or id(t.grad_fn) in useful)
                for t in node.inputs):
            useful.add(id(node))
    return useful


def _run(roots, root_grads, retain_graph, create_graph, capture=None, prune=False):
    """Propagate ``root_grads`` from ``roots``. Returns ``{id: (leaf, total_grad)}``
    for the leaves reached (or only the ``capture`` tensors when given)."""
    useful = _prune_set(roots, capture) if prune else None
    buffers = {}      # node -> gradient (or a list, one per output)
    heap = []         # (-seq, node) for the pending nodes, except `ready`
    ready = None      # a pending node known to be the latest: it runs next
    leaves = {}       # id(tensor) -> [tensor, gradient]
    captured = {}
    push = heapq.heappush

    def send(t, g):
        """Add ``g`` to what ``t`` has received; returns t's node if that
        node has just become pending (it then needs a place in the queue)."""
        node = t.grad_fn
        if node is None:
            entry = leaves.get(id(t))
            if entry is None:
                leaves[id(t)] = [t, g]
            else:
                entry[1] = entry[1] + g
        elif useful is not None and id(node) not in useful:
            pass
        elif node.n_outputs == 1:
            old = buffers.get(node)
            if old is None:
                buffers[node] = g
                return node
            buffers[node] = old + g
        else:
            slots = buffers.get(node)
            k = t._output_nr
            if slots is None:
                slots = buffers[node] = [None] * node.n_outputs
                slots[k] = g
                return node
            slots[k] = g if slots[k] is None else slots[k] + g
        return None

    for t, g in zip(roots, root_grads):
        node = send(t, g)
        if node is not None:
            push(heap, (-node.seq, node))

    pop = heapq.heappop
    anomalies = anomaly.state.enabled
    free = not retain_graph
    single_path = useful is None    # no pruning: the inline path below serves every node
    prev_mode = _grad_state.enabled
    _grad_state.enabled = create_graph
    try:
        while True:
            if ready is not None:
                node, ready = ready, None
            elif heap:
                node = pop(heap)[1]
            else:
                break
            grad_out = buffers.pop(node)
            if node.watched or capture:
                grad_out = _visit_outputs(node, grad_out, create_graph, capture, captured)
            if node.freed:
                node.check_not_freed()
            for _, _, counter, saved_at in node._checks:
                if counter[0] != saved_at:   # changed in place since it was saved
                    node.check_versions()    # raises, naming the op and the user's line
            if create_graph:
                grads = _vjp_recorded(node, grad_out)
            elif node.n_outputs == 1:
                grads = node.op.vjp(node, grad_out)
            else:
                grads = node.op.vjp(node, *grad_out)
            if anomalies:
                anomaly.check_backward(node, grads)
            if free and node.freeable:
                node.release()
            for t, g, needed in zip(node.inputs, grads, node.needs_input_grad):
                if not needed or g is None:
                    continue
                # send(t, g) written out for its most common case, a
                # single-output node (one gradient per input of every node)
                nxt = t.grad_fn
                if nxt is not None and single_path and nxt.n_outputs == 1:
                    old = buffers.get(nxt)
                    if old is not None:
                        buffers[nxt] = old + g
                        continue
                    buffers[nxt] = g
                else:
                    nxt = send(t, g)
                    if nxt is None:
                        continue
                # nxt is newly pending. It runs next if no pending node is
                # later (a chain never touches the heap); the heap keeps the
                # rest in order, latest first.
                if ready is not None:
                    if nxt.seq < ready.seq:
                        push(heap, (-nxt.seq, nxt))
                        continue
                    push(heap, (-ready.seq, ready))
                elif heap and nxt.seq < -heap[0][0]:
                    push(heap, (-nxt.seq, nxt))
                    continue
                ready = nxt
    finally:
        _grad_state.enabled = prev_mode

    for tid, (t, g) in leaves.items():
        if t._hooks:
            g = _run_hooks(t._hooks, g, create_graph)
        if capture is None or tid in capture:
            captured[tid] = (t, g)
    return captured


def _vjp_recorded(node, grad_out):
    """Run a node's formula on Tensors, recording it (create_graph=True)."""
    ctx = TensorCtx(node)
    if node.n_outputs == 1:
        grads = node.op.vjp(ctx, grad_out)
    else:
        grads = node.op.vjp(ctx, *grad_out)
    return [g if g is None or isinstance(g, Tensor) else Tensor._make(g, None, False)
            for g in grads]


def _visit_outputs(node, grad_out, create_graph, capture, captured):
    """Hooks, ``retain_grad`` and ``autograd.grad`` captures of a non-leaf's outputs."""
    single = node.n_outputs == 1
    grads = [grad_out] if single else list(grad_out)
    for k, g in enumerate(grads):
        if g is None:
            continue
        if node.out_hooks and node.out_hooks.get(k):
            g = grads[k] = _run_hooks(node.out_hooks[k], g, create_graph)
        ref = node.retained.get(k) if node.retained else None
        t = ref() if ref is not None else None
        if t is not None:
            _accumulate(t, g, create_graph)
        if capture:
            for tid, target in capture.items():
                if target.grad_fn is node and target._output_nr == k:
                    captured[tid] = (target, g)
    return grads[0] if single else grads


def _run_hooks(hooks, g, create_graph):
    for hook in list(hooks):
        result = hook(g if create_graph else Tensor._make(g, None, False))
        if result is not None:
            if not isinstance(result, Tensor):
                raise TypeError(f"a gradient hook must return a Tensor or None, "
                                f"got {type(result).__name__}")
            if result.shape != np.shape(g):
                raise RuntimeError(f"a gradient hook changed the gradient's shape from "
                                   f"{tuple(np.shape(g))} to {tuple(result.shape)}")
            g = result if create_graph else result.data
    return g


def _accumulate(t, g, create_graph, handed_out=None):
    """Add ``g`` into ``t.grad`` (a Tensor with history only under create_graph)."""
    if create_graph:
        if not isinstance(g, Tensor):
            g = Tensor._make(g, None, False)
        t.grad = g if t.grad is None else t.grad + g
        return
    if isinstance(g, Tensor):
        g = g.data
    if g.dtype != t.data.dtype:
        g = g.astype(t.data.dtype)
    if t.grad is None:
        # Own the memory: a formula may hand one array (or views of it) to
        # several inputs, and optimisers and clip_grad_norm_ edit .grad in
        # place. A view of memory no other leaf holds is kept as it is.
        owner = g if g.base is None else g.base
        if not g.flags.writeable or (handed_out is not None and id(owner) in handed_out):
            g = g.copy()
            owner = g
        if handed_out is not None:
            handed_out.add(id(owner))
        t.grad = Tensor._make(g, None, False)
    else:
        t.grad.data = t.grad.data + g
