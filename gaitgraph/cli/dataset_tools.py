"""The ``gaitgraph-data`` subcommands every dataset module declares (``convert``, ``synthesize``,
``check``): one sub-parser per registered dataset that has the tool (``gaitgraph.datasets``)."""

from __future__ import annotations

from gaitgraph.datasets import get_dataset, list_datasets


def register_dataset_tool(subparsers, command: str, *, help: str, description: str, run) -> None:
    """Add ``gaitgraph-data COMMAND DATASET`` with a sub-parser per dataset whose spec has the tool ``command``;
    ``run(tool, args)`` carries out the parsed command."""
    p = subparsers.add_parser(command, help=help, description=description)
    kinds = p.add_subparsers(dest="dataset", required=True, metavar="DATASET")
    for name in list_datasets():
        tool = getattr(get_dataset(name), command)
        if tool is None:
            continue
        q = kinds.add_parser(name, help=tool.help)
        tool.add_arguments(q)
        q.set_defaults(func=lambda args, tool=tool: run(tool, args))
