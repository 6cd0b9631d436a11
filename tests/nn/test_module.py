"""Module semantics against torch.nn.Module: registration and its order,
traversal, state_dict and load_state_dict, modes, casting, repr, containers."""
import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
from nn.nn_oracle import assert_close, copy_weights, to_torch


def _build(lib):
    """The same model in either library: nested modules, a bare parameter,
    persistent and non-persistent buffers, a shared submodule."""
    class Block(lib.Module):
        def __init__(self):
            super().__init__()
            self.scale = lib.Parameter(lib.ones(3, dtype=lib.float64))
            self.fc = lib.Linear(3, 3).double()
            self.register_buffer("count", lib.zeros((), dtype=lib.int64))
            self.register_buffer("cache", lib.zeros(3, dtype=lib.float64), persistent=False)

        def forward(self, x):
            return self.fc(x) * self.scale

    class Net(lib.Module):
        def __init__(self):
            super().__init__()
            self.first = lib.Linear(2, 3).double()
            self.blocks = lib.ModuleList([Block(), Block()])
            self.head = lib.Sequential(OrderedDict(act=lib.Tanh(), out=lib.Linear(3, 1).double()))
            self.shared = self.blocks[0]          # the same module under two names
            self.bias = lib.Parameter(lib.zeros(1, dtype=lib.float64))

        def forward(self, x):
            x = self.first(x)
            for block in self.blocks:
                x = block(x)
            return self.head(self.shared(x)) + self.bias

    return Net()


class _TorchLib:
    """torch.nn's names under chainrule's spelling, for ``_build``."""
    Module, Parameter, Linear, ModuleList = (torch.nn.Module, torch.nn.Parameter,
                                             torch.nn.Linear, torch.nn.ModuleList)
    Sequential, Tanh = torch.nn.Sequential, torch.nn.Tanh
    ones, zeros, float64, int64 = torch.ones, torch.zeros, torch.float64, torch.int64


class _OurLib:
    Module, Parameter, Linear, ModuleList = nn.Module, nn.Parameter, nn.Linear, nn.ModuleList
    Sequential, Tanh = nn.Sequential, nn.Tanh
    ones, zeros, float64, int64 = cr.ones, cr.zeros, cr.float64, cr.int64


def test_names_and_order_match_torch():
    ours, theirs = _build(_OurLib), _build(_TorchLib)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))
    assert len(list(ours.modules())) == len(list(theirs.modules()))
    assert repr(ours) == repr(theirs)


def test_shared_parameters_are_listed_once_but_saved_under_every_name():
    net = _build(_OurLib)
    params = list(net.parameters())
    assert len(params) == len({id(p) for p in params})
    state = net.state_dict()
    assert state["shared.scale"] is not state["blocks.0.scale"]
    np.testing.assert_array_equal(state["shared.fc.weight"].data, state["blocks.0.fc.weight"].data)


def test_state_dict_round_trip_with_torch(rng):
    ours, theirs = _build(_OurLib), _build(_TorchLib)
    copy_weights(ours, theirs)                      # ours -> torch (strict: same keys)
    x = rng.standard_normal((4, 2))
    assert_close(ours(cr.tensor(x)), theirs(to_torch(x)))
    fresh = _build(_OurLib)                         # torch -> ours
    result = fresh.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert result == ([], []) and result.missing_keys == [] and result.unexpected_keys == []
    assert_close(fresh(cr.tensor(x)), theirs(to_torch(x)))


def test_state_dict_values_are_detached_and_share_memory():
    layer = nn.Linear(2, 2)
    state = layer.state_dict()
    assert all(not v.requires_grad and v.grad_fn is None for v in state.values())
    assert not isinstance(state["weight"], nn.Parameter)
    with cr.no_grad():
        layer.weight.mul_(2.0)
    np.testing.assert_array_equal(state["weight"].data, layer.weight.data)
    kept = layer.state_dict(keep_vars=True)
    assert kept["weight"] is layer.weight


