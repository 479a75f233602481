"""``gaitgraph-data import alphapose | openpose | csv``: your own recordings' poses -> converted dataset.

    gaitgraph-data import alphapose --input alphapose-results.json --output data/mine/probe
    gaitgraph-data import openpose --input openpose_json/ --output data/mine/gallery --labels labels.csv

See ``docs/own-data.md`` for the formats, the labels table and the matching step that follows.
"""

from __future__ import annotations

import sys
from pathlib import Path

KINDS = {
    "alphapose": ("AlphaPose results list (alphapose-results.json, COCO-17 or Halpe-26)", ("auto", "coco17", "halpe26")),
    "openpose": ("OpenPose *_keypoints.json file or folder (BODY_25 or COCO-18)", ("auto", "body25", "coco18")),
    "csv": ("CSV in the CASIA-B layout: image_name + 51 columns (COCO-17)", ("auto", "coco17")),
}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "import",
        help="import AlphaPose / OpenPose / CSV poses of your own recordings",
        description="Read pose-estimator output, split it into per-person tracks and write a converted dataset "
                    "(one sequence per track). Joints are mapped to the target layout by name.",
    )
    kinds = p.add_subparsers(dest="kind", required=True, metavar="FORMAT")
    for kind, (text, layouts) in KINDS.items():
        k = kinds.add_parser(kind, help=text, description=text)
        k.add_argument("--input", required=True, type=Path, metavar="PATH", help="file (or folder for openpose)")
        k.add_argument("--output", required=True, type=Path, metavar="DIR", help="converted dataset directory")
        k.add_argument("--layout", default="auto", choices=layouts,
                       help="keypoint layout of the input (default auto: from the number of values per person); "
                            "a file of another layout than the one given is an error")
        k.add_argument("--skeleton", choices=("coco17", "openpose18"), default=None,
                       help="target layout: the one of the checkpoint you will use "
                            f"(default {'openpose18' if kind == 'openpose' else 'coco17'}, or --checkpoint's)")
        k.add_argument("--checkpoint", type=Path, default=None, metavar="CKPT",
                       help="take --skeleton from this checkpoint")
        k.add_argument("--labels", type=Path, default=None, metavar="CSV",
                       help="labels table: columns track and/or source, subject; optional condition, sequence, view, split")
        k.add_argument("--split", default="test", help="split column of every sequence (default test)")
        k.add_argument("--min-length", type=int, default=10, metavar="N", help="drop tracks shorter than N frames (default 10)")
        k.add_argument("--max-gap", type=int, default=10, metavar="N",
                       help="frames a person may go undetected and keep the track (default 10)")
        k.add_argument("--gate", type=float, default=1.0,
                       help="largest matching cost in body sizes between frames (default 1.0)")
        k.add_argument("--strict", action="store_true", help="fail on the first skipped person/frame/track instead of counting it")
        k.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
        k.set_defaults(func=run)


def run(args) -> int:
    from gaitgraph.data.errors import DataError
    from gaitgraph.data.importers import import_poses
    from gaitgraph.outputs import check_folder_output

    check_folder_output(args.output, inputs=[args.input, args.labels, args.checkpoint])  # before loading anything

    skeleton = args.skeleton
    if args.checkpoint is not None:
        from gaitgraph.checkpoints import load_model

        from_ckpt = load_model(args.checkpoint).spec.skeleton
        if skeleton is not None and skeleton != from_ckpt:
            raise DataError(f"--skeleton {skeleton} but {args.checkpoint} expects {from_ckpt}; leave out --skeleton")
        skeleton = from_ckpt
    result = import_poses(
        args.kind, args.input, args.output, skeleton=skeleton, layout=args.layout, labels=args.labels,
        split=args.split, min_length=args.min_length, max_gap=args.max_gap, gate=args.gate, strict=args.strict,
        progress=not args.quiet,
    )
    if not args.quiet:
        print(result.summary(), file=sys.stderr)
        print(f"wrote {result.path}: {len(result.sequences)} sequences ({result.meta['skeleton']}), "
              f"{int(result.sequences['length'].sum())} frames", file=sys.stderr)
    return 0
