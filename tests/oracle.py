"""PyTorch as the test oracle: for every registered op, the same computation in torch.

``ORACLE[name](*inputs, **params)`` takes the op's positional inputs as torch
tensors (``to_torch`` of the arrays an op's ``samples`` returns) and its
keyword parameters unchanged, and returns what the op returns. Where the
chainrule op's calling convention differs from torch's (``gather`` takes
``index`` before ``dim``, reductions accept ``dim=None`` with ``keepdim``,
slices may step backwards), the entry translates it, so the tests compare one
meaning, not two spellings.

dtypes are never left to a default: ``to_torch`` keeps each array's dtype, so
float64 samples are compared in float64.
"""
import numpy as np
import torch
import torch.nn.functional as F

import chainrule as cr

_DTYPES = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32,
           np.dtype(np.float16): torch.float16, np.dtype(np.int64): torch.int64,
           np.dtype(np.int32): torch.int32, np.dtype(np.uint8): torch.uint8,
           np.dtype(np.bool_): torch.bool}


def torch_dtype(dtype):
    """The torch dtype for a NumPy dtype (or anything ``np.dtype`` accepts)."""
    return _DTYPES[np.dtype(dtype)]


def to_torch(x, requires_grad=False):
    """A torch tensor holding a copy of ``x`` (an ndarray, a NumPy scalar or a
    chainrule Tensor) in the same dtype; Python numbers and other values are
    returned unchanged."""
    data = x.data if isinstance(x, cr.Tensor) else x
    if isinstance(data, (np.ndarray, np.generic)):
        t = torch.from_numpy(np.array(data, copy=True))
        return t.requires_grad_(requires_grad) if requires_grad else t
    return x


def to_numpy(x):
    """An ndarray of a torch tensor or chainrule Tensor (tuples map element-wise);
    ``None`` stays ``None``."""
    if x is None:
        return None
    if isinstance(x, (tuple, list)):
        return type(x)(to_numpy(v) for v in x)
    if isinstance(x, torch.Tensor):
        # force: torch returns some known-zero gradients as a ZeroTensor, which
        # has no memory to share and converts only when forced
        return x.detach().numpy(force=True)
    return np.asarray(x.data if isinstance(x, cr.Tensor) else x)


# -- translations ----------------------------------------------------------------
def _reduce(fn, x, dim, keepdim, **kw):
    """torch reductions take no ``dim=None`` with ``keepdim=True``: pass every dim."""
    if dim is None:
        if not keepdim or x.ndim == 0:
            return fn(x, **kw)
        dim = tuple(range(x.ndim))
    return fn(x, dim=dim, keepdim=keepdim, **kw)


def _sum(x, dim=None, keepdim=False, dtype=None):
    return _reduce(torch.sum, x, dim, keepdim,
                   **({} if dtype is None else {"dtype": torch_dtype(dtype)}))


def _mean(x, dim=None, keepdim=False):
    return _reduce(torch.mean, x, dim, keepdim)


def _prod(x, dim=None, keepdim=False):
    """torch.prod reduces one dim at a time: reduce a tuple from the last dim
    back, so the remaining dims keep their numbers."""
    if dim is None:
        out = torch.prod(x)
        return out.reshape((1,) * x.ndim) if keepdim else out
    dims = (dim,) if isinstance(dim, int) else dim
    for d in sorted((d % max(x.ndim, 1) for d in dims), reverse=True):
        x = torch.prod(x, dim=d, keepdim=keepdim)
    return x


def _moment(fn):
    return lambda x, dim=None, correction=1, keepdim=False: _reduce(
        fn, x, dim, keepdim, correction=correction)


def _logsumexp(x, dim=None, keepdim=False):
    return torch.logsumexp(x, dim=tuple(range(x.ndim)) if dim is None else dim, keepdim=keepdim)


def _norm(x, p=2, dim=None, keepdim=False):
    return torch.linalg.vector_norm(x, ord=p, dim=dim, keepdim=keepdim)


