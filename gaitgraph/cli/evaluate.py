"""``gaitgraph evaluate``: TTA rank-1 evaluation of a checkpoint on a converted dataset.

    gaitgraph evaluate --checkpoint RUN/model.ckpt --data data/casia-b/normalized --output RUN/metrics.json

Writes ``metrics.json`` (docs/design.md shape) and ``.md`` / ``.tex`` tables of the same name beside
it, and prints the Markdown tables. Bad input prints one line to stderr and returns 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gaitgraph.cli.boundary import fail, guarded


TTA = {"on": True, "off": False, "auto": None}  # --tta -> evaluate_checkpoint(tta=...)


def add_checkpoint_options(p: argparse.ArgumentParser, data_help: str) -> None:
    """The options of commands that embed a converted dataset with a checkpoint (evaluate, submit)."""
    p.add_argument("--checkpoint", required=True, help="model checkpoint (ours, or a method's original format)")
    p.add_argument("--checkpoint-method", default=None, metavar="NAME",
                   help="the checkpoint's method (gaitgraph2, gaitgraph1, gaittr, gaitmixer, gpgait; default: recognised "
                   "from the file)")
    p.add_argument("--data", required=True, help=data_help)
    p.add_argument("--tta", choices=tuple(TTA), default="on",
                   help="test-time augmentation of methods that can switch it (GaitGraph): on (the default; GaitGraph2's "
                   "3-way concat), off (plain embeddings), auto (the method's own: GaitGraph2 on, GaitGraph v1 off); "
                   "other methods always run their fixed protocol")
    p.add_argument("--no-tta", dest="tta", action="store_const", const="off", help="the same as --tta off")
    p.add_argument("--batch-size", type=int, default=None,
                   help="sequences per forward pass (default: the method's, GaitGraph 256, GaitTR 1)")
    p.add_argument("--device", default="auto", help="torch device: auto (cuda if a GPU is visible, else cpu; the "
                   "default), cpu, cuda, cuda:1, ...")


def checked_options(prog: str, parser: argparse.ArgumentParser, args) -> int | None:
    """Check ``--batch-size`` and resolve ``--device`` in place; the exit status when the device is unavailable."""
    if args.batch_size is not None and args.batch_size < 1:
        parser.error(f"--batch-size must be positive, got {args.batch_size}")
    from gaitgraph.devices import DeviceUnavailable, resolve_device

    try:
        args.device = resolve_device(args.device)
    except DeviceUnavailable as e:
        return fail(prog, str(e))
    except ValueError as e:
        parser.error(str(e))
    return None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gaitgraph evaluate",
        description="Evaluate a checkpoint of any registered method (GaitGraph2, GaitGraph, GaitTR, GPGait, GaitMixer) "
        "on a converted dataset under every convention of the dataset's protocol (CASIA-B: both identical-view "
        "conventions; OUMVLP-Pose: the GaitGraph2 and OpenGait ones; Gait3D, GREW: retrieval metrics); see "
        "docs/evaluation.md.",
    )
    add_checkpoint_options(p, "converted (normalized) dataset directory")
    p.add_argument("--output", required=True, help="metrics.json to write (.md and .tex tables go beside it)")
    p.add_argument("--split", default="test", help="split of the dataset to evaluate (default test; GREW's local "
                   "protocol: heldout)")
    p.add_argument("--method", default=None, help="method label recorded in metrics.json (default: the method's title)")
    p.add_argument("--experiment", default=None, help="experiment name recorded in metrics.json (default: the method's name)")
    p.add_argument("--seed", type=int, default=None, help="training seed recorded in metrics.json")
    p.add_argument("--test-set", choices=("auto", "all", "gaitgraph1"), default="auto",
                   help="which sequences of the split are evaluated: all (GaitGraph2's protocol), gaitgraph1 (GaitGraph "
                   "v1's: sequences of at most the checkpoint's window length, 60 frames, left out of gallery and "
                   "probes), auto (default: gaitgraph1 for GaitGraph v1 checkpoints, else all); recorded in metrics.json")
    p.add_argument("--metric", choices=("auto", "cos", "euc"), default="auto",
                   help="the distance: cos (L2-normalised; GaitGraph, GaitMixer), euc (Euclidean of the raw embeddings, per "
                   "part and averaged over the parts; GaitTR, GPGait as FastPoseGait), auto (default: the method's "
                   "own); recorded in metrics.json")
    p.add_argument("--quiet", action="store_true", help="no progress bar, no table on stdout")
    return p


def main(argv: list[str] | None = None) -> int:
    return guarded("gaitgraph evaluate", _main, argv)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    status = checked_options("gaitgraph evaluate", parser, args)
    if status is not None:
        return status

    from gaitgraph.evaluation.evaluate_checkpoint import evaluate_checkpoint
    from gaitgraph.evaluation.report import metrics_markdown
    from gaitgraph.outputs import check_file_output

    for out in (Path(args.output), Path(args.output).with_suffix(".md"), Path(args.output).with_suffix(".tex")):  # before the embedding work
        check_file_output(out, inputs=[args.checkpoint, args.data], what="--output")
    try:
        metrics = evaluate_checkpoint(
            args.checkpoint, args.data, args.output, tta=TTA[args.tta], batch_size=args.batch_size, device=args.device,
            split=args.split, method=args.method, experiment=args.experiment, seed=args.seed,
            progress=not args.quiet, test_set=args.test_set, checkpoint_method=args.checkpoint_method,
            metric=None if args.metric == "auto" else args.metric,
        )
    except ValueError as e:  # bad sequences (NaN poses, wrong joint count) from the embedding step
        if type(e) is ValueError:
            return fail("gaitgraph evaluate", str(e))
        raise
    if not args.quiet:
        print(metrics_markdown(metrics))
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