def test_load_state_dict_copies_in_place_and_keeps_identity():
    src, dst = nn.Linear(3, 2), nn.Linear(3, 2)
    weight = dst.weight
    dst.load_state_dict(src.state_dict())
    assert dst.weight is weight and dst.weight.dtype == cr.float32
    np.testing.assert_array_equal(dst.weight.data, src.weight.data)
    with cr.no_grad():
        src.weight.zero_()
    assert not np.all(dst.weight.data == 0)         # a copy, not a shared array
    dst.load_state_dict({k: v.double() for k, v in src.state_dict().items()})
    assert dst.weight.dtype == cr.float32           # the module's dtype wins


def test_load_state_dict_errors_like_torch():
    net = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    state = net.state_dict()
    del state["1.running_var"]
    state["extra"] = cr.zeros(1)
    state["0.weight"] = cr.zeros(3, 2)
    before = net[0].bias.data.copy()
    state["0.bias"] = cr.ones(2)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    assert "Error(s) in loading state_dict for Sequential" in message
    assert 'Missing key(s) in state_dict: "1.running_var".' in message
    assert 'Unexpected key(s) in state_dict: "extra".' in message
    assert ("size mismatch for 0.weight: copying a param with shape (3, 2) from checkpoint, "
            "the shape in current model is (2, 3).") in message
    np.testing.assert_array_equal(net[0].bias.data, before)       # nothing was copied
    # not strict: shape errors still raise; missing and unexpected keys are returned
    state["0.weight"] = cr.zeros(2, 3)
    missing, unexpected = net.load_state_dict(state, strict=False)
    assert (missing, unexpected) == (["1.running_var"], ["extra"])
    assert np.all(net[0].bias.data == 1)
    with pytest.raises(RuntimeError, match="size mismatch for 0.weight"):
        net.load_state_dict({"0.weight": cr.zeros(1)}, strict=False)


def test_non_persistent_buffers_are_not_saved():
    m = nn.Module()
    m.register_buffer("a", cr.zeros(2))
    m.register_buffer("b", cr.zeros(2), persistent=False)
    assert list(m.state_dict()) == ["a"]
    assert [n for n, _ in m.named_buffers()] == ["a", "b"]


def test_train_eval_and_zero_grad():
    net = _build(_OurLib)
    assert all(m.training for m in net.modules())
    assert net.eval() is net and not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="train: mode must be a bool"):
        net.train("no")
    net(cr.randn(2, 2, dtype=cr.float64)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.data == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_apply_visits_children_first():
    net = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU(), nn.Tanh()))
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "ReLU", "Tanh", "Sequential", "Sequential"]


def test_to_double_float_keep_parameters_and_int_buffers():
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    weight = net[0].weight
    net(cr.randn(3, 2)).sum().backward()
    assert net.double() is net
    assert net[0].weight is weight and weight.dtype == cr.float64
    assert weight.grad.dtype == cr.float64
    assert net[1].running_mean.dtype == cr.float64
    assert net[1].num_batches_tracked.dtype == cr.int64
    net.float()
    assert weight.dtype == cr.float32
    assert net.to("cpu") is net
    with pytest.raises(ValueError, match="CPU only"):
        net.to("cuda")
    with pytest.raises(TypeError, match="only be cast to a floating dtype"):
        net.to(cr.int64)


def test_attribute_assignment_rules():
    m = nn.Module()
    m.w = nn.Parameter(cr.zeros(2))
    with pytest.raises(TypeError, match=r"cannot assign a Tensor to parameter 'w' "
                                        r"\(nn.Parameter or None expected\)"):
        m.w = cr.ones(2)
    m.w = None
    assert "w" in m._parameters and list(m.parameters()) == []
    m.sub = nn.Linear(1, 1)
    with pytest.raises(TypeError, match="cannot assign a int to submodule 'sub'"):
        m.sub = 3
    m.register_buffer("buf", cr.zeros(1))
    m.buf = cr.ones(1)
    assert m.state_dict()["buf"].tolist() == [1.0]
    with pytest.raises(TypeError, match="cannot assign a list to buffer 'buf'"):
        m.buf = [1.0]
    m.plain = cr.ones(1)               # a plain tensor attribute is not state
    assert "plain" not in m.state_dict()
    del m.sub
    assert list(m.children()) == []
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'missing'"):
        m.missing
    with pytest.raises(KeyError, match="attribute 'plain' already exists"):
        m.register_buffer("plain", cr.zeros(1))
    with pytest.raises(KeyError, match="without '.'"):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="must be an nn.Parameter or None, got Tensor"):
        m.register_parameter("p", cr.zeros(1))

    class Early(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)
    with pytest.raises(AttributeError, match=r"before Module.__init__\(\) has run"):
        Early()


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match='Module is missing the required "forward"'):
        nn.Module()(1)


