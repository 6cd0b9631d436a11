"""A small benchmark harness: chainrule side by side with PyTorch and NumPy.

A ``Workload`` names one task (an op chain, an MLP training step, ...) and
holds one factory per implementation ("chainrule", "pytorch", "numpy", and
extras such as "pytorch-fused"). A factory builds its model and data and
returns a zero-argument ``step`` callable that runs the task once; a factory
that raises ``ImportError`` (PyTorch not installed, or a chainrule API that
does not exist yet) is reported as "not installed", never as a crash.

How ``run`` measures, and why:

- Only ratios are reported as results. The machine is shared, so absolute
  times drift with other people's load; a ratio of two implementations
  measured under the same load drifts far less. Not at all loads, though:
  once the load average passes the core count, threaded code (waiting at
  barriers for a descheduled thread) suffers far more than single-threaded
  code: measured here at a load of 6 on 2 cores, the digits SGD step in
  NumPy took 127 ms with 2 BLAS threads and 0.18 ms with 1. Long calls
  also collect more preemptions than short ones. So each workload's rows
  end with the load average of the moment, and a warning when it passes
  the core count.
- Implementations are interleaved in rounds: round r runs a block of calls
  of every implementation (A, B, C, then B, C, A, ...: the order rotates so
  that none always follows the same neighbour). A load spike then hits one
  round of every implementation alike.
- A block starts with a few untimed calls. Measured on this 2-core machine:
  the first call after switching from one library to the other is 10 to 100
  times slower than the next ones (the other library's worker threads still
  hold the cores), so alternating single calls would time the switch, not
  the library; the second call is back to normal.
- Every call is timed on its own and the median is reported (robust to the
  odd garbage collection or scheduler hiccup; the garbage collector stays on
  because a real training loop runs with it).
- The ratio to a reference is the median over rounds of the per-round ratio
  of block medians (paired: both sides of a ratio come from the same
  round), not a ratio of two medians taken at different moments.
- Absolute numbers derived from a time (GFLOP/s, µs per op) use the best
  round (the smallest block median: the round least disturbed by other
  work), as the matmul peak they are compared with uses its best repeat.
- PyTorch and NumPy's BLAS both get the same number of threads (2 by
  default): ``torch.set_num_threads`` and ``threadpoolctl`` when installed.

Run it as ``python -m benchmarks.harness [WORKLOAD ...]`` from the repository
root (``--help`` lists the options).
"""
import argparse
import functools
import gc
import importlib
import importlib.metadata
import itertools
import json
import os
import statistics
import sys
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

REFERENCES = ("pytorch", "numpy")   # the ratio columns, in table order
# (calls, seconds): each phase runs at least that many calls and that long
WARMUP = (3, 0.2)       # once, before any timing: allocations, lazy imports, thread pools
SETTLE = (2, 0.01)      # untimed, at the start of every block (see above)
BLOCK = (3, 0.04)       # timed, per implementation and round


@dataclass
class Workload:
    """One benchmark task and its implementations.

    ``implementations`` maps a name to a factory; ``factory()`` returns a
    zero-argument callable that runs one step. ``metrics``, if given, turns
    one implementation's step time in seconds (of its best round) into named
    numbers (GFLOP/s, µs per op, ...) shown under the table and kept in the
    results.
    """
    name: str
    description: str
    implementations: dict
    metrics: Callable[[float], dict] | None = field(default=None)


def require_chainrule(*names):
    """Import chainrule and check that it has every dotted name in ``names``.

    ``require_chainrule("nn.Linear", "optim.SGD")`` returns the ``chainrule``
    module, or raises ``ImportError`` listing all the names that are missing,
    so that the harness reports the implementation as not installed (the
    library is being written against API.md; some parts arrive later).
    """
    try:
        import chainrule
    except ImportError as exc:
        raise ImportError(f"chainrule is not importable ({exc}); install it with "
                          f"`pip install -e .` from the repository root") from exc
    missing = [name for name in names if not _has_attribute_path(chainrule, name)]
    if missing:
        raise ImportError(f"chainrule has no {', '.join(missing)} yet (see API.md)")
    return chainrule


def _has_attribute_path(module, dotted):
    """Whether ``module.a.b.c`` exists, importing submodules on the way
    (``chainrule.nn.functional`` need not be imported by ``chainrule``)."""
    obj, path = module, module.__name__
    for part in dotted.split("."):
        path = f"{path}.{part}"
        if not hasattr(obj, part):
            try:
                importlib.import_module(path)
            except ModuleNotFoundError:
                return False
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


