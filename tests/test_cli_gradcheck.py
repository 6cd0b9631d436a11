"""``chainrule gradcheck``: one row per op, pass/FAIL, exit status 1 on a failure."""
import subprocess
import sys

import numpy as np
import pytest

from chainrule.cli.main import main
from chainrule.ops import REGISTRY
from chainrule.ops.registry import Op


class CubeWrongGradient(Op):
    """y = x**3 whose vjp says 2 x**2 instead of 3 x**2."""
    name = "cube_wrong_gradient"

    def forward(self, ctx, x):
        ctx.save(x=x)
        return x ** 3

    def vjp(self, ctx, grad_out):
        return (grad_out * 2 * ctx.x * ctx.x,)

    def samples(self, rng):
        return [((rng.uniform(1.0, 2.0, (2, 3)),), {})]


class RaisesInBackward(Op):
    """y = 2x with no reverse-mode rule."""
    name = "raises_in_backward"

    def forward(self, ctx, x):
        return 2 * x

    def samples(self, rng):
        return [((rng.standard_normal(3),), {})]


def rows(text):
    """``{op: [samples, max rel error, result]}`` from the table."""
    table = text.split("\n\n")[0].splitlines()[1:]
    return {line.split()[0]: line.split()[1:] for line in table}


def test_selected_ops_pass_with_exit_status_0(capsys):
    assert main(["gradcheck", "--op", "tanh", "--op", "mul"]) == 0
    out = capsys.readouterr().out
    table = rows(out)
    assert set(table) == {"tanh", "mul"}
    for name, (count, error, result) in table.items():
        assert int(count) == len(REGISTRY[name].samples(np.random.default_rng(0)))
        assert 0 <= float(error) < 1e-6
        assert result == "pass"
    assert "2 op(s) checked: 2 pass, 0 FAIL" in out


def test_every_op_with_samples_gets_a_row(capsys):
    status = main(["gradcheck"])
    out = capsys.readouterr().out
    with_samples = {n for n, op in REGISTRY.items() if op.samples(np.random.default_rng(0))}
    table = rows(out)
    assert set(table) == with_samples
    assert status == (1 if any(result == "FAIL" for _, _, result in table.values()) else 0)


def test_a_wrong_gradient_fails_with_exit_status_1(capsys, monkeypatch):
    monkeypatch.setitem(REGISTRY, CubeWrongGradient.name, CubeWrongGradient())
    assert main(["gradcheck", "--op", "cube_wrong_gradient", "--op", "exp"]) == 1
    out = capsys.readouterr().out
    table = rows(out)
    assert table["cube_wrong_gradient"][2] == "FAIL"
    assert table["exp"][2] == "pass"
    # the worst entry has relative error |2x^2 - 3x^2| / (3x^2 + 0.01), about 1/3
    assert float(table["cube_wrong_gradient"][1]) == pytest.approx(1 / 3, abs=0.01)
    assert "FAIL cube_wrong_gradient: sample 0 (input shapes (2, 3)): gradcheck: Jacobian " \
           "mismatch for input 0 at element" in out
    assert "2 op(s) checked: 1 pass, 1 FAIL" in out


def test_an_op_that_raises_is_a_failure(capsys, monkeypatch):
    monkeypatch.setitem(REGISTRY, RaisesInBackward.name, RaisesInBackward())
    assert main(["gradcheck", "--op", "raises_in_backward"]) == 1
    out = capsys.readouterr().out
    assert rows(out)["raises_in_backward"][2] == "FAIL"
    assert "raised NotImplementedError: raises_in_backward: no reverse-mode rule" in out


def test_the_seed_makes_runs_reproducible(capsys):
    main(["gradcheck", "--op", "pow", "--seed", "3"])
    first = capsys.readouterr().out
    main(["gradcheck", "--op", "pow", "--seed", "3"])
    assert capsys.readouterr().out == first


def test_an_unknown_op_is_a_one_line_usage_error(capsys):
    assert main(["gradcheck", "--op", "tanhh"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("chainrule gradcheck: error: unknown op 'tanhh'; valid names: ")
    assert "tanh" in err.split("valid names: ")[1].split(", ")


def test_an_op_without_samples_is_listed_as_not_checked(capsys):
    assert main(["gradcheck", "--op", "eq", "--op", "exp"]) == 0
    out = capsys.readouterr().out
    assert set(rows(out)) == {"exp"}
    assert "not checked (no gradient, so no samples): eq" in out


def test_runs_as_a_module():
    result = subprocess.run([sys.executable, "-m", "chainrule", "gradcheck", "--op", "sin"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert rows(result.stdout)["sin"][2] == "pass"
