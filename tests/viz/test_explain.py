"""cr.viz.explain: the worked examples, vectors, and a parser that rejects
everything outside its whitelist without ever evaluating it."""
import builtins

import numpy as np
import pytest
import torch

from chainrule.viz import Explanation, explain
from chainrule.viz.formatting import array as fmt


def torch_grads(fn, **values):
    ts = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in values.items()}
    out = fn(**ts)
    (out.sum() if out.dim() else out).backward()
    return out.detach().numpy(), {k: t.grad.numpy() for k, t in ts.items()}


def test_add_mul():
    e = explain("(x + y) * z", x=-2, y=5, z=-4)
    assert isinstance(e, Explanation)
    assert e.value == -12.0
    assert e.grads == {"x": -4.0, "y": -4.0, "z": 3.0}
    assert [s.node for s in e.steps] == ["MulBackward", "AddBackward"]
    assert e.graph.tensor("x + y").value_text == "3.0"
    text = str(e)
    assert "value: f = -12.0" in text
    for line in ("x = -4.0", "y = -4.0", "z = 3.0"):
        assert line in text


def test_max_example():
    e = explain("2*(x*y + max(z, w))", x=3, y=-4, z=2, w=-1)
    assert e.grads == {"x": -8.0, "y": 6.0, "z": 2.0, "w": 0.0}
    assert "MaximumBackward" in [s.node for s in e.steps]
    value, expected = torch_grads(lambda x, y, z, w: 2 * (x * y + torch.maximum(z, w)),
                                  x=3.0, y=-4.0, z=2.0, w=-1.0)
    assert e.value == value
    assert e.grads == {k: float(v) for k, v in expected.items()}


def test_sigmoid_neuron_staged_and_as_one_gate():
    staged = explain("1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))", w0=2, x0=-1, w1=-3, x1=-2, w2=-3)
    assert fmt(staged.value) == "0.7311"
    assert [fmt(staged.grads[k]) for k in ("x0", "x1")] == ["0.3932", "-0.5898"]
    assert [fmt(staged.grads[k]) for k in ("w0", "w1", "w2")] == ["-0.1966", "-0.3932", "0.1966"]
    gates = [s.node for s in staged.steps]
    for gate in ("DivBackward", "ExpBackward", "NegBackward", "AddBackward", "MulBackward"):
        assert gate in gates
    one = explain("sigmoid(sum(w * x) + b)", w=[2, -3], x=[-1, -2], b=-3)
    assert one.steps[0].node == "SigmoidBackward" and fmt(one.steps[0].local[0]) == "0.1966"
    assert fmt(one.grads["x"]) == "[0.3932, -0.5898]"
    assert fmt(np.append(one.grads["w"], one.grads["b"])) == "[-0.1966, -0.3932, 0.1966]"
    np.testing.assert_allclose([staged.grads[k] for k in ("w0", "w1")], one.grads["w"],
                               rtol=1e-14)
    np.testing.assert_allclose([staged.grads[k] for k in ("x0", "x1")], one.grads["x"],
                               rtol=1e-14)


def test_vector_result_is_summed_and_said():
    e = explain("x * y + 1", x=[1, 2, 3], y=[4, 5, 6])
    np.testing.assert_array_equal(e.value, [5.0, 11.0, 19.0])
    np.testing.assert_array_equal(e.grads["x"], [4.0, 5.0, 6.0])
    np.testing.assert_array_equal(e.grads["y"], [1.0, 2.0, 3.0])
    assert e.summed and "f is a vector: the backward pass starts from its sum" in str(e)
    value, expected = torch_grads(lambda x, y: x * y + 1, x=[1.0, 2.0, 3.0], y=[4.0, 5.0, 6.0])
    np.testing.assert_array_equal(e.value, value)


@pytest.mark.parametrize("expr", ["exp(x) * log(y) + sqrt(y) - abs(x)",
                                  "tanh(x) / (1 + sin(x) ** 2) + cos(y)",
                                  "relu(x - 1) + log1p(y) + min(x, y) + mean(x * y)",
                                  "x ** 3 - 2 ** y + (-x) * +y"])
def test_functions_against_torch(expr):
    e = explain(expr, x=[0.5, 2.0], y=[1.5, 0.25])
    torch_ns = {"exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt, "abs": torch.abs,
                "tanh": torch.tanh, "sin": torch.sin, "cos": torch.cos, "relu": torch.relu,
                "log1p": torch.log1p, "min": torch.minimum, "mean": torch.mean}
    # the same text evaluated by torch through a tiny interpreter of our own tree
    from chainrule.viz.parse import parse
    import ast
    tree = parse(expr).tree

    def ev(node, env):
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.UnaryOp):
            v = ev(node.operand, env)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left, env), ev(node.right, env)
            return {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
                    ast.Div: lambda: a / b, ast.Pow: lambda: a ** b}[type(node.op)]()
        return torch_ns[node.func.id](*[ev(a, env) for a in node.args])

    value, grads = torch_grads(lambda x, y: ev(tree, {"x": x, "y": y}), x=[0.5, 2.0],
                               y=[1.5, 0.25])
    np.testing.assert_allclose(e.value, value, rtol=1e-12)
    for k in ("x", "y"):
        np.testing.assert_allclose(e.grads[k], grads[k], rtol=1e-12)


