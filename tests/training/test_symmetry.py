"""The 1986 symmetry experiment: the paper's network and update, checked against
PyTorch, and the structure of its solution (mirror pairs equal and opposite, 1:2:4)."""
import numpy as np
import pytest
import torch

from chainrule.data import datasets
from chainrule.training.symmetry import (
    SETTLED, initial_weights, median_sweeps, pair_summary, train_seeds, weights_table)


def torch_errors(seed, sweeps, hidden=2, lr=0.1, momentum=0.9):
    """E before each of ``sweeps`` weight changes, and the first solved sweep, in
    PyTorch float64: the paper's network written out with torch's SGD."""
    w1, b1, w2, b2 = (torch.tensor(np.asarray(a, dtype=np.float64)).requires_grad_()
                      for a in initial_weights(seed, hidden))
    x, d = (torch.from_numpy(t.data.astype(np.float64)) for t in datasets.symmetry().tensors)
    optimizer = torch.optim.SGD([w1, b1, w2, b2], lr=lr, momentum=momentum)
    errors, solved_at = [], None
    for sweep in range(sweeps + 1):
        y = torch.sigmoid(torch.sigmoid(x @ w1 + b1) @ w2[:, None] + b2)
        error = 0.5 * ((y - d) ** 2).sum()
        errors.append(error.item())
        right = torch.where(d > 0.5, y > 0.5, y < 0.5).all()
        if right and solved_at is None:
            solved_at = sweep
        optimizer.zero_grad()
        error.backward()
        optimizer.step()
    return errors, solved_at


def test_initial_weights_are_uniform_in_the_papers_range():
    w1, b1, w2, b2 = initial_weights(0, 2)
    values = np.concatenate([w1.ravel(), b1, w2, [b2]])
    assert w1.shape == (6, 2) and b1.shape == (2,) and w2.shape == (2,) and np.ndim(b2) == 0
    assert values.min() >= -0.3 and values.max() <= 0.3
    assert not np.array_equal(initial_weights(1, 2)[0], w1)


def test_error_trajectory_and_solved_sweep_match_pytorch():
    """Seed 1 solves in a few hundred sweeps; every E on the way agrees with torch."""
    (result,) = train_seeds([1], max_sweeps=2000)
    assert result.solved
    expected, solved_at = torch_errors(1, result.weights_sweep)
    assert result.sweeps == solved_at
    np.testing.assert_allclose(result.errors, expected[:len(result.errors)], rtol=1e-9)


def test_a_seed_follows_the_same_trajectory_alone_and_in_a_stack():
    together = train_seeds([1, 6], max_sweeps=2000)
    (alone,) = train_seeds([6], max_sweeps=2000)
    assert together[1].seed == 6
    assert together[1].sweeps == alone.sweeps
    assert together[1].errors == alone.errors
    for a, b in zip(together[1].weights, alone.weights):
        np.testing.assert_array_equal(a, b)


def test_solution_has_the_papers_structure():
    """Each hidden unit: mirror inputs weighted equally and oppositely, pair sizes 1:2:4."""
    (result,) = train_seeds([6], max_sweeps=5000)
    assert result.solved and result.errors[-1] < SETTLED
    w1 = result.weights[0]
    for unit in w1.T:
        sums = unit[:3] + unit[::-1][:3]
        sizes = sorted(np.abs(unit[:3]))
        assert np.all(np.abs(sums) < 0.05 * np.abs(unit).max())
        np.testing.assert_allclose(np.array(sizes) / sizes[0], [1, 2, 4], rtol=0.05)
    # and the network classifies every pattern
    x, d = (t.data.astype(np.float64) for t in datasets.symmetry().tensors)
    w1, b1, w2, b2 = result.weights
    y = 1 / (1 + np.exp(-((1 / (1 + np.exp(-(x @ w1 + b1)))) @ w2 + b2)))
    assert np.all((y > 0.5) == (d[:, 0] > 0.5))


def test_an_unsolved_seed_reports_the_sweep_limit():
    (result,) = train_seeds([1], max_sweeps=10)
    assert not result.solved
    assert result.sweeps == result.weights_sweep == 10
    assert len(result.errors) == 11


def test_on_solved_is_called_once_per_solved_seed_in_order_of_solving():
    calls = []
    results = train_seeds([6, 1], max_sweeps=3000,
                          on_solved=lambda seed, sweeps, error: calls.append((seed, sweeps)))
    by_seed = {r.seed: r.sweeps for r in results}
    assert calls == sorted(((s, by_seed[s]) for s in (6, 1)), key=lambda c: c[1])


def test_median_sweeps_counts_solved_seeds_only():
    (one,) = train_seeds([6], max_sweeps=3000)
    (unsolved,) = train_seeds([1], max_sweeps=5)
    assert median_sweeps([one, unsolved]) == one.sweeps
    assert median_sweeps([unsolved]) is None


def test_pair_summary_and_weights_table_show_the_mirror_pairs():
    text = pair_summary(np.array([-4.0, 2.0, -1.0, 1.0, -2.0, 4.0]))
    assert "pair sums +0.00 +0.00 +0.00" in text
    assert "sorted 1.00 : 2.00 : 4.00" in text
    (result,) = train_seeds([6], max_sweeps=3000)
    table = weights_table(result)
    assert table.splitlines()[0].split() == ["in", "1", "in", "2", "in", "3", "in", "4", "in",
                                             "5", "in", "6", "bias", "->", "out"]
    assert "hidden 1" in table and "hidden 2" in table and "mirror pairs" in table


@pytest.mark.parametrize("hidden", [1, 3])
def test_other_hidden_sizes_train(hidden):
    (result,) = train_seeds([0], hidden=hidden, max_sweeps=50)
    assert result.weights[0].shape == (6, hidden)
    assert len(result.errors) == result.weights_sweep + 1
