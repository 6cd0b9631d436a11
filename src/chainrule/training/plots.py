"""Figures of a run, as PNG files: loss and metric curves, symmetry error curves.

matplotlib is an optional dependency (the ``all`` extra): without it these
functions raise ``MissingMatplotlib``, whose message says what to install,
and the command carries on without the figure. The Agg backend renders to
files only, so no display is needed and no window opens.
"""


class MissingMatplotlib(Exception):
    """matplotlib is not installed; the message names the extra to install."""


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise MissingMatplotlib("plots need matplotlib, which is not installed: "
                                "pip install 'chainrule[all]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_curves(history, path, metric_name, format_metric, held_out="test"):
    """Loss (left) and ``metric_name`` (right) per epoch, train and ``held_out``."""
    plt = _pyplot()
    epochs = [record["epoch"] for record in history]
    figure, (loss_axes, metric_axes) = plt.subplots(1, 2, figsize=(10, 4))
    try:
        loss_axes.plot(epochs, [r["train_loss"] for r in history], marker=".", label="train")
        loss_axes.plot(epochs, [r["test_loss"] for r in history], marker=".", label=held_out)
        loss_axes.set(xlabel="epoch", ylabel="loss", title="loss")
        metric_axes.plot(epochs, [r["train_metric"] for r in history], marker=".",
                         label="train (mean over the epoch's batches)")
        metric_axes.plot(epochs, [r["test_metric"] for r in history], marker=".",
                         label=f"{held_out} (after the epoch)")
        final = format_metric(history[-1]["test_metric"])
        metric_axes.set(xlabel="epoch", ylabel=metric_name,
                        title=f"{metric_name} (final {held_out}: {final})")
        if format_metric(1.0).endswith("%"):
            metric_axes.yaxis.set_major_formatter(
                plt.FuncFormatter(lambda value, _: f"{100 * value:.0f}%"))
        for axes in (loss_axes, metric_axes):
            axes.grid(alpha=0.3)
            axes.legend()
        figure.tight_layout()
        figure.savefig(path, dpi=100)
    finally:
        plt.close(figure)


def plot_error_curves(runs, path, title):
    """The error E against sweeps, one line per seed, a dot where it was solved.
    ``runs`` are ``symmetry.SeedResult``s."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(8, 4.5))
    try:
        for run in runs:
            line, = axes.plot(run.errors, linewidth=1, label=f"seed {run.seed}")
            if run.solved:
                axes.plot(run.sweeps, run.errors[run.sweeps], "o", color=line.get_color(),
                          markersize=4)
        axes.set_ylim(bottom=0)
        axes.set(xlabel="sweep", ylabel="E = 1/2 sum of squared errors", title=title)
        axes.grid(alpha=0.3)
        if len(runs) <= 10:
            axes.legend(fontsize="small")
        figure.tight_layout()
        figure.savefig(path, dpi=100)
    finally:
        plt.close(figure)
