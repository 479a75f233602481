"""``gaitgraph-data info DIR``: counts per split/condition/view, lengths, missing joints, stats."""

from __future__ import annotations

import json
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("info", help="summarise a converted dataset", description="Summarise a converted dataset.")
    p.add_argument("path", type=Path, metavar="DIR", help="converted (or normalized) dataset")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run)


def run(args) -> int:
    from gaitgraph.data.info import dataset_info, format_info

    info = dataset_info(args.path)
    print(json.dumps(info, indent=2) if args.json else format_info(info))
    return 0
