"""``gaitgraph-data normalize``: converted dataset -> normalized dataset (its own cached output)."""

from __future__ import annotations

import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "normalize",
        help="normalize keypoints (mode none or center-scale) into a new dataset directory",
        description="Write a normalized copy of a converted dataset; the mode is recorded in meta.json. "
        "none: raw pixels (reference), missing joints filled for openpose18 only; "
        "center-scale: per-frame centring on the hips, scaling by the sequence's median torso length.",
    )
    p.add_argument("--input", required=True, type=Path, metavar="DIR", help="converted dataset")
    p.add_argument("--output", required=True, type=Path, metavar="DIR", help="normalized dataset to write")
    p.add_argument("--mode", required=True, choices=("none", "center-scale"))
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    from gaitgraph.data.normalize import normalize_dataset

    out = normalize_dataset(args.input, args.output, args.mode, progress=not args.quiet)
    if not args.quiet:
        print(f"wrote {out} (normalization: {args.mode})", file=sys.stderr)
    return 0
