"""The training loop: batch order from (seed, epoch), weighted epoch averages,
exact evaluation, and stopping before a NaN loss reaches the weights."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from chainrule.autograd import detect_anomaly
from chainrule.data import TensorDataset
from chainrule.training.loop import (
    AnomalyDetected, NonFiniteLoss, epoch_seed, evaluate, fit, train_epoch)
from chainrule.training.models import MLP
from chainrule.training.progress import progress_bars
from chainrule.training.tasks import CLASSIFICATION, Objective, TaskData

NO_BARS = progress_bars(False, print)


def blobs(n=50, seed=0):
    """Two Gaussian blobs in 3-D, labels 0 and 1."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    points = rng.standard_normal((n, 3)) + 2.0 * labels[:, None]
    return TensorDataset(cr.from_numpy(points.astype(np.float32)), cr.from_numpy(labels))


def setup(lr=0.05):
    cr.manual_seed(0)
    model = MLP(3, [8], 2)
    return model, optim.SGD(model.parameters(), lr=lr, momentum=0.9)


class Recorder:
    """A progress factory that records the batches it wraps and the postfixes."""

    def __init__(self):
        self.targets, self.postfixes, self.descriptions, self.closed = [], [], [], 0

    def __call__(self, iterable, total, description):
        self.descriptions.append(description)
        recorder = self

        class Bar:
            def __iter__(self):
                for batch in iterable:
                    recorder.targets.append(batch[1].data.copy())
                    yield batch

            def set_postfix(self, **values):
                recorder.postfixes.append(values)

            def close(self):
                recorder.closed += 1
        return Bar()


def test_epoch_seed_depends_on_seed_and_epoch_only():
    assert epoch_seed(0, 1) == epoch_seed(0, 1)
    assert len({epoch_seed(s, e) for s in range(5) for e in range(1, 6)}) == 25


def test_batch_order_is_a_function_of_seed_and_epoch():
    data = blobs()
    orders = []
    for _ in range(2):
        model, optimizer = setup()
        recorder = Recorder()
        train_epoch(model, optimizer, data, CLASSIFICATION, batch_size=7, seed=3, epoch=2,
                    progress=recorder)
        orders.append(np.concatenate(recorder.targets))
    np.testing.assert_array_equal(orders[0], orders[1])
    assert sorted(orders[0].tolist()) == sorted(data.tensors[1].data.tolist())


def test_epoch_averages_are_weighted_by_batch_size():
    """With lr 0 the model never changes, so the epoch's mean loss and accuracy
    must equal an evaluation over the whole set, however the batches split it."""
    data = blobs(n=23)
    model, optimizer = setup(lr=1e-30)
    loss, accuracy = train_epoch(model, optimizer, data, CLASSIFICATION, batch_size=5, seed=0,
                                 epoch=1, progress=NO_BARS)
    full_loss, full_accuracy = evaluate(model, data, CLASSIFICATION)
    assert loss == pytest.approx(full_loss, rel=1e-5)
    assert accuracy == pytest.approx(full_accuracy)


def test_evaluate_matches_numpy():
    data = blobs(n=40)
    model, _ = setup()
    loss, accuracy = evaluate(model, data, CLASSIFICATION)
    logits = model(data.tensors[0]).data.astype(np.float64)
    labels = data.tensors[1].data
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    assert loss == pytest.approx(-log_probs[np.arange(40), labels].mean(), rel=1e-5)
    assert accuracy == np.mean(logits.argmax(axis=1) == labels)
    assert not model.training


def test_progress_gets_the_running_loss_and_is_closed():
    model, optimizer = setup()
    recorder = Recorder()
    train_epoch(model, optimizer, blobs(n=20), CLASSIFICATION, batch_size=8, seed=0, epoch=4,
                progress=recorder, label="epoch 4/9")
    assert recorder.descriptions == ["epoch 4/9"]
    assert len(recorder.postfixes) == 3 and all("loss" in p for p in recorder.postfixes)
    assert recorder.closed == 1


def nan_at(step):
    """Cross-entropy, except the ``step``-th call returns NaN."""
    calls = []

    def loss(output, target):
        calls.append(1)
        value = CLASSIFICATION.loss(output, target)
        return value * float("nan") if len(calls) == step else value
    return Objective(loss, CLASSIFICATION.metric, "accuracy", CLASSIFICATION.format)


def test_a_nan_loss_stops_before_backward_and_says_where():
    model, optimizer = setup()
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(NonFiniteLoss, match=r"the loss became nan at epoch 2, step 3 of 5"):
        train_epoch(model, optimizer, blobs(n=50), nan_at(3), batch_size=10, seed=0, epoch=2,
                    progress=NO_BARS)
    after = [p.data for p in model.parameters()]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))   # steps 1-2 ran
    assert all(np.isfinite(a).all() for a in after)                      # step 3 did not


def test_detect_anomaly_errors_say_where_in_the_run():
    model, optimizer = setup()
    with detect_anomaly(), pytest.raises(AnomalyDetected, match=r"epoch 1, step 2 of 5\)"):
        train_epoch(model, optimizer, blobs(n=50), nan_at(2), batch_size=10, seed=0, epoch=1,
                    progress=NO_BARS)


def test_fit_sets_each_epochs_lr_and_reports_each_epoch():
    data = TaskData(blobs(n=30), blobs(n=20, seed=1), "blobs")
    model, optimizer = setup()
    records = []
    fit(model, optimizer, data, CLASSIFICATION, epochs=4, start_epoch=1, batch_size=10, seed=0,
        lr_at=lambda epoch: 0.01 * epoch, progress=NO_BARS, on_epoch=records.append)
    assert [r["epoch"] for r in records] == [2, 3, 4]
    assert [r["lr"] for r in records] == [0.02, 0.03, 0.04]
    assert optimizer.param_groups[0]["lr"] == 0.04
    test_loss, test_metric = evaluate(model, data.test, CLASSIFICATION)
    assert records[-1]["test_loss"] == test_loss and records[-1]["test_metric"] == test_metric
    assert all(r["seconds"] > 0 for r in records)


def test_fit_evaluates_the_training_set_when_there_is_no_test_set():
    data = TaskData(blobs(n=30), None, "blobs")
    model, optimizer = setup()
    records = []
    fit(model, optimizer, data, CLASSIFICATION, epochs=1, start_epoch=0, batch_size=10, seed=0,
        lr_at=lambda epoch: 0.05, progress=NO_BARS, on_epoch=records.append)
    assert records[0]["test_metric"] == evaluate(model, data.train, CLASSIFICATION)[1]
