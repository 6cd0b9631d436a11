"""chainrule explain: the table, the files, and one-line errors with exit status 2."""
import subprocess
import sys

import pytest

from chainrule.cli.main import main


def test_prints_the_worked_example(capsys):
    assert main(["explain", "(x + y) * z", "--at", "x=-2", "y=5", "z=-4"]) == 0
    out = capsys.readouterr().out
    assert "value: f = -12.0" in out
    for line in ("  x = -4.0", "  y = -4.0", "  z = 3.0"):
        assert line in out


def test_vectors_and_files(tmp_path, capsys):
    html, svg = tmp_path / "out.html", tmp_path / "out.svg"
    assert main(["explain", "sigmoid(sum(w * x) + b)", "--at", "w=2,-3", "x=[-1,-2]", "b=-3",
                 "--html", str(html), "--svg", str(svg)]) == 0
    out = capsys.readouterr().out
    assert "w = [-0.1966, -0.3932]" in out and "x = [0.3932, -0.5898]" in out
    assert f"wrote {html}" in out and f"wrote {svg}" in out
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert svg.read_text(encoding="utf-8").startswith("<svg")


@pytest.mark.parametrize("argv, message", [
    (["explain", "x.__class__", "--at", "x=1"], r"not allowed \(attribute access\): 'x.__class__'"),
    (["explain", "__import__('os').system('id')"], r"not allowed"),
    (["explain", "x * y", "--at", "x=1"], r"no value for 'y'"),
    (["explain", "x * y", "--at", "x=1", "y"], r"--at: expected NAME=VALUE"),
    (["explain", "x * y", "--at", "x=1", "y=abc"], r"the value of y must be a number"),
    (["explain", "x * y", "--at", "x=1", "x=2", "y=1"], r"x is given twice"),
    (["explain", "x * 2", "--at", "x=1", "--html", "/nonexistent-dir/out.html"],
     r"cannot write /nonexistent-dir/out.html"),
])
def test_bad_input_is_one_line_and_status_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert err.startswith("chainrule explain: error: ")
    import re
    assert re.search(message, err), err


def test_console_entry_point_exit_status():
    result = subprocess.run([sys.executable, "-m", "chainrule", "explain", "lambda: 1"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "not allowed (lambda functions)" in result.stderr
    assert result.stderr.count("\n") == 1
