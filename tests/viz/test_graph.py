"""cr.viz.graph: nodes, values, gradients, output formats, escaping, size limits."""
import re
import time

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.viz import Graph, graph


def leaf(value, name=None):
    return cr.Tensor(np.array(value, dtype=np.float64), requires_grad=True, name=name)


def circuit():
    x, y, z = leaf(-2, "x"), leaf(5, "y"), leaf(-4, "z")
    return (x, y, z), (x + y) * z


def test_nodes_values_and_replayed_gradients():
    (x, y, z), f = circuit()
    g = graph(f)
    assert isinstance(g, Graph)
    assert sorted(gate.name for gate in g.gates.values()) == ["AddBackward", "MulBackward"]
    assert {t.label for t in g.tensors.values()} == {"x", "y", "z", "t1", "t2"}
    assert g.tensor("x").value_text == "-2.0" and g.tensor("t1").value_text == "3.0"
    assert g.tensor("t2").value_text == "-12.0"
    assert [g.tensor(n).grad_text for n in "xyz"] == ["-4.0", "-4.0", "3.0"]
    assert g.tensor("t1").grad_text == "-4.0" and g.tensor("t1").grad_source == "replay"
    assert g.tensor("x").shape == () and g.tensor("x").dtype == np.float64
    assert x.grad is None                           # drawing never runs backward
    assert len(g.edges) == 2 + 1 + 2 + 1


def test_after_plain_backward_leaf_grads_and_retained_ones():
    x, y = leaf(2.0, "x"), leaf(3.0, "y")
    h = x * y
    h.retain_grad()
    f = cr.exp(h)
    f.backward()
    g = graph(f)
    assert g.steps is None
    assert g.tensor("x").grad_source == ".grad"
    np.testing.assert_allclose(g.tensor("x").grad, x.grad.data)
    np.testing.assert_allclose(g.tensor("t1").grad, h.grad.data)     # retained
    assert g.tensor("t2").grad is None                               # the output: not retained
    with pytest.raises(RuntimeError, match="freed"):
        graph(f, replay=True)
    assert "To step through the backward pass" in g.to_html()


def test_large_tensors_are_summarised():
    a = cr.Tensor(np.arange(12, dtype=np.float64).reshape(3, 4) - 5, requires_grad=True, name="a")
    g = graph((a * a).sum())
    node = g.tensor("a")
    assert node.value_text == "min -5.0 mean 0.5 max 6.0"
    assert node.grad_text == "min -10.0 mean 1.0 max 12.0"
    small = graph((leaf([1.0, -2.0], "v") * 3).sum())
    assert small.tensor("v").value_text == "[1.0, -2.0]"


def test_names_from_a_module_and_data_inputs():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.Linear(2, 1))
    x = cr.randn(4, 3)
    g = graph(model(x).sum(), names=model)
    labels = {t.label for t in g.tensors.values()}
    assert {"0.weight", "0.bias", "2.weight", "2.bias"} <= labels
    kinds = {t.kind for t in g.tensors.values()}
    assert "input" in kinds                      # x: a tensor without grad


def test_module_instead_of_a_tensor_says_what_to_pass():
    with pytest.raises(TypeError, match=r"pass the output tensor instead: cr.viz.graph\(model\(x\)\)"):
        graph(nn.Linear(2, 2))


def test_ascii_minus_everywhere():
    (x, y, z), f = circuit()
    g = graph(f)
    for text in (g.to_dot(), g.to_svg(), g.to_html()):
        assert "\u2212" not in text
        assert "-12.0" in text and "-4.0" in text
    assert "\u2212" not in str(g.steps) and "x = -4.0" in str(g.steps)


def test_save_by_suffix(tmp_path):
    _, f = circuit()
    g = graph(f)
    for suffix, start in ((".svg", "<svg"), (".html", "<!DOCTYPE html>"), (".dot", "digraph")):
        path = tmp_path / f"graph{suffix}"
        g.save(path)
        assert path.read_text(encoding="utf-8").startswith(start)
    with pytest.raises(ValueError, match=r"cannot tell the format of .*\.png.*use \.svg"):
        g.save(tmp_path / "graph.png")


def test_notebook_reprs():
    _, f = circuit()
    g = graph(f)
    assert g._repr_svg_().startswith("<svg")
    assert "<svg" in g._repr_html_() and "<script" not in g._repr_html_()


def test_page_is_self_contained():
    _, f = circuit()
    page = graph(f).to_html()
    # the only URL is the SVG namespace, which is a name, not a download
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == {"http://www.w3.org/2000/svg"}
    assert "<link" not in page and " src=" not in page


def test_user_names_are_escaped():
    evil = "<script>alert('x')</script>&\"'"
    t = leaf(1.0, evil)
    g = graph(t * 2.0)
    for text in (g.to_svg(), g.to_html(), g.to_dot()):
        assert "<script>alert" not in text
        assert "&lt;script&gt;alert" in text
    page = g.to_html()
    data = page.split('id="cr-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data and ">" not in data


def test_ten_thousand_gate_chain_collapses_quickly():
    x = leaf(1.0, "x")
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    start = time.perf_counter()
    g = graph(y)
    svg = g.to_svg()
    html = g.to_html()
    elapsed = time.perf_counter() - start
    assert elapsed < 30, f"took {elapsed:.1f}s"
    assert g.too_large is None and g.collapsed == 9_999
    assert "* x10000" in svg and "repeated chains" in html
    np.testing.assert_allclose(g.tensor("x").grad, 1.0001 ** 10_000, rtol=1e-9)


def test_ten_thousand_gates_without_repetition_summarise_quickly():
    xs = leaf(np.linspace(-1, 1, 50), "xs")
    total = xs.sum()
    for k in range(5_000):
        total = total + (xs[k % 50] * float(k))
    start = time.perf_counter()
    g = graph(total)
    texts = [g.to_svg(), g.to_html(), g.to_dot()]
    elapsed = time.perf_counter() - start
    assert elapsed < 30, f"took {elapsed:.1f}s"
    assert g.too_large is not None and g.sizes[0] > 10_000
    for text in texts:
        assert "too many to draw" in text and "max_nodes" in text