@contextmanager
def limit_threads(threads):
    """Run the body with ``threads`` threads in PyTorch (if imported) and in
    the BLAS and OpenMP pools that threadpoolctl finds (if installed);
    restore the previous settings afterwards."""
    with ExitStack() as stack:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            pass    # NumPy keeps its default (one thread per core: 2 here)
        else:
            stack.enter_context(threadpool_limits(limits=threads))
        torch = sys.modules.get("torch")
        if torch is not None:
            previous = torch.get_num_threads()
            torch.set_num_threads(threads)
            stack.callback(torch.set_num_threads, previous)
        yield


@functools.cache
def matmul_peak_gflops(dtype=np.float32, sizes=(1024, 1536, 2048), repeats=5, threads=2):
    """The machine's matmul peak in GFLOP/s, measured with NumPy's BLAS.

    For each n in ``sizes``, the best time of ``repeats`` products of two
    n x n matrices (2 n**3 flops each) into a preallocated result; the best
    size wins (BLAS reaches its peak only on large enough blocks). Cached:
    measured once per process and argument set.
    """
    rng = np.random.default_rng(0)
    best = 0.0
    with limit_threads(threads):
        for n in sizes:
            a = rng.standard_normal((n, n)).astype(dtype)
            b = rng.standard_normal((n, n)).astype(dtype)
            out = np.empty((n, n), dtype=dtype)
            np.matmul(a, b, out=out)    # warm-up: thread pool start, page faults
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                np.matmul(a, b, out=out)
                times.append(time.perf_counter() - start)
            best = max(best, 2 * n ** 3 / min(times) / 1e9)
    return best


def run(workloads, min_time=2.0, rounds=None, min_rounds=10, implementations=None,
        threads=2, file=sys.stdout):
    """Benchmark each workload and return one result dict per implementation.

    Each workload runs interleaved rounds until ``min_time`` seconds and
    ``min_rounds`` rounds have passed, or exactly ``rounds`` rounds if given.
    ``implementations`` (names) restricts which ones run. The table is
    printed to ``file`` workload by workload (``file=None``: silent).

    A result dict has ``workload``, ``implementation``, ``status`` ("ok",
    "not installed" or "failed"), ``message``, ``rounds``, ``calls`` (the
    timed ones), ``median_us``, ``q1_us``, ``q3_us`` (quartiles),
    ``best_round_us`` (the smallest block median),
    ``ratio_pytorch``, ``ratio_numpy`` (``None`` when the reference did not
    run), ``metrics`` (a dict, possibly empty) and ``load_average`` (the
    machine's 1-minute load average when the workload finished).
    """
    results = []
    if file is not None:
        print(_header(threads), file=file)
    for k, workload in enumerate(workloads):
        rows = _run_workload(workload, min_time, rounds, min_rounds, implementations, threads)
        results.extend(rows)
        if file is not None:
            print(format_table(rows, column_titles=k == 0), file=file, flush=True)
    return results


def _run_workload(workload, min_time, rounds, min_rounds, only, threads):
    names = [name for name in workload.implementations if only is None or name in only]
    rows = {name: _row(workload.name, name) for name in names}
    steps = {}
    for name in names:
        try:
            steps[name] = workload.implementations[name]()
        except ImportError as exc:
            rows[name].update(status="not installed", message=str(exc))
        # a broken implementation must not hide the others' results: any
        # error, here or in the warm-up, is reported in its row
        except Exception as exc:
            rows[name].update(status="failed", message=f"{type(exc).__name__}: {exc}")
    with limit_threads(threads):
        for name in list(steps):
            try:
                _repeat(steps[name], *WARMUP)
            except Exception as exc:
                rows[name].update(status="failed", message=f"{type(exc).__name__}: {exc}")
                del steps[name]
        blocks = _interleave(steps, min_time, rounds, min_rounds)
        for name, own in blocks.items():
            times = [t for block in own for t in block]
            q1, median, q3 = statistics.quantiles(times, n=4, method="inclusive")
            best_round = min(statistics.median(block) for block in own)
            rows[name].update(status="ok", rounds=len(own), calls=len(times),
                              median_us=median * 1e6, q1_us=q1 * 1e6, q3_us=q3 * 1e6,
                              best_round_us=best_round * 1e6)
            for reference in REFERENCES:
                if reference in blocks:
                    ratios = [statistics.median(a) / statistics.median(b)
                              for a, b in zip(own, blocks[reference])]
                    rows[name][f"ratio_{reference}"] = statistics.median(ratios)
            if workload.metrics is not None:
                rows[name]["metrics"] = workload.metrics(best_round)
    load = os.getloadavg()[0]
    for row in rows.values():
        row["load_average"] = load
    return list(rows.values())


