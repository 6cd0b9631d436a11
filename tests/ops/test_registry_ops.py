"""Every registered op, on each of its own samples, against PyTorch and itself.

For each op in the registry and each ``(inputs, params)`` of ``op.samples``:

(a) forward: value, shape and dtype equal torch's (``oracle.ORACLE``) in float64;
(b) first order: the gradient of every float input, for a random upstream
    gradient v (the all-ones one from ``.sum()`` would hide a mistake that
    permutes or mixes elements), equals torch's;
(c) second order: the gradient of <grad, w> (w random) with respect to the
    inputs and to v, through ``create_graph=True``, equals torch's;
(d) central finite differences: ``gradcheck`` and ``gradgradcheck``;
(e) forward mode against reverse mode: for random u and v,
    <v, J u> (from ``op.jvp``) equals <J^T v, u> (from ``op.vjp``);
(f) the oracle covers every registered op, so a new op is tested from the
    moment it is registered.

Then hypothesis varies the shapes the op's own samples fix: every elementwise,
binary (broadcasting) and reduction op, on 0-d, size-0 and broadcast shapes
and on every kind of ``dim``, value and gradient against torch.

Float arrays among an op's positional inputs are the differentiable inputs;
other positional inputs (index arrays, boolean conditions) are constants.
"""
import zlib

import numpy as np
import pytest
import torch
from hypothesis import given, settings

import chainrule as cr
import strategies
from chainrule.autograd.gradcheck import gradcheck, gradgradcheck
from chainrule.cli.gradcheck import load_registry
from chainrule.ops.binary import Binary
from chainrule.ops.compare import Compare
from chainrule.ops.reduce import Reduction
from chainrule.ops.registry import as_array
from oracle import ORACLE, to_numpy, to_torch, torch_dtype

REGISTRY = load_registry()
RTOL, ATOL = 1e-10, 1e-12


def _draw(name):
    """The op's samples from a generator seeded by its name, or the exception
    ``samples`` raised (reported by ``test_samples_can_be_drawn``)."""
    try:
        return REGISTRY[name].samples(np.random.default_rng(zlib.crc32(name.encode())))
    except Exception as e:   # reported as a test failure, not a collection error
        return e


SAMPLES = {name: _draw(name) for name in sorted(REGISTRY)}
CASES = [pytest.param(name, k, id=f"{name}-{k}") for name, samples in SAMPLES.items()
         if isinstance(samples, list) for k in range(len(samples))]


# -- setup -----------------------------------------------------------------------
class Case:
    """One sample as chainrule and torch inputs, with its differentiable positions."""

    def __init__(self, name, k):
        self.name, self.op = name, REGISTRY[name]
        inputs, self.params = SAMPLES[name][k]
        self.diff = [i for i, a in enumerate(inputs) if _is_float_array(a)]
        self.ours = [cr.tensor(a, requires_grad=True) if i in self.diff else a
                     for i, a in enumerate(inputs)]
        self.theirs = [to_torch(a, requires_grad=i in self.diff) for i, a in enumerate(inputs)]

    def run_ours(self):
        return _as_tuple(self.op(*self.ours, **self.params))

    def run_theirs(self):
        return _as_tuple(ORACLE[self.name](*self.theirs, **self.params))

    def xs(self):
        return [self.ours[i] for i in self.diff], [self.theirs[i] for i in self.diff]


def _is_float_array(a):
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _differentiable_outputs(ours, theirs):
    """The float outputs that carry a gradient, checked to agree with torch on which."""
    pairs = []
    for k, (o, t) in enumerate(zip(ours, theirs)):
        if o.dtype.kind != "f":
            continue
        assert o.requires_grad == t.requires_grad, \
            f"output {k}: requires_grad is {o.requires_grad}, torch says {t.requires_grad}"
        if o.requires_grad:
            pairs.append((o, t))
    assert pairs, "the op has samples but no output carries a gradient"
    return pairs


