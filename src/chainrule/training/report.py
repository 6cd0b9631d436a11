"""What a training run prints: the per-epoch table and the final line.

    epoch  train loss  test loss  train accuracy  test accuracy    time
        1      0.8123     0.3012           78.4%          92.5%   0.41s

The last line of a run names the task's metric on its held-out set, in one
form for every task (``test accuracy: 97.8%``, or ``test MSE: 0.0012`` for a
task with another metric), so scripts can read it.
"""


class Table:
    """Column layout for one run: ``held_out`` names the evaluated set
    (``test``, or ``all`` when the task has none), ``objective`` the metric."""

    def __init__(self, objective, held_out):
        self.objective = objective
        name = objective.metric_name
        self.columns = [("epoch", 5), ("train loss", 10), (f"{held_out} loss", 10),
                        (f"train {name}", max(8, len(name) + 6)),
                        (f"{held_out} {name}", max(8, len(name) + len(held_out) + 1)),
                        ("time", 7)]

    def header(self):
        return "  ".join(f"{title:>{width}}" for title, width in self.columns)

    def row(self, record):
        fmt = self.objective.format
        cells = [str(record["epoch"]), _loss(record["train_loss"]),
                 _loss(record["test_loss"]), fmt(record["train_metric"]),
                 fmt(record["test_metric"]), f"{record['seconds']:.2f}s"]
        return "  ".join(f"{cell:>{width}}" for cell, (_, width) in zip(cells, self.columns))


def _loss(value):
    # a diverging run's loss can be astronomically large: keep it in its column
    return f"{value:.4f}" if abs(value) < 1e5 else f"{value:.3e}"


def final_line(objective, data, value):
    """``test accuracy: 97.8%``; for a task without a test set, which is judged
    on the patterns it was trained on, ``accuracy on all 4 patterns: 100.0%``."""
    name = objective.metric_name
    if data.test is not None:
        where = f"test {name}"
    else:
        where = f"{name} on all {len(data.train)} patterns"
    return f"{where}: {objective.format(value)}"
