"""Optional extras: curves with matplotlib, bars with tqdm, and what happens without them."""
import sys

import pytest

from chainrule.training.plots import MissingMatplotlib, plot_curves, plot_error_curves
from chainrule.training.progress import MISSING_TQDM, progress_bars
from chainrule.training.symmetry import train_seeds
from chainrule.training.tasks import CLASSIFICATION

PNG = b"\x89PNG\r\n\x1a\n"
HISTORY = [{"epoch": e, "train_loss": 1 / e, "test_loss": 1.2 / e, "train_metric": 1 - 0.5 / e,
            "test_metric": 1 - 0.6 / e, "seconds": 0.1} for e in range(1, 6)]


def test_curves_are_a_png(tmp_path):
    path = tmp_path / "curves.png"
    plot_curves(HISTORY, path, "accuracy", CLASSIFICATION.format)
    assert path.read_bytes()[:8] == PNG


def test_symmetry_error_curves_are_a_png(tmp_path):
    path = tmp_path / "errors.png"
    plot_error_curves(train_seeds([0, 1], max_sweeps=20), path, "two seeds")
    assert path.read_bytes()[:8] == PNG


def test_without_matplotlib_the_error_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)      # makes the import fail
    with pytest.raises(MissingMatplotlib, match=r"pip install 'chainrule\[all\]'"):
        plot_curves(HISTORY, tmp_path / "curves.png", "accuracy", CLASSIFICATION.format)
    assert not (tmp_path / "curves.png").exists()


def test_without_tqdm_bars_warn_once_and_pass_batches_through(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    notes = []
    bar = progress_bars(True, notes.append)
    assert notes == [MISSING_TQDM] and "pip install 'chainrule[all]'" in MISSING_TQDM
    wrapped = bar([1, 2, 3], 3, "epoch 1")
    wrapped.set_postfix(loss="0.1")
    assert list(wrapped) == [1, 2, 3]
    wrapped.close()


def test_disabled_bars_do_not_import_tqdm(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    notes = []
    assert list(progress_bars(False, notes.append)("ab", 2, "x")) == ["a", "b"]
    assert notes == []


def test_tqdm_bars_stay_quiet_when_stderr_is_not_a_terminal(capsys):
    """disable=None: logs and pipes get no carriage-return noise."""
    bar = progress_bars(True, print)([1, 2], 2, "epoch 1/3")
    assert type(bar).__module__.startswith("tqdm")
    assert list(bar) == [1, 2]
    bar.close()
    assert capsys.readouterr() == ("", "")