def _assert_close(ours, theirs, what):
    ours = np.asarray(ours)
    theirs = np.asarray(theirs)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, torch {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, err_msg=what)


def _grads_or_zeros(grads, like):
    return [np.zeros(x.shape) if g is None else to_numpy(g) for g, x in zip(grads, like)]


# -- (a) forward --------------------------------------------------------------------
@pytest.mark.parametrize("name, k", CASES)
def test_forward_matches_torch(name, k):
    case = Case(name, k)
    ours, theirs = case.run_ours(), case.run_theirs()
    assert len(ours) == len(theirs)
    for j, (o, t) in enumerate(zip(ours, theirs)):
        assert isinstance(o, cr.Tensor)
        assert torch_dtype(o.dtype) == t.dtype, f"output {j}: dtype {o.dtype}, torch {t.dtype}"
        _assert_close(o.data, to_numpy(t), f"{name} output {j}")


# -- (b) first order ---------------------------------------------------------------
@pytest.mark.parametrize("name, k", CASES)
def test_gradient_matches_torch(name, k, rng):
    case = Case(name, k)
    pairs = _differentiable_outputs(case.run_ours(), case.run_theirs())
    vs = [rng.standard_normal(o.shape) for o, _ in pairs]
    xs, txs = case.xs()
    ours = cr.autograd.grad([o for o, _ in pairs], xs, grad_outputs=[cr.tensor(v) for v in vs],
                            allow_unused=True)
    theirs = torch.autograd.grad([t for _, t in pairs], txs,
                                 grad_outputs=[to_torch(v) for v in vs], allow_unused=True)
    for i, g, x in zip(case.diff, ours, xs):
        if g is not None:
            assert g.shape == x.shape and g.dtype == x.dtype, \
                f"gradient of input {i}: {g.dtype} {g.shape} for a {x.dtype} {x.shape} input"
    for i, g, t in zip(case.diff, _grads_or_zeros(ours, xs), _grads_or_zeros(theirs, xs)):
        _assert_close(g, t, f"{name}: gradient of input {i}")


# -- (c) second order --------------------------------------------------------------
@pytest.mark.parametrize("name, k", CASES)
def test_second_order_matches_torch(name, k, rng):
    case = Case(name, k)
    pairs = _differentiable_outputs(case.run_ours(), case.run_theirs())
    vs = [rng.standard_normal(o.shape) for o, _ in pairs]
    xs, txs = case.xs()
    ws = [rng.standard_normal(x.shape) for x in xs]
    our_vs = [cr.tensor(v, requires_grad=True) for v in vs]
    their_vs = [to_torch(v, requires_grad=True) for v in vs]

    def second(grad_fn, outputs, inputs, upstream, tensor):
        """d<grad, w>/d(inputs, upstream); None where nothing depends on them
        (a gradient may be a constant zero on one side and a recorded zero on
        the other, as for an empty output)."""
        grads = grad_fn(outputs, inputs, grad_outputs=upstream, create_graph=True,
                        allow_unused=True)
        terms = [(g * tensor(w)).sum() for g, w in zip(grads, ws)
                 if g is not None and g.requires_grad]
        if not terms:
            return [None] * (len(inputs) + len(upstream))
        return grad_fn(terms, inputs + upstream, allow_unused=True)

    our_h = second(cr.autograd.grad, [o for o, _ in pairs], xs, our_vs, cr.tensor)
    their_h = second(torch.autograd.grad, [t for _, t in pairs], txs, their_vs, to_torch)
    labels = [f"input {i}" for i in case.diff] + [f"grad_output {j}" for j in range(len(vs))]
    for label, h, t in zip(labels, _grads_or_zeros(our_h, xs + our_vs),
                           _grads_or_zeros(their_h, xs + our_vs)):
        _assert_close(h, t, f"{name}: d<grad, w>/d {label}")


