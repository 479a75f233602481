"""``gaitgraph-data synthesize DATASET``: synthetic data in the dataset's released file formats (``docs/synthetic.md``).

The generators and their options come from the dataset modules (``gaitgraph.datasets``); only the options
given on the command line are forwarded, so the generators' own defaults apply otherwise.
"""

from __future__ import annotations

import sys

from gaitgraph.cli.dataset_tools import register_dataset_tool


def register(subparsers) -> None:
    register_dataset_tool(subparsers, "synthesize", help="write a synthetic dataset in the original file formats",
                          description="Write synthetic pose data in a dataset's original file formats.", run=run)


def run(tool, args) -> int:
    out = tool.run(args)
    if not args.quiet:
        print(f"wrote {out if out is not None else args.output}", file=sys.stderr)
    return 0
