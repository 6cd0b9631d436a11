"""``chainrule bench [WORKLOAD ...]``: the benchmark suite, side by side with
PyTorch and hand-written NumPy (when installed).

The workloads live in the source checkout's ``benchmarks/`` folder (next to
``src/``), so this command needs chainrule installed from a checkout
(``pip install -e .``). ``forward-vs-reverse`` is its own experiment and
takes its own options.
"""
import importlib
import sys
from pathlib import Path

from .main import UsageError

SPECIAL = {"forward-vs-reverse": "benchmarks.forward_vs_reverse"}


def add_parser(subparsers):
    p = subparsers.add_parser(
        "bench", help="run the benchmark suite (ratios to PyTorch and NumPy)",
        description="Run chainrule's benchmarks side by side with PyTorch and hand-written "
                    "NumPy, interleaved, 2 threads each, and print medians and ratios. "
                    "WORKLOAD may be 'forward-vs-reverse' (then the remaining arguments are "
                    "its own: --plot PATH, --widths, --outputs, --json). Without WORKLOAD, "
                    "every workload of the suite runs.")
    p.add_argument("args", nargs="...", metavar="WORKLOAD [options]",
                   help="workloads (op-chain, mlp-step, digits-mlp-adam, digits-mlp-sgd, "
                        "lstm-step, digits-cnn, forward-vs-reverse) and options "
                        "(--min-time S, --rounds N, --implementations a,b, --json)")
    p.set_defaults(run=run)


def _import_benchmarks():
    checkout = Path(__file__).resolve().parents[3]
    if not (checkout / "benchmarks" / "harness.py").is_file():
        raise UsageError("the benchmark suite lives in the benchmarks/ folder of a source "
                         "checkout; install chainrule from one (pip install -e .) to run it")
    if str(checkout) not in sys.path:
        sys.path.insert(0, str(checkout))
    return importlib.import_module("benchmarks.harness")


def run(args):
    harness = _import_benchmarks()
    argv = list(args.args)
    if argv and argv[0] in SPECIAL:
        return importlib.import_module(SPECIAL[argv[0]]).main(argv[1:]) or 0
    try:
        harness.main(argv)
    except SystemExit as e:   # argparse inside the harness: keep its status, no traceback
        return e.code if isinstance(e.code, int) else 2
    return 0