def _row(workload, implementation):
    return {"workload": workload, "implementation": implementation, "status": None,
            "message": "", "rounds": 0, "calls": 0,
            "median_us": None, "q1_us": None, "q3_us": None, "best_round_us": None,
            "ratio_pytorch": None, "ratio_numpy": None, "metrics": {}, "load_average": None}


def _repeat(step, calls, seconds):
    """Call ``step`` at least ``calls`` times and for at least ``seconds``;
    return the time of each call in seconds."""
    times = []
    start = time.perf_counter()
    while len(times) < calls or time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return times


def _interleave(steps, min_time, rounds, min_rounds):
    """Timed blocks: ``blocks[name][r]`` lists the call times of round r."""
    names = list(steps)
    blocks = {name: [] for name in names}
    if not names:
        return blocks
    gc.collect()    # start from a clean heap, not from the warm-up's garbage
    start = time.perf_counter()
    r = 0
    while (r < rounds) if rounds is not None else (
            r < min_rounds or time.perf_counter() - start < min_time):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            _repeat(steps[name], *SETTLE)
            blocks[name].append(_repeat(steps[name], *BLOCK))
        r += 1
    return blocks


def _header(threads):
    versions = [f"numpy {np.__version__}"]
    for package in ("torch", "chainrule"):
        try:
            versions.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    return (f"{threads} threads each; {', '.join(versions)}. Times in µs per call: the median "
            f"and the best round's median;\nratios: medians of per-round ratios "
            f"(< 1: faster than the reference); metrics from the best round.")


def format_table(rows, column_titles=True):
    """The rows of ``run`` as an aligned text table, each workload's metrics
    on lines below its rows."""
    lines = []
    if column_titles:
        titles = (f"{'workload':<20} {'implementation':<18} {'median µs':>11} "
                  f"{'best round':>11} {'x pytorch':>10} {'x numpy':>8}")
        lines += [titles, "-" * len(titles)]
    for name, group in itertools.groupby(rows, key=lambda row: row["workload"]):
        group = list(group)
        for k, row in enumerate(group):
            first = f"{name if k == 0 else '':<20} {row['implementation']:<18}"
            if row["status"] != "ok":
                lines.append(f"{first} {row['status']}: {row['message']}")
            else:
                lines.append(f"{first} {row['median_us']:>11.1f} {row['best_round_us']:>11.1f} "
                             f"{_ratio(row['ratio_pytorch']):>10} {_ratio(row['ratio_numpy']):>8}")
        for row in group:
            if row["metrics"]:
                shown = ", ".join(f"{value:.3g} {label}"
                                  for label, value in row["metrics"].items())
                lines.append(f"    {row['implementation']}: {shown}")
        load, cores = group[0]["load_average"], os.cpu_count()
        warning = (": above the core count, the ratios are unreliable, above all for "
                   "threaded code; rerun when quiet, or with --threads 1" if load > cores else "")
        lines.append(f"    (load average {load:.1f} on {cores} cores{warning})")
    return "\n".join(lines)


def _ratio(value):
    return "-" if value is None else f"{value:.2f}"


def main(argv=None):
    """Command line: ``python -m benchmarks.harness [WORKLOAD ...] [options]``."""
    from benchmarks import all_workloads

    workloads = all_workloads()
    known = [w.name for w in workloads]
    parser = argparse.ArgumentParser(prog="python -m benchmarks.harness",
                                     description="chainrule vs PyTorch vs NumPy, side by side")
    parser.add_argument("workloads", nargs="*", metavar="WORKLOAD",
                        help=f"workloads to run (default: all): {', '.join(known)}")
    parser.add_argument("--min-time", type=float, default=2.0,
                        help="seconds of interleaved rounds per workload (default 2)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="run exactly this many rounds instead of --min-time")
    parser.add_argument("--implementations", default=None,
                        help="comma-separated implementations to run, e.g. numpy,pytorch")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    unknown = [name for name in args.workloads if name not in known]
    if unknown:
        parser.error(f"unknown workload {', '.join(unknown)}; choose from {', '.join(known)}")
    chosen = [w for w in workloads if not args.workloads or w.name in args.workloads]
    only = None if args.implementations is None else set(args.implementations.split(","))
    results = run(chosen, min_time=args.min_time, rounds=args.rounds, implementations=only,
                  threads=args.threads, file=None if args.json else sys.stdout)
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
