"""``gaitgraph submit``: GREW's official submission file for a checkpoint (the file one uploads to the benchmark).

    gaitgraph submit --checkpoint RUN/model.ckpt --data results/data/normalized/grew/hrnet --output grew.csv

Every test sequence of the converted GREW dataset is embedded with the checkpoint's method (its own test
pipeline; ``--tta`` as for ``gaitgraph evaluate``); each withheld probe gets the subject ids of its 20 nearest
gallery sequences (``gaitgraph.evaluation.grew``, the layout of OpenGait's ``GREW_submission``). Bad input
prints one line to stderr and returns 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gaitgraph.cli.boundary import fail, guarded
from gaitgraph.cli.evaluate import TTA, add_checkpoint_options, checked_options


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gaitgraph submit",
        description="Write GREW's submission file (videoId,rank1..rank20 per withheld probe) for a checkpoint of any "
        "registered method; upload it to the GREW benchmark (docs/evaluation.md).",
    )
    add_checkpoint_options(p, "converted (normalized) GREW dataset directory")
    p.add_argument("--output", required=True, help="the submission CSV to write")
    p.add_argument("--metric", choices=("auto", "cos", "euc"), default="auto",
                   help="distance: auto (default: the method's own; GaitGraph2 cos, GaitTR/GPGait euc per part), cos "
                   "or euc")
    p.add_argument("--distinct", action="store_true",
                   help="20 distinct subjects per probe (OpenGait's file may repeat a subject with two gallery videos)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    return guarded("gaitgraph submit", _main, argv)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    status = checked_options("gaitgraph submit", parser, args)
    if status is not None:
        return status
    from gaitgraph.evaluation.grew import checkpoint_submission
    from gaitgraph.outputs import check_file_output

    check_file_output(Path(args.output), inputs=[args.checkpoint, args.data], what="--output")  # before the work
    try:
        rows = checkpoint_submission(args.checkpoint, args.data, args.output, tta=TTA[args.tta], batch_size=args.batch_size,
                                     device=args.device, checkpoint_method=args.checkpoint_method, metric=None if args.metric == "auto" else args.metric,
                                     distinct=args.distinct, progress=not args.quiet)
    except ValueError as e:  # bad sequences (NaN poses, wrong joint count) from the embedding step
        if type(e) is ValueError:
            return fail("gaitgraph submit", str(e))
        raise
    print(f"wrote {args.output}: {len(rows)} probes x 20 ranked gallery subjects", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
