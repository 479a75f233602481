"""``gaitgraph-data convert casia-b | oumvlp-pose | gait3d | grew``: original pose files -> converted dataset."""

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

    g = kinds.add_parser("gait3d", help="Gait3D 2D_Poses tree + Gait3D.json (train/test/probe split)")
    g.add_argument("--input", required=True, type=Path, metavar="ROOT", help="folder holding 2D_Poses/")
    g.add_argument("--split", type=Path, default=None, metavar="JSON",
                   help="the split file of OpenGait/FastPoseGait (default ROOT/Gait3D.json)")
    g.add_argument("--output", required=True, type=Path, metavar="DIR", help="converted dataset directory")
    _common(g, workers="processes reading the frame files")
    g.set_defaults(func=run_gait3d)

    w = kinds.add_parser("grew", help="GREW tree: train/, test/gallery/, test/probe/")
    w.add_argument("--input", required=True, type=Path, metavar="ROOT", help="folder holding train/ and test/")
    w.add_argument("--output", required=True, type=Path, metavar="DIR", help="converted dataset directory")
    w.add_argument("--heldout", type=_fraction, default=0.05, metavar="FRACTION",
                   help="training subjects kept out of training for the local protocol (default 0.05, at least 2; 0: none)")
    w.add_argument("--heldout-seed", type=int, default=0, help="seed of the held-out subject draw (default 0)")
    _common(w, workers="processes reading the frame files")
    w.set_defaults(func=run_grew)


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a fraction in [0, 1), got {text}")
    return value


def _common(p: argparse.ArgumentParser, workers: str | None = None) -> None:
    if workers:
        p.add_argument("--workers", type=int, default=None, help=f"{workers} (default: CPU count, at most 8)")
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


def run_gait3d(args) -> int:
    from gaitgraph.data.gait3d import convert_gait3d

    out = convert_gait3d(args.input, args.output, split=args.split, strict=args.strict, synthetic=args.synthetic,
                         progress=not args.quiet, workers=args.workers)
    _done(out, args.quiet)
    return 0


def run_grew(args) -> int:
    from gaitgraph.data.grew import convert_grew

    out = convert_grew(args.input, args.output, heldout=args.heldout, heldout_seed=args.heldout_seed, strict=args.strict,
                       synthetic=args.synthetic, progress=not args.quiet, workers=args.workers)
    _done(out, args.quiet)
    return 0


def _done(out: Path, quiet: bool) -> None:
    from gaitgraph.data.format import load_dataset

    if not quiet:
        ds = load_dataset(out)
        print(f"wrote {out}: {len(ds)} sequences, {len(ds.poses)} frames", file=sys.stderr)