def test_trace_and_backward_agree():
    e = explain("x * x * y + exp(y) * x", x=0.3, y=-1.2)
    for name, g in e.grads.items():
        assert e.steps.grads[name] == pytest.approx(g, rel=1e-15)


HOSTILE = [
    ("__import__('os').system('echo pwned')", r"attribute access"),
    ("__import__('os')", r"unknown function '__import__'|names beginning with '__'"),
    ("x.__class__", r"attribute access.*'x.__class__'"),
    ("x.real", r"attribute access.*'x.real'"),
    ("().__class__.__bases__[0].__subclasses__()", r"not allowed"),
    ("x[0]", r"subscripts.*'x\[0\]'"),
    ("lambda: x", r"lambda functions"),
    ("[i for i in x]", r"comprehensions"),
    ("(i for i in x)", r"generator expressions"),
    ("{k: 1 for k in x}", r"comprehensions"),
    ("import os", r"import statements.*'import os'"),
    ("from os import system", r"import statements"),
    ("y = x", r"assignments"),
    ("x; y", r"one expression"),
    ("eval('1')", r"unknown function 'eval'"),
    ("exec('x = 1')", r"unknown function 'exec'"),
    ("open('/etc/passwd')", r"unknown function 'open'"),
    ("getattr(x, 'real')", r"unknown function 'getattr'"),
    ("globals()", r"unknown function 'globals'"),
    ("x if y else z", r"conditional expressions"),
    ("x < y", r"comparisons.*'x < y'"),
    ("x and y", r"'and'/'or'"),
    ("(y := 2) * x", r"assignment expressions"),
    ("f'{x}'", r"f-strings"),
    ("'abc' * x", r"strings.*'abc'"),
    ("b'abc'", r"bytes"),
    ("max(*[x, y])", r"starred arguments"),
    ("exp(x=1)", r"keyword arguments.*'x=1'"),
    ("x // y", r"operator //"),
    ("x % y", r"operator %"),
    ("x @ y", r"operator @"),
    ("~x", r"operator ~"),
    ("not x", r"operator not"),
    ("x << 2", r"operator <<"),
    ("x ^ y", r"operator \^"),
    ("{1: x}", r"dict displays"),
    ("{x}", r"set displays"),
    ("(x, y)", r"tuples"),
    ("[x, y]", r"list displays"),
    ("1j * x", r"complex numbers"),
    ("True * x", r"True/False"),
    ("None", r"None"),
    ("x * ...", r"'\.\.\.'"),
    ("__builtins__", r"names beginning with '__'"),
    ("x.__dict__['a']", r"subscripts|attribute access"),
    ("sigmoid.__call__(x)", r"attribute access"),
    ("exp", r"'exp' is a function"),
    ("exp(x, y)", r"exp takes 1 argument"),
    ("max(x)", r"max takes 2 argument"),
    ("await x", r"await|not a valid expression"),
    ("yield x", r"yield|not a valid expression"),
    ("x +", r"not a valid expression"),
    ("exp(" * 150 + "x" + ")" * 150, r"nested more than"),
    ("-" * 5000 + "x", r"characters long"),
    ("(" * 1500 + "x" + ")" * 1500, r"characters long|nested"),
    ("x + " * 1000 + "x", r"characters long"),
    ("", r"empty"),
    ("x\0", r"not a valid expression|not allowed"),
]


@pytest.mark.parametrize("expr, message", HOSTILE)
def test_rejects_every_construct_outside_the_whitelist(expr, message, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("explain must never evaluate Python code")
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(builtins, "__import__", _only_known_imports(builtins.__import__))
    with pytest.raises(ValueError, match=message):
        explain(expr, x=1.0, y=2.0, z=3.0)


def _only_known_imports(real_import):
    def guarded(name, *args, **kwargs):
        if name in ("os", "subprocess", "sys.os"):
            raise AssertionError(f"explain imported {name}")
        return real_import(name, *args, **kwargs)
    return guarded


def test_enough_hostile_inputs():
    assert len(HOSTILE) >= 20


def test_a_valid_expression_needs_no_eval(monkeypatch):
    monkeypatch.setattr(builtins, "eval", None)
    monkeypatch.setattr(builtins, "exec", None)
    assert explain("x * 2", x=3).grads == {"x": 2.0}


def test_values_checked():
    with pytest.raises(ValueError, match=r"no value for 'z'; pass z=\.\.\. .*--at z=\.\.\."):
        explain("x * z", x=1)
    with pytest.raises(ValueError, match=r"'q' given but not used"):
        explain("x * 2", x=1, q=2)
    with pytest.raises(ValueError, match=r"has no variables"):
        explain("2 * 3")
    with pytest.raises(ValueError, match=r"a bool"):
        explain("x * 2", x=True)
    with pytest.raises(ValueError, match=r"flat list of numbers"):
        explain("x * 2", x=[[1, 2]])
    with pytest.raises(ValueError, match=r"must be a number or a list"):
        explain("x * 2", x="3")
    with pytest.raises(ValueError, match=r"cannot compute 'x \* y' at these values"):
        explain("x * y", x=[1, 2], y=[1, 2, 3])


def test_constants_fold_and_leaves_are_float64():
    e = explain("2 * 3 * x", x=1)
    assert e.grads == {"x": 6.0}
    assert len(e.steps) == 1
    assert e.graph.tensor("x").dtype == np.float64
    same = explain("x", x=4)
    assert same.value == 4.0 and same.grads == {"x": 1.0}