# -- (d) finite differences -----------------------------------------------------------
@pytest.mark.parametrize("name, k", CASES)
def test_gradcheck_and_gradgradcheck(name, k, rng):
    case = Case(name, k)
    params = case.params

    def fn(*args):
        return case.op(*args, **params)

    assert gradcheck(fn, tuple(case.ours))
    outs = [o for o in case.run_ours() if o.requires_grad and o.dtype.kind == "f"]
    grad_outputs = tuple(cr.tensor(rng.standard_normal(o.shape), requires_grad=True)
                         for o in outs)
    assert gradgradcheck(fn, tuple(case.ours), grad_outputs)


# -- (e) forward mode against reverse mode ----------------------------------------------
@pytest.mark.parametrize("name, k", CASES)
def test_jvp_agrees_with_vjp(name, k, rng):
    """<v, J u> = <J^T v, u>: the jvp and the vjp are one linear map and its adjoint."""
    case = Case(name, k)
    outs = case.run_ours()
    node = outs[0].grad_fn
    assert node is not None and all(o.grad_fn is node for o in outs if o.requires_grad)
    us = [rng.standard_normal(np.shape(a)) if i in case.diff else None
          for i, a in enumerate(case.ours)]
    vs = [rng.standard_normal(o.shape) for o in outs]
    jvp_out = _as_tuple(case.op.jvp(node, *us))
    vjp_out = case.op.vjp(node, *vs)
    assert len(jvp_out) == len(outs) and len(vjp_out) == len(case.ours)
    lhs = 0.0
    for o, ju, v in zip(outs, jvp_out, vs):
        if ju is None:
            continue    # a tangent that is known to be zero
        ju = np.asarray(as_array(ju))
        assert ju.shape == o.shape, f"jvp returned shape {ju.shape} for an output of {o.shape}"
        lhs += np.sum(v * ju)
    rhs = 0.0
    for i in case.diff:
        if vjp_out[i] is None:
            continue    # a gradient that is known to be zero (an overwritten input)
        g = np.asarray(as_array(vjp_out[i]))
        assert g.shape == case.ours[i].shape, \
            f"vjp returned shape {g.shape} for input {i} of shape {case.ours[i].shape}"
        rhs += np.sum(g * us[i])
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-12)


# -- (f) coverage ----------------------------------------------------------------------
def test_every_registered_op_has_an_oracle():
    missing = sorted(set(REGISTRY) - set(ORACLE))
    assert not missing, f"add a PyTorch equivalent to tests/oracle.py for: {missing}"


def test_every_oracle_entry_names_a_registered_op():
    stale = sorted(set(ORACLE) - set(REGISTRY))
    assert not stale, f"tests/oracle.py has entries for ops that are not registered: {stale}"


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_samples_can_be_drawn(name):
    samples = SAMPLES[name]
    if isinstance(samples, Exception):
        raise samples
    for inputs, params in samples:
        assert isinstance(inputs, tuple) and isinstance(params, dict)
        for a in inputs:
            if _is_float_array(a):
                assert a.dtype == np.float64, f"{name}: a sample input is {a.dtype}, not float64"


def test_ops_with_samples_are_differentiable():
    """An op marked ``differentiable=False`` is never recorded, so samples
    offered for it would check nothing; it must return none."""
    bad = [n for n, s in SAMPLES.items() if isinstance(s, list) and s
           and not REGISTRY[n].differentiable]
    assert not bad, f"ops marked differentiable=False that return samples: {bad}"


# -- hypothesis: shapes beyond the samples ------------------------------------------
def _family(kind):
    return sorted(n for n, op in REGISTRY.items() if kind(op))


UNARY = _family(lambda op: type(op).__module__ == "chainrule.ops.elementwise")
BINARY = _family(lambda op: isinstance(op, (Binary, Compare)))
REDUCTIONS = _family(lambda op: isinstance(op, Reduction))
TORCH_REFUSES = (RuntimeError, IndexError, ValueError)


