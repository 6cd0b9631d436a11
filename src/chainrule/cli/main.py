"""``chainrule`` / ``python -m chainrule``: one subcommand per module.

Each subcommand module offers ``add_parser(subparsers)`` and ``run(args)``
returning the exit status. A user error is printed as one line and exits with
status 2 (never a traceback): subcommands raise ``UsageError`` for that.
"""
import argparse
import importlib
import sys

SUBCOMMANDS = ("train", "explain", "gradcheck", "bench")


class UsageError(Exception):
    """A problem with the user's input: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


def build_parser():
    parser = _Parser(prog="chainrule",
                     description="Backpropagation you can read: train networks, explain "
                                 "gradients, check them.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"chainrule.cli.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"chainrule.cli.{name}":
                raise
            continue
        module.add_parser(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.run(args) or 0
    except UsageError as e:
        print(f"chainrule {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
