"""``gaitgraph-data normalize``: converted dataset -> normalized dataset (its own cached output)."""

from __future__ import annotations

import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "normalize",
        help="normalize keypoints (mode none or center-scale) into a new dataset directory",
        description="Write a normalized copy of a converted dataset; the mode is recorded in meta.json. "
        "none: raw pixels, poses.npy copied unchanged (the original's training input; OUMVLP-Pose missing joints "
        "are filled at validation/test time, as the original does); "
        "center-scale: per-frame centring on the hips, scaling by the sequence's median torso length.",
    )
    p.add_argument("--input", required=True, type=Path, metavar="DIR", help="converted dataset")
    p.add_argument("--output", required=True, type=Path, metavar="DIR", help="normalized dataset to write")
    p.add_argument("--mode", required=True, choices=("none", "center-scale"))
    p.add_argument("--fill-missing-joints", action="store_true",
                   help="with --mode none: fill missing joints (x == 0) with the original NormalizeEmpty here, so that "
                   "training sees them filled too (our variant; the original fills at validation/test time only)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    from gaitgraph.data.normalize import normalize_dataset

    if args.fill_missing_joints and args.mode != "none":
        print(f"gaitgraph-data normalize: error: --fill-missing-joints needs --mode none, not {args.mode} "
              "(center-scale writes missing joints as (0, 0, 0))", file=sys.stderr)
        return 2
    out = normalize_dataset(args.input, args.output, args.mode, progress=not args.quiet,
                            fill_missing_joints=args.fill_missing_joints)
    if not args.quiet:
        fill = ", missing joints filled before training" if args.fill_missing_joints else ""
        print(f"wrote {out} (normalization: {args.mode}{fill})", file=sys.stderr)
    return 0