def _torch_index(x, index):
    """``(x', index')`` with ``x'[index']`` in torch meaning NumPy's ``x[index]``.

    torch rejects negative slice steps, so each dimension sliced backwards is
    flipped first and sliced forwards: on a dimension of size n, the positions
    start, start - k, ... of x are n-1-start, n-1-start + k, ... of the flip.
    Index arrays and masks become tensors.
    """
    if type(index) is not tuple:
        index = (index,)
    used = sum(np.ndim(e) if isinstance(e, np.ndarray) and e.dtype == bool else
               0 if e is None or e is Ellipsis else 1 for e in index)
    out, flips, d = [], [], 0
    for e in index:
        if e is None:
            out.append(e)
        elif e is Ellipsis:
            out.append(e)
            d += x.ndim - used
        elif isinstance(e, slice):
            n = x.shape[d]
            start, stop, step = e.indices(n)
            if step < 0:
                flips.append(d)
                e = slice(n - 1 - start, n - 1 - stop, -step)
            out.append(e)
            d += 1
        elif isinstance(e, np.ndarray):
            out.append(torch.from_numpy(e.astype(np.int64) if e.dtype != bool else e))
            d += e.ndim if e.dtype == bool else 1
        else:
            out.append(e)
            d += 1
    if flips:
        x = torch.flip(x, flips)
    return x, tuple(out)


def _getitem(x, index=()):
    x, index = _torch_index(x, index)
    return x[index]


def _index_put(x, value, index, accumulate=False):
    """``x`` with ``x[index] = value`` (or ``+=``), with repeated positions
    resolved by the definition: writes happen in index order, so the last
    write to a position stays (accumulate=False) or all of them add up.

    The positions written are read off an index of ``arange``, so every kind
    of index is handled the same way.
    """
    positions = torch.arange(x.numel()).reshape(x.shape)
    flipped, idx = _torch_index(positions, index)
    positions = flipped[idx].reshape(-1)
    target = flipped[idx].shape
    value = torch.as_tensor(value, dtype=x.dtype)
    while value.ndim > len(target) and value.shape[0] == 1:
        value = value.squeeze(0)        # leading size-1 dims beyond the target are dropped
    value = torch.broadcast_to(value, target).reshape(-1)
    flat = x.reshape(-1)
    if accumulate:
        return flat.index_add(0, positions, value).reshape(x.shape)
    last = {}
    for k, p in enumerate(positions.tolist()):
        last[p] = k
    keep = torch.tensor(list(last.values()), dtype=torch.int64)
    return flat.index_put((positions[keep],), value[keep]).reshape(x.shape)


def _pad(x, pad, value=0):
    """Constant padding where negative amounts crop. torch refuses a crop that
    reaches past the data into the padding (``pad=(2, -4)`` on 3 elements),
    so pad by the positive amounts first, then crop by the negative ones:
    out[i] = x[i - left] either way."""
    grow = tuple(max(p, 0) for p in pad)
    crop = tuple(min(p, 0) for p in pad)
    return F.pad(F.pad(x, grow, value=value), crop)


def _overwrite(x, src):
    return x.clone().copy_(src)


ORACLE = {
    # elementwise
    "neg": torch.neg,
    "clone": torch.clone,
    "exp": torch.exp,
    "log": torch.log,
    "log1p": torch.log1p,
    "sqrt": torch.sqrt,
    "abs": torch.abs,
    "sin": torch.sin,
    "cos": torch.cos,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "erf": torch.erf,
    "clamp": lambda x, min=None, max=None: torch.clamp(x, min=min, max=max),
    "sign": torch.sign,
    "floor": torch.floor,
    # binary
    "add": torch.add,
    "sub": torch.sub,
    "mul": torch.mul,
    "div": torch.div,
    "pow": torch.pow,
    "maximum": torch.maximum,
    "minimum": torch.minimum,
    "where": torch.where,
    "to": lambda x, dtype: x.to(torch_dtype(dtype)),
    "eq": torch.eq,
    "ne": torch.ne,
    "lt": torch.lt,
    "le": torch.le,
    "gt": torch.gt,
    "ge": torch.ge,
    # reductions
    "sum": _sum,
    "mean": _mean,
    "prod": _prod,
    "var": _moment(torch.var),
    "std": _moment(torch.std),
    "amax": lambda x, dim=None, keepdim=False: _reduce(torch.amax, x, dim, keepdim),
    "amin": lambda x, dim=None, keepdim=False: _reduce(torch.amin, x, dim, keepdim),
    "logsumexp": _logsumexp,
    "norm": _norm,
    "argmax": lambda x, dim=None, keepdim=False: torch.argmax(x, dim=dim, keepdim=keepdim),
    "argmin": lambda x, dim=None, keepdim=False: torch.argmin(x, dim=dim, keepdim=keepdim),
    # shape
    "reshape": lambda x, shape: torch.reshape(x, tuple(shape)),
    "expand": lambda x, shape: x.expand(*shape),
    "permute": lambda x, dims: torch.permute(x, tuple(dims)),
    "overwrite": _overwrite,
    # indexing and joining
    "getitem": _getitem,
    "index": _getitem,
    "index_put": _index_put,
    "gather": lambda x, index, dim: torch.gather(x, dim, index.long()),
    "scatter_add": lambda x, index, src, dim: torch.scatter_add(x, dim, index.long(), src),
    "cat": lambda *xs, dim=0: torch.cat(xs, dim=dim),
    "flip": lambda x, dims: torch.flip(x, tuple(dims)),
    "repeat": lambda x, sizes: x.repeat(*sizes),
    "pad": _pad,
    # linear algebra
    "matmul": torch.matmul,
    "einsum": lambda *operands, equation: torch.einsum(equation, *operands),
}


