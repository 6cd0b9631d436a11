"""``chainrule train [TASK]``: train a model, print its progress, save the run.

With no arguments it trains an MLP on the embedded 8x8 digits. Each run

* prints its settings and its data split, a progress bar per epoch (tqdm,
  with the running loss), a table row per epoch, and last a line such as
  ``test accuracy: 97.8%``;
* saves ``checkpoint.safetensors`` into ``--out DIR`` after every epoch
  (default ``runs/TASK-MODEL``) and ``curves.png`` at the end;
* ``--resume PATH`` continues a checkpoint's run to ``--epochs`` (its own
  target by default) with its own settings, bit for bit as if it had never
  stopped.

Settings come from, in order of precedence: the command line, the checkpoint
(when resuming), the task's defaults (``training.tasks``), the common
defaults. Tasks and models come from registries, so the choices shown here
grow as later issues register theirs.

Bad input is one line on stderr and exit status 2: an unknown task, missing
data, an unreadable checkpoint, a NaN loss (with where it happened).
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

import chainrule as cr
from ..autograd import detect_anomaly
from ..serialization import CheckpointError
from ..training import MODELS, TASKS, DataError, ModelError
from ..training import checkpoint as checkpoints
from ..training.loop import TrainingStopped, fit
from ..training.models import ACTIVATIONS
from ..training.optimizers import (
    DEFAULTS as OPTIMIZER_DEFAULTS, OPTIMIZERS, SCHEDULES, OptimizerError, build_optimizer,
    describe_optimizer, scheduled_lr)
from ..training.plots import MissingMatplotlib, plot_curves
from ..training.progress import progress_bars
from ..training.report import Table, final_line
from ..training.symmetry import ExperimentError
from ..training.tasks import COMMON_DEFAULTS, sample_shape, task_defaults
from ..viz.monitor import GradientMonitor
from .main import UsageError

CHECKPOINT, CURVES = "checkpoint.safetensors", "curves.png"
# settings a resumed run may change besides its task's own options (which say
# where data lives, such as --root): anything else would make it another run
RESUMABLE = ("epochs",)
# the training package's exceptions that mean bad input, not a bug: each becomes
# a one-line UsageError (FloatingPointError is detect_anomaly's)
USER_ERRORS = (DataError, ModelError, OptimizerError, ExperimentError, CheckpointError,
               FloatingPointError)


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "train", help="train a network (digits by default) and save the run",
        description="Train a model on a task, with a progress bar, per-epoch metrics, a "
                    "checkpoint and loss/accuracy curves. Options left out take the task's "
                    "defaults (listed below).",
        epilog=_defaults_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", nargs="?", choices=list(TASKS), metavar="TASK",
                        help=f"what to learn: {', '.join(TASKS)} (default digits, or the "
                             f"checkpoint's task with --resume)")
    parser.add_argument("--model", choices=list(MODELS), help="the model to build")
    parser.add_argument("--hidden", type=int, nargs="+", metavar="N",
                        help="hidden layer sizes, e.g. --hidden 128 128")
    parser.add_argument("--activation", choices=list(ACTIVATIONS))
    parser.add_argument("--optimizer", choices=list(OPTIMIZERS),
                        help="another optimiser than the task's brings its own default "
                             "--lr and --momentum")
    parser.add_argument("--lr", type=float, help="learning rate (of the first epoch)")
    parser.add_argument("--momentum", type=float, help="momentum (sgd, rmsprop)")
    parser.add_argument("--schedule", choices=SCHEDULES,
                        help="learning rate over the epochs: cosine decays it towards 0 by "
                             "the last epoch")
    parser.add_argument("--batch-size", type=int, metavar="N")
    parser.add_argument("--epochs", type=int, metavar="N",
                        help="train up to this many epochs in all (with --resume too)")
    parser.add_argument("--seed", type=int, help="seed of initialisation and batch order "
                                                 "(the data split is fixed)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="where the checkpoint and curves go (default runs/TASK-MODEL; "
                             "with --resume, the checkpoint's directory)")
    parser.add_argument("--resume", type=Path, metavar="PATH",
                        help="continue the run saved in this checkpoint")
    parser.add_argument("--detect-anomaly", action="store_true",
                        help="stop at the first operation that makes a NaN or Inf, and name it")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--monitor", action="store_true",
                        help="record per-layer gradient norms (chainrule.viz.GradientMonitor): "
                             "print its report and flags, save gradients.png")
    seen = set()
    for spec in [*TASKS.values(), *MODELS.values()]:
        for option in spec.options:
            if option.flags not in seen:
                seen.add(option.flags)
                parser.add_argument(*option.flags, **option.kwargs)
    parser.set_defaults(run=run)


def _defaults_epilog():
    """One line per task (what it is, and the defaults it sets), then the common ones."""
    def flags(settings):
        return " ".join(f"--{key.replace('_', '-')} {_show(value)}"
                        for key, value in settings.items())
    width = max(map(len, TASKS))
    lines = ["tasks and their defaults:"]
    for name, task in TASKS.items():
        lines.append(f"  {name:<{width}}  {task.help}")
        if task.defaults:
            lines.append(f"  {'':<{width}}    {flags(task.defaults)}")
    lines.append(f"otherwise: {flags(COMMON_DEFAULTS)}")
    lines.append("models: " + "; ".join(f"{n} ({m.help})" for n, m in MODELS.items()))
    return "\n".join(lines)


def run(args):
    checkpoint = None
    if args.resume is not None:
        try:
            checkpoint = checkpoints.load_checkpoint(args.resume)
        except CheckpointError as e:        # its message names the file
            raise UsageError(f"cannot resume: {e}") from None
        except OSError as e:
            raise UsageError(f"cannot resume from {args.resume}: {_reason(e)}") from None
    task_name = args.task or (checkpoint.config.get("task") if checkpoint else None) or "digits"
    if task_name not in TASKS:
        raise UsageError(f"{args.resume} is a checkpoint of task {task_name!r}, which this "
                         f"version does not know (known: {', '.join(TASKS)})")
    task = TASKS[task_name]
    config = resolve_settings(task, args, checkpoint)
    out_dir = args.out or (args.resume.parent if checkpoint else
                           Path("runs") / f"{task.name}-{config['model']}")

    # NaN and overflow are caught and reported by the loop itself, so NumPy's
    # RuntimeWarnings about them would only add noise to the message
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if args.detect_anomaly:
            with detect_anomaly():
                final = _run(task, config, checkpoint, out_dir, args)
        else:
            final = _run(task, config, checkpoint, out_dir, args)
    print(final)
    return 0


def _run(task, config, checkpoint, out_dir, args):
    if task.run is not None:
        try:
            return task.run(config, out_dir, _warn)
        except USER_ERRORS as e:
            raise UsageError(str(e)) from None
    return _train(task, config, checkpoint, out_dir, args)


def _train(task, config, checkpoint, out_dir, args):
    started = time.perf_counter()
    try:
        data = task.load(config)
        shape = sample_shape(data.train)
        spec = MODELS[config["model"]]
        cr.manual_seed(config["seed"])
        model = spec.build(shape, task.outputs, config)
        optimizer = build_optimizer(config["optimizer"], model.parameters(), config["lr"],
                                    config["momentum"])
        history, start = [], 0
        if checkpoint is not None:
            checkpoint.restore_model(model)
            checkpoint.restore_optimizer(optimizer)
            checkpoint.restore_rng()
            history, start = list(checkpoint.history), checkpoint.epoch
    except USER_ERRORS as e:
        raise UsageError(str(e)) from None

    optimizer_text = describe_optimizer(config["optimizer"], config["lr"], config["momentum"],
                                        config["schedule"])
    print(f"chainrule train {task.name}: {spec.describe(shape, task.outputs, config)}, "
          f"{optimizer_text}, batch {config['batch_size']}, {config['epochs']} epochs, "
          f"seed {config['seed']}")
    print(f"data: {data.description}")
    if checkpoint is not None:
        print(f"resumed from {checkpoint.path} after epoch {start}")
    table = Table(task.objective, "test" if data.test is not None else "all")
    print(table.header())
    for record in history:
        print(table.row(record))
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create the output directory {out_dir}: {_reason(e)}") from None
    checkpoint_path = out_dir / CHECKPOINT
    written = []
    monitor = GradientMonitor(model) if args.monitor else None

    def on_epoch(record):
        history.append(record)
        print(table.row(record), flush=True)
        checkpoints.save_checkpoint(checkpoint_path, model, optimizer, record["epoch"], history,
                                    config)
        written.append(record["epoch"])

    try:
        fit(model, optimizer, data, task.objective, epochs=config["epochs"], start_epoch=start,
            batch_size=config["batch_size"], seed=config["seed"],
            lr_at=lambda epoch: scheduled_lr(config["schedule"], config["lr"], epoch,
                                             config["epochs"]),
            progress=progress_bars(not args.no_progress, _warn), on_epoch=on_epoch)
    except TrainingStopped as e:
        kept = (f"{checkpoint_path} holds epoch {written[-1]}" if written
                else "no checkpoint was written")
        raise UsageError(f"{e}; {kept}. Try a lower learning rate (--lr {config['lr']:g} "
                         f"now)" + ("" if args.detect_anomaly else
                                    " or --detect-anomaly to find the operation")) from None

    saved = [str(checkpoint_path)]
    saved += _plot(history, out_dir / CURVES, task.objective, data)
    if monitor is not None:
        monitor.remove()
        monitor.report()
        for flag in monitor.flags():
            print(f"flag: {flag}")
        saved += _plot_monitor(monitor, out_dir / "gradients.png")
    print(f"saved {' and '.join(saved)} ({time.perf_counter() - started:.1f}s in all)")
    return final_line(task.objective, data, history[-1]["test_metric"])


def _plot_monitor(monitor, path):
    try:
        monitor.plot(path)
    except ImportError as e:
        _warn(f"skipped {path.name}: {e}")
        return []
    return [str(path)]


def resolve_settings(task, args, checkpoint):
    """The run's settings: command line over checkpoint over task defaults."""
    config = {"task": task.name, **task_defaults(task)}
    task_options = {option.dest for option in task.options}
    if checkpoint is not None:
        if checkpoint.config.get("task") != task.name:
            raise UsageError(f"{checkpoint.path} is a checkpoint of task "
                             f"{checkpoint.config.get('task')!r}, not {task.name!r}; "
                             f"drop the task name or resume another checkpoint")
        for key, value in checkpoint.config.items():
            default = config.get(key)
            if default is not None and not _same_kind(value, default):
                raise UsageError(f"cannot resume: {checkpoint.path} has a damaged setting "
                                 f"{key}={value!r}")
        config.update(checkpoint.config)
    explicit = {key: getattr(args, key) for key in config
                if key != "task" and getattr(args, key, None) is not None}
    chosen = explicit.get("optimizer", config["optimizer"])
    if checkpoint is None and chosen != config["optimizer"]:
        config.update(OPTIMIZER_DEFAULTS[chosen])
    for key, value in explicit.items():
        if (checkpoint is not None and key not in RESUMABLE and key not in task_options
                and value != checkpoint.config.get(key)):
            flag = "--" + key.replace("_", "-")
            raise UsageError(f"{flag} {_show(value)} differs from the checkpoint's "
                             f"{_show(checkpoint.config.get(key))}; a resumed run keeps its "
                             f"settings (only --epochs may change)")
        config[key] = value
    _check_foreign_options(task, config, args)
    _check_ranges(config)
    if checkpoint is not None and checkpoint.epoch >= config["epochs"]:
        raise UsageError(f"{checkpoint.path} already holds {checkpoint.epoch} epochs; pass "
                         f"--epochs N with N > {checkpoint.epoch} to train further")
    return config


