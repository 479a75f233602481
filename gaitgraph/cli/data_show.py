"""``gaitgraph-data show DIR``: animate one sequence of a converted dataset as a GIF.

    gaitgraph-data show DATA --subject 1 --condition nm --sequence 1 --view 90 --output out.gif
    gaitgraph-data show DATA --index 0 --output out.gif

A selection that matches no sequence (or several) is an error that lists what the dataset holds.
"""

from __future__ import annotations

from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "show", help="animate one sequence as a GIF",
        description="Animate one sequence of a converted dataset (skeleton per frame) as a GIF. Select it by "
        "subject/condition/sequence/view (together they must match exactly one sequence) or by --index.",
    )
    p.add_argument("path", type=Path, metavar="DIR", help="converted (or normalized) dataset")
    p.add_argument("--output", "-o", type=Path, required=True, help="GIF file to write (folders are created)")
    p.add_argument("--subject", type=int, help="subject id, e.g. 1")
    p.add_argument("--condition", help="walking condition: nm, bg or cl")
    p.add_argument("--sequence", type=int, help="sequence number, e.g. 1")
    p.add_argument("--view", type=int, help="camera view in degrees, e.g. 90")
    p.add_argument("--index", type=int, help="position in the sequence table (instead of the fields above)")
    p.add_argument("--fps", type=float, default=10.0, help="frames per second of the GIF (default: 10)")
    p.set_defaults(func=run)


def run(args) -> int:
    from gaitgraph.data.errors import DataError
    from gaitgraph.outputs import check_file_output
    from gaitgraph.viz.animate import show

    check_file_output(args.output, inputs=[args.path], what="--output")

    fields = (args.subject, args.condition, args.sequence, args.view)
    if args.index is not None and any(f is not None for f in fields):
        raise DataError("--index cannot be combined with --subject/--condition/--sequence/--view")
    path = show(args.path, args.output, subject=args.subject, condition=args.condition, sequence=args.sequence,
                view=args.view, index=args.index, fps=args.fps)
    print(path)
    return 0
