"""``gaitgraph-data convert casia-b | oumvlp-pose``: original pose files -> converted dataset."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "convert",
        help="convert original pose files to a converted dataset",
        description="Read the original pose files of a dataset and write a converted dataset directory.",
    )
    kinds = p.add_subparsers(dest="dataset", required=True, metavar="DATASET")

    c = kinds.add_parser("casia-b", help="casia-b_pose_coco.csv (GaitGraph v0.1 release)")
    c.add_argument("--input", required=True, type=Path, metavar="CSV", help="casia-b_pose_coco.csv")
    c.add_argument("--output", required=True, type=Path, metavar="DIR", help="converted dataset directory")
    c.add_argument("--test-from", type=int, default=75, metavar="ID", help="first test subject (default 75: train 1-74, test 75-124)")
    _common(c)
    c.set_defaults(func=run_casia_b)

    o = kinds.add_parser("oumvlp-pose", help="OUMVLP-Pose JSON tree + ID_list.csv")
    o.add_argument("--input", required=True, type=Path, metavar="ROOT", help="folder holding openpose/ and/or alphapose/")
    o.add_argument("--keypoints", required=True, choices=("openpose", "alphapose"))
    o.add_argument("--id-list", required=True, type=Path, metavar="CSV", help="ID_list.csv (train/test subject split)")
    o.add_argument("--output", required=True, type=Path, metavar="DIR", help="converted dataset directory")
    o.add_argument("--workers", type=int, default=None, help="threads reading JSON files (default: CPU count, at most 8)")
    o.add_argument("--person", choices=("track", "first"), default="track",
                   help="frames with several people: track = the person continuing the track (default), "
                   "first = people[0] as the original GaitGraph2 reader")
    _common(o)
    o.set_defaults(func=run_oumvlp)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--strict", action="store_true", help="fail on the first bad row/frame instead of skipping and counting")
    p.add_argument("--synthetic", action="store_true", help="mark the dataset as synthetic in meta.json")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def run_casia_b(args) -> int:
    from gaitgraph.data.casia_b import convert_casia_b

    out = convert_casia_b(
        args.input, args.output, test_from=args.test_from, strict=args.strict, synthetic=args.synthetic, progress=not args.quiet
    )
    _done(out, args.quiet)
    return 0


def run_oumvlp(args) -> int:
    from gaitgraph.data.oumvlp import convert_oumvlp

    out = convert_oumvlp(
        args.input, args.keypoints, args.id_list, args.output,
        strict=args.strict, synthetic=args.synthetic, progress=not args.quiet, workers=args.workers,
        person=args.person,
    )
    _done(out, args.quiet)
    return 0


def _done(out: Path, quiet: bool) -> None:
    from gaitgraph.data.format import load_dataset

    if not quiet:
        ds = load_dataset(out)
        print(f"wrote {out}: {len(ds)} sequences, {len(ds.poses)} frames", file=sys.stderr)
