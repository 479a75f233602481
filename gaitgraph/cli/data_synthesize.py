"""``gaitgraph-data synthesize casia-b | oumvlp-pose | gait3d | grew``: synthetic data in the original file formats.

The generators live in :mod:`gaitgraph.data.synthetic` and :mod:`gaitgraph.data.synthetic_wild`; only the options given on the command line
are forwarded, so the generators' own defaults apply otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "synthesize",
        help="write a synthetic dataset in the original file formats",
        description="Write synthetic pose data in the original formats (casia-b_pose_coco.csv, or an OUMVLP-Pose, "
        "Gait3D or GREW tree).",
    )
    kinds = p.add_subparsers(dest="dataset", required=True, metavar="DATASET")
    c = kinds.add_parser("casia-b", help="a casia-b_pose_coco.csv")
    c.add_argument("--output", required=True, type=Path, metavar="CSV")
    o = kinds.add_parser("oumvlp-pose", help="an OUMVLP-Pose tree (openpose/, alphapose/, ID_list.csv)")
    o.add_argument("--output", required=True, type=Path, metavar="ROOT")
    g = kinds.add_parser("gait3d", help="a Gait3D tree (2D_Poses/, Gait3D.json)")
    g.add_argument("--output", required=True, type=Path, metavar="ROOT")
    w = kinds.add_parser("grew", help="a GREW tree (train/, test/gallery/, test/probe/ + the probes' subjects)")
    w.add_argument("--output", required=True, type=Path, metavar="ROOT")
    for q in (c, o, g, w):
        q.add_argument("--subjects", type=int, default=None, help="number of subjects (default: the generator's)")
        q.add_argument("--seed", type=int, default=None, help="random seed (default: the generator's)")
        q.add_argument("--quiet", action="store_true", help="no progress bar")
    c.set_defaults(func=run, generator="synthesize_casia_b")
    o.set_defaults(func=run, generator="synthesize_oumvlp")
    g.set_defaults(func=run, generator="synthesize_gait3d", module="synthetic_wild")
    w.set_defaults(func=run, generator="synthesize_grew", module="synthetic_wild")


def run(args) -> int:
    import importlib

    generate = getattr(importlib.import_module(f"gaitgraph.data.{getattr(args, 'module', 'synthetic')}"), args.generator)
    options = {k: getattr(args, k) for k in ("subjects", "seed") if getattr(args, k) is not None}
    out = generate(args.output, progress=not args.quiet, **options)
    if not args.quiet:
        print(f"wrote {out if out is not None else args.output}", file=sys.stderr)
    return 0
