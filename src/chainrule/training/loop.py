"""The training loop: epochs of mini-batch steps, evaluation, and a guard against NaN.

One epoch is

    for each batch (x, y) of the shuffled training set:
        loss = objective.loss(model(x), y)       # the batch mean
        stop if loss is NaN or infinite          # before it reaches the weights
        optimizer.zero_grad(); loss.backward(); optimizer.step()

followed by an evaluation of the test set (or of the training set, for a task
without one) in ``eval()`` mode with gradients off.

The train loss and train metric of an epoch are averages over that epoch's
batches, weighted by batch size, as the model changed during the epoch: the
usual figures of a training log, free to compute. The test figures are exact,
measured after the epoch.

Batch order: epoch ``e`` of a run with seed ``s`` is shuffled by a generator
seeded from ``(s, e)`` alone, so the order needs no saved state and a run
resumed at epoch ``e`` sees exactly the batches the uninterrupted run saw.
"""
import math
import time

import numpy as np

from ..autograd.grad_mode import no_grad
from ..data import DataLoader

EVAL_BATCH = 1000   # samples per forward pass when evaluating: bounds memory on MNIST


class TrainingStopped(Exception):
    """Training cannot go on; ``epoch`` and ``step`` (1-based, of ``steps``) say where."""

    def __init__(self, message, epoch, step, steps):
        super().__init__(message)
        self.epoch, self.step, self.steps = epoch, step, steps


class NonFiniteLoss(TrainingStopped):
    """The loss became NaN or infinite (it is stopped before backward)."""


class AnomalyDetected(TrainingStopped):
    """Under ``detect_anomaly``, an operation produced NaN or Inf; the message
    names it and the line of code that recorded it."""


def epoch_seed(seed, epoch):
    """The shuffling seed of ``epoch`` in a run seeded ``seed``: both go into one
    ``SeedSequence``, so neighbouring seeds or epochs give unrelated orders."""
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])


def train_epoch(model, optimizer, dataset, objective, *, batch_size, seed, epoch, progress,
                label=None):
    """One pass over ``dataset``; returns ``(mean loss, mean metric)`` over its batches.

    ``progress(iterable, total, description)`` wraps the batches (a progress
    bar, or nothing) and gets the running loss through ``set_postfix``;
    ``label`` is its description (default ``epoch N``).
    Raises ``NonFiniteLoss`` before a NaN or infinite loss is backpropagated,
    and ``AnomalyDetected`` when ``detect_anomaly`` stops an operation.
    """
    model.train()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True,
                        seed=epoch_seed(seed, epoch))
    loss_sum = metric_sum = 0.0
    seen = 0
    bar = progress(loader, len(loader), label or f"epoch {epoch}")
    step = 0
    try:
        for step, (inputs, targets) in enumerate(bar, start=1):
            output = model(inputs)
            loss = objective.loss(output, targets)
            value = loss.item()
            if not math.isfinite(value):
                raise NonFiniteLoss(f"the loss became {value} at epoch {epoch}, step {step} "
                                    f"of {len(loader)}", epoch, step, len(loader))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            n = len(targets)
            loss_sum += value * n
            metric_sum += objective.metric(output, targets)
            seen += n
            bar.set_postfix(loss=f"{loss_sum / seen:.4f}")
    except FloatingPointError as e:         # raised by detect_anomaly
        raise AnomalyDetected(f"{e} (epoch {epoch}, step {step} of {len(loader)})",
                              epoch, step, len(loader)) from None
    finally:
        bar.close()
    return loss_sum / seen, metric_sum / seen


def evaluate(model, dataset, objective):
    """``(mean loss, mean metric)`` of ``model`` over ``dataset``, in eval mode."""
    model.eval()
    loss_sum = metric_sum = 0.0
    with no_grad():
        for inputs, targets in DataLoader(dataset, batch_size=EVAL_BATCH):
            output = model(inputs)
            loss_sum += objective.loss(output, targets).item() * len(targets)
            metric_sum += objective.metric(output, targets)
    return loss_sum / len(dataset), metric_sum / len(dataset)


def fit(model, optimizer, data, objective, *, epochs, start_epoch, batch_size, seed, lr_at,
        progress, on_epoch):
    """Train from epoch ``start_epoch + 1`` to ``epochs``.

    ``lr_at(epoch)`` is the learning rate of each epoch, set in every
    parameter group before it starts. After each epoch, ``on_epoch(record)``
    gets a dict with ``epoch``, ``lr``, ``train_loss``, ``train_metric``,
    ``test_loss``, ``test_metric`` and ``seconds`` (the epoch's training and
    evaluation time).
    """
    held_out = data.test if data.test is not None else data.train
    for epoch in range(start_epoch + 1, epochs + 1):
        started = time.perf_counter()
        lr = lr_at(epoch)
        for group in optimizer.param_groups:
            group["lr"] = lr
        train_loss, train_metric = train_epoch(
            model, optimizer, data.train, objective, batch_size=batch_size, seed=seed,
            epoch=epoch, progress=progress, label=f"epoch {epoch}/{epochs}")
        test_loss, test_metric = evaluate(model, held_out, objective)
        on_epoch({"epoch": epoch, "lr": lr, "train_loss": train_loss,
                  "train_metric": train_metric, "test_loss": test_loss,
                  "test_metric": test_metric, "seconds": time.perf_counter() - started})
