"""The benchmark references compute what they claim, and the harness reports
what it measured. Nothing here is timed.

Every NumPy reference is checked against PyTorch (and PyTorch's two LSTMs
against each other) from the same initial weights, in float64 on small
shapes: the same loss, the same gradients and the same updated weights over
a few steps. The chainrule implementations are checked against the NumPy
ones.
"""
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # the repo root: benchmarks/

from benchmarks import (all_workloads, digits_mlp, harness, lstm_step,  # noqa: E402
                        mlp_step, op_chain)


def assert_all_close(actual, expected, rtol=1e-10, atol=1e-12):
    assert len(actual) == len(expected)
    for k, (a, e) in enumerate(zip(actual, expected)):
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=f"array {k}")


def require_chainrule_api(*names):
    """chainrule with the API a workload uses; every name exists now, so a
    missing one is a failure, not a skip."""
    try:
        return harness.require_chainrule(*names)
    except ImportError as exc:
        pytest.fail(str(exc))


# -- op chain ---------------------------------------------------------------

@pytest.mark.parametrize("n_ops", [1000, 7, 2])
def test_op_chain_numpy_matches_pytorch(n_ops):
    problem = op_chain.make_problem(dtype=np.float64, seed=1)
    reference = op_chain.NumpyChain(problem, n_ops)
    oracle = op_chain.FrameworkChain(torch, problem, n_ops)
    for _ in range(2):      # a second step reuses every buffer
        np.testing.assert_allclose(reference.step(), oracle.step().item(), rtol=1e-12)
        np.testing.assert_allclose(reference.grad, oracle.x.grad.numpy(), rtol=1e-10,
                                   atol=1e-300)
    np.testing.assert_array_equal(reference.x, problem.x)      # the input is left alone


def test_op_chain_gradient_stays_normal_in_float32():
    reference = op_chain.NumpyChain(op_chain.make_problem())
    reference.step()
    assert np.abs(reference.grad).min() > np.finfo(np.float32).tiny


def test_op_chain_chainrule_matches_numpy():
    cr = require_chainrule_api("tensor", "tanh")
    problem = op_chain.make_problem(dtype=np.float64, seed=2)
    reference = op_chain.NumpyChain(problem)
    chain = op_chain.FrameworkChain(cr, problem)
    np.testing.assert_allclose(chain.step().item(), reference.step(), rtol=1e-12)
    np.testing.assert_allclose(chain.x.grad.numpy(), reference.grad, rtol=1e-10, atol=1e-300)


# -- MLP ----------------------------------------------------------------------

SMALL_MLP = dict(sizes=(20, 16, 12, 5), batch=8)


def small_mlp_problem(dtype=np.float64, kink=False):
    problem = mlp_step.make_problem(**SMALL_MLP, dtype=dtype, seed=3)
    if kink:    # hidden unit 0 gets pre-activation exactly 0: relu'(0) must be 0
        problem.params[0][0] = 0.0
        problem.params[1][0] = 0.0
    return problem


@pytest.mark.parametrize("optimizer, lr", [("sgd", 0.1), ("adam", 1e-2)])
@pytest.mark.parametrize("kink", [False, True])
def test_mlp_numpy_matches_pytorch(optimizer, lr, kink):
    problem = small_mlp_problem(kink=kink)
    reference = mlp_step.NumpyMLP(problem, optimizer, lr)
    oracle = mlp_step.ModuleMLP(torch, problem, optimizer, lr)
    for _ in range(3):      # Adam's bias corrections change from step to step
        np.testing.assert_allclose(reference.step(), oracle.step().item(), rtol=1e-12)
        assert_all_close(reference.grads, oracle.grads())
        assert_all_close(reference.params, oracle.params())
    if kink:
        assert np.all(reference.grads[0][0] == 0)


def test_mlp_flops_counts_three_forward_and_five_backward_products():
    m, sizes = 4, (3, 5, 7, 2)
    forward = 2 * m * (3 * 5 + 5 * 7 + 7 * 2)
    weight_grads = forward
    input_grads = 2 * m * (5 * 7 + 7 * 2)
    assert mlp_step.mlp_flops(sizes, m) == forward + weight_grads + input_grads


@pytest.mark.parametrize("optimizer, lr", [("sgd", 0.1), ("adam", 1e-2)])
def test_mlp_chainrule_matches_numpy(optimizer, lr):
    optimizer_class = {"sgd": "optim.SGD", "adam": "optim.Adam"}[optimizer]
    cr = require_chainrule_api(*mlp_step.MODULE_API, optimizer_class)
    problem = small_mlp_problem(dtype=np.float32)
    reference = mlp_step.NumpyMLP(problem, optimizer, lr)
    model = mlp_step.ModuleMLP(cr, problem, optimizer, lr)
    for _ in range(3):
        np.testing.assert_allclose(model.step().item(), reference.step(), rtol=1e-5)
        assert_all_close(model.grads(), reference.grads, rtol=1e-4, atol=1e-6)
        assert_all_close(model.params(), reference.params, rtol=1e-4, atol=1e-6)


def test_mlp_chainrule_tensors_matches_numpy():
    cr = require_chainrule_api("tensor", "no_grad", "Tensor.relu", "Tensor.logsumexp",
                           "Tensor.sub_")
    problem = small_mlp_problem(kink=True)
    reference = mlp_step.NumpyMLP(problem, "sgd", 0.1)
    model = mlp_step.TensorMLP(cr, problem, 0.1)
    for _ in range(2):
        np.testing.assert_allclose(model.step().item(), reference.step(), rtol=1e-12)
        assert_all_close(model.grads(), reference.grads)
        assert_all_close(model.params(), reference.params)


# -- LSTM ---------------------------------------------------------------------

