"""Progress bars for the training loop: tqdm when it is installed, else none.

tqdm is an optional dependency (the ``all`` extra). ``progress_bars(enabled)``
returns a function ``bar(iterable, total, description)`` that the loop wraps
its batches in; the bar is cleared when the epoch ends (``leave=False``), so
the per-epoch table stays readable, and tqdm's ``disable=None`` turns it off
when stderr is not a terminal (logs and pipes get no carriage-return noise).
"""
MISSING_TQDM = ("progress bars need tqdm, which is not installed: "
                "pip install 'chainrule[all]' (continuing without them)")


class _NoBar:
    """The stand-in for a bar: iterates, and ignores the bar's methods."""

    def __init__(self, iterable):
        self._iterable = iterable

    def __iter__(self):
        return iter(self._iterable)

    def set_postfix(self, **values):
        pass

    def close(self):
        pass


def _no_bar(iterable, total, description):
    return _NoBar(iterable)


def progress_bars(enabled, warn):
    """The bar factory: tqdm's if ``enabled`` and tqdm imports, else a silent one.

    ``warn(message)`` is called once if bars were wanted but tqdm is missing.
    """
    if not enabled:
        return _no_bar
    try:
        from tqdm import tqdm
    except ImportError:
        warn(MISSING_TQDM)
        return _no_bar

    def bar(iterable, total, description):
        return tqdm(iterable, total=total, desc=description, unit="batch", leave=False,
                    disable=None, dynamic_ncols=True)
    return bar