# -- convolution and pooling ---------------------------------------------------------
def _conv(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    conv = {3: F.conv1d, 4: F.conv2d, 5: F.conv3d}[w.ndim]
    return conv(x, w, b, stride, padding, dilation, groups)


def _conv_transpose(g, w, input_size, stride=1, padding=0, dilation=1, groups=1):
    """The input gradient of a convolution (torch.nn.grad, which torch can
    differentiate again)."""
    conv_input = getattr(torch.nn.grad, f"conv{w.ndim - 2}d_input")
    return conv_input(input_size, w, g, stride, padding, dilation, groups)


def _conv_weight_grad(x, g, weight_size, stride=1, padding=0, dilation=1, groups=1):
    conv_weight = getattr(torch.nn.grad, f"conv{len(weight_size) - 2}d_weight")
    return conv_weight(x, weight_size, g, stride, padding, dilation, groups)


def _route_indices(route):
    """torch's own arg-max indices (flat in each H x W plane) for the max pool a
    route was made by, from the route's input and options."""
    state = route.state
    x = torch.from_numpy(np.array(state.x_pad[state.plan.interior]))
    return F.max_pool2d(x, return_indices=True, **route.options)[1]


def _max_pool2d_scatter(g, route):
    index = _route_indices(route).flatten(-2)
    height, width = route.input_shape[-2:]
    planes = torch.zeros(g.shape[:-2] + (height * width,), dtype=g.dtype)
    return planes.scatter_add(-1, index, g.flatten(-2)).reshape(route.input_shape)


def _max_pool2d_gather(v, route):
    index = _route_indices(route)
    return v.flatten(-2).gather(-1, index.flatten(-2)).reshape(index.shape)


def _adjoint_of_pool(pool, g, input_size):
    """The adjoint of a linear pool applied to g: the gradient of <pool(z), g>
    at any z (zeros), recorded so that torch differentiates it in g."""
    z = torch.zeros(input_size, dtype=g.dtype, requires_grad=True)
    return torch.autograd.grad(pool(z), z, g, create_graph=True)[0]


ORACLE.update({
    "conv": _conv,
    "conv_transpose": _conv_transpose,
    "conv_weight_grad": _conv_weight_grad,
    "max_pool2d": F.max_pool2d,
    "max_pool2d_indices": lambda x, **options: F.max_pool2d(x, return_indices=True,
                                                            **options)[1],
    "max_pool2d_scatter": _max_pool2d_scatter,
    "max_pool2d_gather": _max_pool2d_gather,
    "avg_pool2d": F.avg_pool2d,
    "avg_pool2d_transpose": lambda g, input_size, **options: _adjoint_of_pool(
        lambda z: F.avg_pool2d(z, **options), g, input_size),
    "adaptive_avg_pool2d": F.adaptive_avg_pool2d,
    "adaptive_avg_pool2d_transpose": lambda g, input_size: _adjoint_of_pool(
        lambda z: F.adaptive_avg_pool2d(z, g.shape[-2:]), g, input_size),
})


def _lstm_cell(input_gates, h_prev, weight_hh, c_prev):
    i, f, g, o = (input_gates + h_prev @ weight_hh.T).chunk(4, dim=-1)
    c = torch.sigmoid(f) * c_prev + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _gru_cell(input_gates, h_prev, weight_hh, bias_hh=None):
    hidden_gates = h_prev @ weight_hh.T + (0 if bias_hh is None else bias_hh)
    x_r, x_z, x_n = input_gates.chunk(3, dim=-1)
    h_r, h_z, h_n = hidden_gates.chunk(3, dim=-1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h_prev


ORACLE.update({"unbind": lambda x, dim=0: torch.unbind(x, dim),
               "stack": lambda *xs, dim=0: torch.stack(xs, dim),
               "linear": lambda x, weight, bias=None: F.linear(x, weight, bias),
               "lstm_cell": _lstm_cell, "gru_cell": _gru_cell})