def _check_foreign_options(task, config, args):
    """An option of another task or model, given here, is a mistake worth saying."""
    own = {o.dest for o in task.options} | {o.dest for o in MODELS[config["model"]].options}
    for owner in [*TASKS.values(), *MODELS.values()]:
        for option in owner.options:
            if option.dest not in own and getattr(args, option.dest, None) is not None:
                raise UsageError(f"{option.flags[0]} applies to {owner.name} only, not to "
                                 f"{task.name} with --model {config['model']}")


def _check_ranges(config):
    for key in ("epochs", "batch_size"):
        if config[key] < 1:
            raise UsageError(f"--{key.replace('_', '-')} must be at least 1, got {config[key]}")


def _plot(history, path, objective, data):
    try:
        plot_curves(history, path, objective.metric_name, objective.format,
                    held_out="test" if data.test is not None else "all patterns")
    except MissingMatplotlib as e:
        _warn(f"{e}; skipped {path.name}")
        return []
    return [str(path)]




def _reason(error):
    """An OSError's reason without Python's ``[Errno 2]`` prefix; other errors as they are."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower() if error.filename is None else \
            f"{error.strerror.lower()}: {error.filename}"
    return str(error)


def _same_kind(value, default):
    """Whether a checkpoint's setting has the type of its default (ints pass for floats)."""
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, list):
        return isinstance(value, list) and all(isinstance(v, int) for v in value)
    return type(value) is type(default)


def _show(value):
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def _warn(message):
    print(f"chainrule train: note: {message}", file=sys.stderr)
