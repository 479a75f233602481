"""``gaitgraph-data check DATASET``: is the user's licensed copy of a dataset where it should be?

When it is, a small JSON summary goes to ``--output`` (the workflow's check rules declare it); when it is
not, one line says where to apply for the data and where to put the files (exit 2).
"""

from __future__ import annotations

from gaitgraph.cli.dataset_tools import register_dataset_tool


def register(subparsers) -> None:
    register_dataset_tool(subparsers, "check", help="check that a licensed dataset is in place",
                          description="Check the licensed copy of a dataset that cannot be downloaded directly.", run=run)


def run(tool, args) -> int:
    from gaitgraph.outputs import check_file_output, write_json

    check_file_output(args.output)
    summary = tool.run(args)
    write_json(args.output, summary, indent=1)
    print(f"{args.dataset}: " + ", ".join(f"{k} {v}" for k, v in summary.items()))
    return 0