@pytest.mark.parametrize("seq", [1, 5])
def test_lstm_numpy_matches_both_pytorch_lstms(seq):
    problem = lstm_step.make_problem(input_size=3, hidden=4, seq=seq, batch=2,
                                     dtype=np.float64, seed=4)
    reference = lstm_step.NumpyLSTM(problem, lr=0.5)
    cells = lstm_step.ModuleLSTM(torch, problem, lr=0.5, fused=False)
    fused = lstm_step.ModuleLSTM(torch, problem, lr=0.5, fused=True)
    for _ in range(2):
        loss = reference.step()
        np.testing.assert_allclose(loss, cells.step().item(), rtol=1e-12)
        np.testing.assert_allclose(loss, fused.step().item(), rtol=1e-12)
        for oracle in (cells, fused):
            assert_all_close(reference.grads, oracle.grads())
            assert_all_close(reference.params, oracle.params())


def test_lstm_numpy_sigmoid_saturates_without_overflow():
    problem = lstm_step.make_problem(input_size=3, hidden=4, seq=3, batch=2, seed=5)
    problem.x *= 1e4    # pre-activations far beyond exp's float32 range
    reference = lstm_step.NumpyLSTM(problem)
    with np.errstate(all="raise"):
        loss = reference.step()
    assert np.isfinite(loss) and all(np.isfinite(g).all() for g in reference.grads)


def test_lstm_chainrule_matches_numpy():
    cr = require_chainrule_api("from_numpy", "no_grad", "nn.LSTM", "nn.Linear",
                           "nn.functional.mse_loss", "optim.SGD")
    problem = lstm_step.make_problem(input_size=3, hidden=4, seq=5, batch=2, seed=6)
    reference = lstm_step.NumpyLSTM(problem, lr=0.5)
    model = lstm_step.ModuleLSTM(cr, problem, lr=0.5, fused=True)
    for _ in range(2):
        np.testing.assert_allclose(model.step().item(), reference.step(), rtol=1e-5)
        assert_all_close(model.grads(), reference.grads, rtol=1e-4, atol=1e-6)
        assert_all_close(model.params(), reference.params, rtol=1e-4, atol=1e-6)


# -- the workloads as the harness builds them ---------------------------------

@pytest.mark.parametrize("workload", all_workloads(), ids=lambda w: w.name)
def test_workload_references_agree_in_float32(workload):
    """The NumPy and PyTorch factories of every workload build the same
    problem: two steps (the second after one update) give the same losses."""
    names = [name for name in workload.implementations
             if name == "numpy" or name.startswith("pytorch")]
    steps = {name: workload.implementations[name]() for name in names}
    for _ in range(2):
        losses = {name: step().item() for name, step in steps.items()}
        for name in names:
            np.testing.assert_allclose(losses[name], losses["numpy"], rtol=1e-4,
                                       err_msg=f"{workload.name}: {name} vs numpy")


def test_digits_workloads_use_the_digits_shapes():
    step = digits_mlp.WORKLOAD_ADAM.implementations["numpy"]()
    model = step.__self__
    assert model.x.shape == (64, 64)
    assert [p.shape for p in model.params[0::2]] == [(128, 64), (128, 128), (10, 128)]
    assert isinstance(model.update, mlp_step.NumpyAdam)


# -- harness ------------------------------------------------------------------

def _missing_torch():
    raise ImportError("No module named 'torch'")


def _broken():
    def step():
        raise RuntimeError("shapes (3, 4) and (5, 2) do not align")
    return step


def test_harness_reports_statuses_and_paired_ratios():
    seen = []
    workload = harness.Workload(
        name="toy", description="a no-op",
        implementations={"numpy": lambda: (lambda: None), "pytorch": _missing_torch,
                         "chainrule": _broken},
        metrics=lambda seconds: seen.append(seconds) or {"things": 1.0})
    rows = harness.run([workload], rounds=4, file=None)
    by_name = {row["implementation"]: row for row in rows}
    assert by_name["numpy"]["status"] == "ok"
    assert by_name["numpy"]["rounds"] == 4
    assert by_name["numpy"]["calls"] >= 4 * harness.BLOCK[0]
    assert by_name["numpy"]["ratio_numpy"] == 1.0      # paired with itself, round by round
    assert by_name["numpy"]["ratio_pytorch"] is None
    assert by_name["numpy"]["metrics"] == {"things": 1.0}
    assert seen == [by_name["numpy"]["best_round_us"] / 1e6]
    assert by_name["numpy"]["best_round_us"] <= by_name["numpy"]["q3_us"]
    assert by_name["pytorch"]["status"] == "not installed"
    assert "torch" in by_name["pytorch"]["message"]
    assert by_name["chainrule"]["status"] == "failed"
    assert "RuntimeError: shapes (3, 4)" in by_name["chainrule"]["message"]
    table = harness.format_table(rows)
    assert "not installed: No module named 'torch'" in table
    assert "numpy: 1 things" in table


def test_harness_runs_only_the_chosen_implementations():
    workload = harness.Workload(name="toy", description="a no-op",
                                implementations={"numpy": lambda: (lambda: None),
                                                 "pytorch": _broken})
    rows = harness.run([workload], rounds=2, implementations={"numpy"}, file=None)
    assert [row["implementation"] for row in rows] == ["numpy"]


def test_require_chainrule_names_what_is_missing():
    with pytest.raises(ImportError, match=r"chainrule has no nn\.NoSuchLayer, no_such_function"):
        harness.require_chainrule("nn.NoSuchLayer", "no_such_function")


def test_command_line_rejects_unknown_workloads(capsys):
    with pytest.raises(SystemExit) as exc:
        harness.main(["no-such-workload"])
    assert exc.value.code == 2
    assert "unknown workload no-such-workload; choose from op-chain" in capsys.readouterr().err
