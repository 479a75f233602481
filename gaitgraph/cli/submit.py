"""``gaitgraph submit``: GREW's official submission file for a checkpoint (the file one uploads to the benchmark).

    gaitgraph submit --checkpoint RUN/model.ckpt --data results/data/normalized/grew/hrnet --output grew.csv

Every test sequence of the converted GREW dataset is embedded with the checkpoint's method (its own test
pipeline; GaitGraph2 with TTA unless ``--no-tta``); each withheld probe gets the subject ids of its 20 nearest
gallery sequences (``gaitgraph.evaluation.grew``, the layout of OpenGait's ``GREW_submission``). Bad input
prints one line to stderr and returns 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gaitgraph.cli.boundary import fail, guarded


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gaitgraph submit",
        description="Write GREW's submission file (videoId,rank1..rank20 per withheld probe) for a checkpoint of any "
        "registered method; upload it to the GREW benchmark (docs/evaluation.md).",
    )
    p.add_argument("--checkpoint", required=True, help="model checkpoint (ours, or a method's original format)")
    p.add_argument("--checkpoint-method", default=None, metavar="NAME",
                   help="the checkpoint's method (default: recognised from the file)")
    p.add_argument("--data", required=True, help="converted (normalized) GREW dataset directory")
    p.add_argument("--output", required=True, help="the submission CSV to write")
    p.add_argument("--no-tta", dest="tta", action="store_false",
                   help="GaitGraph: plain embeddings instead of the 3-way TTA concat (other methods: their fixed protocol)")
    p.add_argument("--metric", choices=("cos", "euc"), default="cos",
                   help="distance: cos (the GaitGraph2 configs', default) or euc (Euclidean on the raw embeddings)")
    p.add_argument("--distinct", action="store_true",
                   help="20 distinct subjects per probe (OpenGait's file may repeat a subject with two gallery videos)")
    p.add_argument("--batch-size", type=int, default=None, help="sequences per forward pass (default: the method's)")
    p.add_argument("--device", default="auto", help="torch device: auto (the default), cpu, cuda, cuda:1, ...")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    return guarded("gaitgraph submit", _main, argv)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.batch_size is not None and args.batch_size < 1:
        parser.error(f"--batch-size must be positive, got {args.batch_size}")
    from gaitgraph.runtime import DeviceUnavailable, resolve_device

    try:
        device = resolve_device(args.device)
    except DeviceUnavailable as e:
        return fail("gaitgraph submit", str(e))
    except ValueError as e:
        parser.error(str(e))

    from gaitgraph.evaluation.grew import checkpoint_submission
    from gaitgraph.outputs import check_file_output

    check_file_output(Path(args.output), inputs=[args.checkpoint, args.data], what="--output")  # before the work
    try:
        rows = checkpoint_submission(args.checkpoint, args.data, args.output, tta=args.tta, batch_size=args.batch_size,
                                     device=device, checkpoint_method=args.checkpoint_method, metric=args.metric,
                                     distinct=args.distinct, progress=not args.quiet)
    except ValueError as e:  # bad sequences (NaN poses, wrong joint count) from the embedding step
        if type(e) is ValueError:
            return fail("gaitgraph submit", str(e))
        raise
    print(f"wrote {args.output}: {len(rows)} probes x 20 ranked gallery subjects", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
