"""``chainrule explain EXPR --at x=-2 y=5 z=-4 [--html out.html] [--svg out.svg]``.

Prints the worked backward pass of an arithmetic expression (see
``chainrule.viz.explain``) and optionally writes its graph as a page that
steps through the pass (``--html``) or as a picture (``--svg``). A value may
be a vector: ``--at w=2,-3`` or ``--at "w=[2,-3]"``. Anything the safe parser
rejects, a malformed ``--at`` or an unwritable file is a one-line error with
exit status 2. (An expression that starts with ``-`` would read as an option:
write ``"(-x) * y"`` or ``"0 - x * y"``.)
"""
from .main import UsageError


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "explain", help="show the chain rule at work on an arithmetic expression",
        description="Build the graph of an arithmetic expression, run the forward and backward "
                    "pass, and print each gate's upstream x local = downstream gradients.")
    parser.add_argument("expr", metavar="EXPR",
                        help="e.g. '(x + y) * z'; numbers, variables, + - * / **, and exp, log, "
                             "sqrt, abs, sin, cos, tanh, sigmoid, relu, max, min, sum, mean")
    parser.add_argument("--at", nargs="+", default=[], metavar="NAME=VALUE",
                        help="the variables' values, e.g. --at x=-2 y=5 z=-4 (a vector: w=2,-3)")
    parser.add_argument("--html", metavar="PATH",
                        help="write a page that steps through the backward pass")
    parser.add_argument("--svg", metavar="PATH", help="write the graph as an SVG picture")
    parser.set_defaults(run=run)


def parse_assignments(items):
    """``["x=-2", "w=2,-3"]`` -> ``{"x": -2.0, "w": [2.0, -3.0]}`` (floats, no eval)."""
    values = {}
    for item in items:
        name, sep, text = item.partition("=")
        name, text = name.strip(), text.strip()
        if not sep or not name.isidentifier() or not text:
            raise UsageError(f"--at: expected NAME=VALUE (e.g. x=-2, or w=2,-3 for a vector), "
                             f"got {item!r}")
        if name in values:
            raise UsageError(f"--at: {name} is given twice")
        vector = text.startswith("[") or "," in text
        parts = text.strip("[]").split(",")
        try:
            numbers = [float(p) for p in parts]
        except ValueError:
            raise UsageError(f"--at: the value of {name} must be a number or numbers separated "
                             f"by commas, got {text!r}") from None
        values[name] = numbers if vector else numbers[0]
    return values


def run(args):
    from ..viz.explain import explain
    values = parse_assignments(args.at)
    try:
        explanation = explain(args.expr, **values)
    except ValueError as e:
        raise UsageError(str(e).removeprefix("explain: ")) from None
    print(explanation)
    for path, render in ((args.html, explanation.graph.to_html),
                         (args.svg, explanation.graph.to_svg)):
        if path is None:
            continue
        try:
            text = render()
        except ImportError as e:
            raise UsageError(str(e)) from None
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as e:
            raise UsageError(f"cannot write {path}: {e.strerror}") from None
        print(f"wrote {path}")
    return 0