def _fixed_params(name, varied=()):
    """The op's options other than those hypothesis varies, from its first
    sample (``clamp`` needs a bound, ``norm`` its p)."""
    samples = SAMPLES[name]
    params = dict(samples[0][1]) if isinstance(samples, list) and samples else {}
    return {k: v for k, v in params.items() if k not in varied}


def _check_against_torch(name, arrays, params, seed):
    """Value and gradient (random upstream) of one call against torch; where
    torch refuses the input, the op must refuse it too."""
    op = REGISTRY[name]
    ours_in = [cr.tensor(a, requires_grad=True) for a in arrays]
    theirs_in = [to_torch(a, requires_grad=True) for a in arrays]
    try:
        theirs = ORACLE[name](*theirs_in, **params)
    except TORCH_REFUSES as refusal:
        with pytest.raises((ValueError, IndexError, TypeError, RuntimeError)):
            op(*ours_in, **params)
            pytest.fail(f"torch refuses this input ({refusal}) but {name} accepts it")
        return
    ours = op(*ours_in, **params)
    assert torch_dtype(ours.dtype) == theirs.dtype
    _assert_close(ours.data, to_numpy(theirs), f"{name} value")
    if not theirs.requires_grad:
        assert not ours.requires_grad
        return
    v = np.random.default_rng(seed).standard_normal(ours.shape)
    our_grads = cr.autograd.grad(ours, ours_in, grad_outputs=cr.tensor(v), allow_unused=True)
    their_grads = torch.autograd.grad(theirs, theirs_in, grad_outputs=to_torch(v),
                                      allow_unused=True)
    for i, (g, t) in enumerate(zip(_grads_or_zeros(our_grads, ours_in),
                                   _grads_or_zeros(their_grads, ours_in))):
        _assert_close(g, t, f"{name}: gradient of input {i}")


# degenerate inputs (empty reductions, too few elements for var) warn on both sides
degenerate_inputs_warn = pytest.mark.filterwarnings("ignore::RuntimeWarning",
                                                    "ignore::UserWarning")


@degenerate_inputs_warn
@pytest.mark.parametrize("name", UNARY)
@settings(max_examples=15)
@given(shape=strategies.shapes(), seed=strategies.seeds())
def test_elementwise_on_any_shape_matches_torch(name, shape, seed):
    x = REGISTRY[name].domain.sample(np.random.default_rng(seed), shape)
    _check_against_torch(name, [x], _fixed_params(name), seed)


@degenerate_inputs_warn
@pytest.mark.parametrize("name", BINARY)
@settings(max_examples=15)
@given(shapes=strategies.broadcast_pairs(), seed=strategies.seeds())
def test_binary_broadcasting_matches_torch(name, shapes, seed):
    rng = np.random.default_rng(seed)
    arrays = [REGISTRY[name].domain.sample(rng, s) for s in shapes]
    _check_against_torch(name, arrays, _fixed_params(name), seed)


@degenerate_inputs_warn
@pytest.mark.parametrize("name", REDUCTIONS)
@settings(max_examples=25)
@given(case=strategies.reductions(), seed=strategies.seeds())
def test_reduction_over_any_dims_matches_torch(name, case, seed):
    shape, dim, keepdim = case
    x = REGISTRY[name].domain.sample(np.random.default_rng(seed), shape)
    params = dict(_fixed_params(name, varied=("dim", "keepdim")), dim=dim, keepdim=keepdim)
    _check_against_torch(name, [x], params, seed)


def test_the_hypothesis_families_are_not_empty():
    """The families above are found by class; an empty one would test nothing."""
    assert {"exp", "tanh"} <= set(UNARY)
    assert {"add", "pow", "lt"} <= set(BINARY)
    assert {"sum", "mean"} <= set(REDUCTIONS)
