"""``gaitgraph-data convert DATASET``: a dataset's released pose files -> converted dataset (``docs/data.md``).

The datasets and their options come from the dataset modules (``gaitgraph.datasets``, ``spec.Tool``).
"""

from __future__ import annotations

from gaitgraph.cli.dataset_tools import register_dataset_tool


def register(subparsers) -> None:
    register_dataset_tool(subparsers, "convert", help="convert original pose files to a converted dataset",
                          description="Read the original pose files of a dataset and write a converted dataset "
                          "directory.", run=lambda tool, args: (tool.run(args), 0)[1])
