"""The parts the datasets' ``gaitgraph-data`` subcommands share: common options and the closing line.

Each dataset module declares its own ``convert`` / ``synthesize`` / ``check`` tools (``spec.Tool``)
with these; ``gaitgraph/cli/data_convert.py`` and friends only walk the registry.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_keypoints_option(p: argparse.ArgumentParser, keypoints: tuple[str, ...]) -> None:
    """``--keypoints``: one of the dataset's keypoint sources (required when it has several)."""
    if len(keypoints) > 1:
        p.add_argument("--keypoints", required=True, choices=keypoints, help="keypoint source")
    else:
        p.add_argument("--keypoints", choices=keypoints, default=keypoints[0], help=f"keypoint source (default {keypoints[0]})")


def add_convert_options(p: argparse.ArgumentParser, *, input_help: str, keypoints: tuple[str, ...],
                        input_metavar: str = "ROOT", workers: str | None = None) -> None:
    """``--input``, ``--output``, ``--keypoints`` and the options every converter has (``--workers`` when it
    reads trees)."""
    p.add_argument("--input", required=True, type=Path, metavar=input_metavar, help=input_help)
    p.add_argument("--output", required=True, type=Path, metavar="DIR", help="converted dataset directory")
    add_keypoints_option(p, keypoints)
    if workers:
        p.add_argument("--workers", type=int, default=None, help=f"{workers} (default: CPU count, at most 8)")
    p.add_argument("--strict", action="store_true", help="fail on the first bad row/frame instead of skipping and counting")
    p.add_argument("--synthetic", action="store_true", help="mark the dataset as synthetic in meta.json")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def add_synthesize_options(p: argparse.ArgumentParser, *, output_metavar: str = "ROOT") -> None:
    p.add_argument("--output", required=True, type=Path, metavar=output_metavar)
    p.add_argument("--subjects", type=int, default=None, help="number of subjects (default: the generator's)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the generator's)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def generator_options(args) -> dict:
    """The ``--subjects`` / ``--seed`` given on the command line (the generators' defaults hold otherwise)."""
    return {k: getattr(args, k) for k in ("subjects", "seed") if getattr(args, k) is not None}


def add_check_options(p: argparse.ArgumentParser, keypoints: tuple[str, ...]) -> None:
    p.add_argument("--root", required=True, type=Path, metavar="ROOT", help="where the licensed copy should be")
    p.add_argument("--output", required=True, type=Path, metavar="JSON", help="summary written when the copy is in place")
    add_keypoints_option(p, keypoints)


def fraction(text: str) -> float:
    """argparse type: a fraction in [0, 1)."""
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a fraction in [0, 1), got {text}")
    return value


def report_converted(out: Path, quiet: bool) -> Path:
    """The closing line of a conversion: sequences and frames written."""
    from gaitgraph.data.format import load_dataset

    if not quiet:
        ds = load_dataset(out)
        print(f"wrote {out}: {len(ds)} sequences, {len(ds.poses)} frames", file=sys.stderr)
    return out
