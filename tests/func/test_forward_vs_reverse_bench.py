"""benchmarks/forward_vs_reverse.py computes what it reports: forward mode
and reverse mode give the same gradient and Jacobian, the budget switches to
extrapolation, the figure is written. Nothing here asserts a time."""
import io
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))   # the repo root: benchmarks/

from benchmarks import forward_vs_reverse as bench  # noqa: E402


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    monkeypatch.setattr(bench, "MIN_TIME", 0.0)


def test_the_mlp_has_12h_plus_1_parameters_and_both_modes_agree():
    loss, theta = bench.mlp_problem(width=3)
    assert theta.shape == (37,)
    row = bench.gradient_row(3, budget=60.0, sample=5)
    assert row["n"] == 37 and row["forward_is"] == "measured" and row["jvps_sampled"] == 5
    assert row["max_abs_difference"] < 1e-14
    assert row["ratio"] == row["forward_s"] / row["reverse_s"]


def test_over_the_budget_the_forward_time_is_extrapolated():
    row = bench.gradient_row(3, budget=0.0, sample=4)
    assert row["forward_is"] == "extrapolated" and row["forward_s"] == row["estimate_s"]
    assert row["max_abs_difference"] < 1e-14


def test_the_wide_jacobian_agrees_both_ways():
    row = bench.jacobian_row(7)
    assert row["m"] == 7 and row["max_abs_difference"] < 1e-14


def test_run_prints_both_tables_and_saves_the_plot(tmp_path):
    path = tmp_path / "fvr.png"
    printed = io.StringIO()
    rows = bench.run(widths=(1, 2), outputs=(3,), budget=60.0, sample=3, plot=str(path),
                     file=printed)
    out = printed.getvalue()
    assert "N forward-mode passes" in out and "jacrev (m reverse passes)" in out
    assert [r["experiment"] for r in rows] == ["gradient", "gradient", "jacobian"]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.isfinite([r["ratio"] for r in rows]).all()