def test_parameter():
    data = cr.tensor([1.0, 2.0])
    p = nn.Parameter(data)
    assert isinstance(p, cr.Tensor) and p.requires_grad and p.is_leaf
    assert p.data is data.data                     # shares the array, as torch
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    assert type(p * 2) is cr.Tensor
    assert not nn.Parameter(cr.zeros(1), requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)


def test_deepcopy_gives_an_independent_model():
    net = _build(_OurLib)
    clone = copy.deepcopy(net)
    assert isinstance(clone.first.weight, nn.Parameter)
    assert clone.shared is clone.blocks[0]          # sharing is preserved
    with cr.no_grad():
        clone.first.weight.zero_()
    assert not np.all(net.first.weight.data == 0)


# -- containers --------------------------------------------------------------------
def test_sequential():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b)
    assert len(seq) == 2 and seq[0] is a and seq[-1] is b and list(seq) == [a, b]
    seq.append(c)
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2"]
    x = cr.randn(4, 2)
    np.testing.assert_allclose(seq(x).data, c(b(a(x))).data)
    assert isinstance(seq[1:], nn.Sequential) and list(seq[1:]) == [b, c]
    seq[1] = nn.Tanh()
    assert isinstance(seq[1], nn.Tanh)
    del seq[0]
    assert list(seq) == [seq[0], c]
    with pytest.raises(IndexError, match="Sequential: index 5 is out of range for 2"):
        seq[5]


def test_module_list():
    layers = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(nn.ReLU())
    layers.insert(0, nn.Tanh())
    assert [type(m).__name__ for m in layers] == ["Tanh", "Linear", "Linear", "Linear", "ReLU"]
    del layers[1]
    assert [n for n, _ in layers.named_children()] == ["0", "1", "2", "3"]
    layers += [nn.Sigmoid()]
    assert isinstance(layers[-1], nn.Sigmoid)
    assert isinstance(layers[:2], nn.ModuleList) and len(layers[:2]) == 2
    with pytest.raises(TypeError, match="ModuleList indices must be integers or slices"):
        layers["a"]
    # runs of modules with the same repr are folded, as torch does
    ours = nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Linear(2, 3), nn.ReLU()])
    theirs = torch.nn.ModuleList([torch.nn.ReLU(), torch.nn.ReLU(), torch.nn.Linear(2, 3),
                                  torch.nn.ReLU()])
    assert repr(ours) == repr(theirs)


def test_module_dict():
    d = nn.ModuleDict({"enc": nn.Linear(2, 2), "dec": nn.Linear(2, 1)})
    assert list(d) == ["enc", "dec"] and "enc" in d and len(d) == 2
    assert [n for n, _ in d.named_parameters()] == ["enc.weight", "enc.bias", "dec.weight",
                                                     "dec.bias"]
    d["act"] = nn.ReLU()
    assert list(d.keys()) == ["enc", "dec", "act"]
    assert isinstance(d.pop("act"), nn.ReLU) and "act" not in d
    with pytest.raises(KeyError, match="ModuleDict has no key 'nope'"):
        d["nope"]
    theirs = torch.nn.ModuleDict({"enc": torch.nn.Linear(2, 2), "dec": torch.nn.Linear(2, 1)})
    assert repr(d) == repr(theirs)


def test_get_submodule():
    net = _build(_OurLib)
    assert net.get_submodule("head.out") is net.head.out
    assert net.get_submodule("") is net
    with pytest.raises(AttributeError, match="has no submodule 'nope'"):
        net.get_submodule("head.nope")
