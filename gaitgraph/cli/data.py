"""``gaitgraph-data``: convert, normalize, synthesize and inspect pose datasets.

Each subcommand lives in its own module ``gaitgraph/cli/data_<name>.py`` exposing
``register(subparsers)``; modules that are not there (yet) are left out of the parser. Subcommand
modules import their heavy dependencies inside ``run`` so that ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from gaitgraph.cli.boundary import guarded

SUBCOMMANDS = ("convert", "normalize", "synthesize", "check", "info", "import", "show")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gaitgraph-data",
        description="Convert, normalize, synthesize and inspect gait pose datasets (see docs/data.md).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS:
        module_name = f"gaitgraph.cli.data_{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name == module_name:  # that subcommand is not written yet
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; bad input prints one line to stderr and returns 2 (``gaitgraph.cli.boundary``)."""
    return guarded("gaitgraph-data", _run, argv, subcommands=SUBCOMMANDS)


def _run(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
