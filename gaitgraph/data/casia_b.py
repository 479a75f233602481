"""CASIA-B pose file ``casia-b_pose_coco.csv`` -> converted dataset.

The rows (read by :func:`read_rows`: the fast parser of :mod:`gaitgraph.data.casia_b_csv_fast`, or the
precise one of :mod:`gaitgraph.data.casia_b_csv` where the fast one cannot report a problem line by
line) are grouped into sequences keyed by (subject, condition, sequence, view); frames are sorted by
frame number and the numbers are kept (gaps are real missing detections). Grouping is a stable sort on an integer key, skipped when the file is
already in table order (the released file is sorted by image name).

See ``docs/data.md`` for which problems are skipped and counted and which fail.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gaitgraph.data.casia_b_csv import CONDITIONS, CasiaRows, progress_bar, read_rows_precise
from gaitgraph.data.casia_b_csv_fast import NeedsPrecise, read_rows_fast
from gaitgraph.data.errors import CONFIDENCE_CLIPPED, DataError, SkipCounter, clip_confidences, where
from gaitgraph.data.format import sequences_frame, write_dataset
from gaitgraph.datasets.casia_b import CSV_NAME, DATA_URL, TEST_FROM
from gaitgraph.outputs import check_folder_output


@dataclass
class CasiaSequences:
    """Rows grouped into sequences: ``poses``/``frames`` in table order plus the sequence table."""

    poses: np.ndarray  # float32 (F, 17, 3)
    frames: np.ndarray  # int32 (F,)
    table: pd.DataFrame  # SEQUENCE_COLUMNS


def read_rows(path: str | os.PathLike, *, strict: bool = False, progress: bool = False) -> tuple[CasiaRows, SkipCounter]:
    """Valid rows of the CSV and the skip counts: the fast parser, or the precise one where it must."""
    counter = SkipCounter(strict=strict)
    try:
        return read_rows_fast(path, counter, progress=progress), counter
    except NeedsPrecise:
        counter = SkipCounter(strict=strict)  # start again: the precise pass counts everything itself
        return read_rows_precise(path, counter, progress=progress), counter


def missing_file_message(path: Path) -> str:
    return (
        f"{path}: file not found. {CSV_NAME} comes from the GaitGraph v0.1 release: download {DATA_URL}, "
        f"unzip it and pass the extracted {CSV_NAME} with --input (e.g. data/{CSV_NAME}); "
        "or make a synthetic one with `gaitgraph-data synthesize casia-b`."
    )


# -------------------------------------------------------------------------------------- grouping


def group_sequences(rows: CasiaRows, counter: SkipCounter, *, test_from: int = TEST_FROM, source: str = CSV_NAME) -> CasiaSequences:
    """Group rows into sequences (table order: subject, condition, sequence, view), frames sorted.

    Rows of one sequence that are not in ascending frame order are sorted (counted as a repair);
    a repeated frame number keeps the first row in file order and skips the others.
    """
    seq_key = (
        (rows.subject.astype(np.int64) * len(CONDITIONS) + rows.condition) * 100 + rows.sequence
    ) * 1000 + rows.view
    full_key = seq_key * 10_000_000 + rows.frame
    steps = np.diff(full_key)
    if len(steps) and (steps <= 0).any():
        order = np.argsort(full_key, kind="stable")  # stable: the first of duplicate frames stays first
        _count_out_of_order(seq_key, rows.frame, counter)
        full_key, seq_key = full_key[order], seq_key[order]
        dup = np.flatnonzero(np.diff(full_key) == 0) + 1
        if len(dup):
            counter.add(
                "duplicate frame",
                len(dup),
                [where(source, int(rows.line[order[i]]), f"frame {int(rows.frame[order[i]])}, first at line {int(rows.line[order[i - 1]])}") for i in dup[:3]],
            )
            keep = np.ones(len(order), dtype=bool)
            keep[dup] = False
            order, seq_key = order[keep], seq_key[keep]
        take = lambda a: a[order]  # noqa: E731 - reorder every per-row array the same way
    else:
        take = lambda a: a  # noqa: E731 - already sorted (the usual case): no copy of the poses

    if rows.dropped:
        present = {_split_key(k) for k in np.unique(seq_key).tolist()}
        empty = sorted(rows.dropped - present)
        counter.add(
            "empty sequence (every row skipped)",
            len(empty),
            [where(source, detail=f"{s:03d}-{CONDITIONS[c]}-{q:02d}-{v:03d}") for s, c, q, v in empty[:3]],
        )
    poses, frames, lines = take(rows.poses), take(rows.frame), take(rows.line)
    starts = np.flatnonzero(np.r_[True, seq_key[1:] != seq_key[:-1]]) if len(seq_key) else np.zeros(0, np.int64)
    lengths = np.diff(np.r_[starts, len(seq_key)])
    subject = take(rows.subject)[starts]
    first_line = np.minimum.reduceat(lines, starts) if len(starts) else lines[:0]
    last_line = np.maximum.reduceat(lines, starts) if len(starts) else lines[:0]
    table = sequences_frame(
        {
            "subject": subject,
            "condition": np.array(CONDITIONS, dtype=object)[take(rows.condition)[starts]],
            "sequence": take(rows.sequence)[starts],
            "view": take(rows.view)[starts],
            "split": np.where(subject < test_from, "train", "test").astype(object),
            "offset": starts,
            "length": lengths,
            "source": [f"{source}:{a}-{b}" for a, b in zip(first_line, last_line)],
        }
    )
    return CasiaSequences(poses=poses, frames=frames, table=table)


def _split_key(key: int) -> tuple[int, int, int, int]:
    """Inverse of the sequence key: -> (subject, condition index, sequence, view)."""
    rest, view = divmod(key, 1000)
    rest, seq = divmod(rest, 100)
    subject, cond = divmod(rest, len(CONDITIONS))
    return subject, cond, seq, view


def _count_out_of_order(seq_key: np.ndarray, frame: np.ndarray, counter: SkipCounter) -> None:
    """Count rows whose frame number is below the previous row of the same sequence (file order)."""
    by_seq = np.argsort(seq_key, kind="stable")  # rows of each sequence, in file order
    k, f = seq_key[by_seq], frame[by_seq]
    n = int(((k[1:] == k[:-1]) & (f[1:] < f[:-1])).sum())
    counter.fix("rows out of order (sorted by frame number)", n)
    # Sequences whose rows are split into several runs in the file are regrouped silently: the
    # released file is sorted by name, so this only happens to hand-edited files.


# ------------------------------------------------------------------------------------- top level


def read_casia_b(
    csv_path: str | os.PathLike, *, test_from: int = TEST_FROM, strict: bool = False, progress: bool = False
) -> tuple[CasiaSequences, SkipCounter]:
    """Read and group ``casia-b_pose_coco.csv``; returns the sequences and the skip counts."""
    path = Path(csv_path)
    if not path.is_file():
        raise FileNotFoundError(missing_file_message(path))
    with progress_bar(4, progress, f"convert {path.name}", unit="step") as bar:
        rows, counter = read_rows(path, strict=strict, progress=progress)
        bar.update(2)
        clipped = clip_confidences(rows.poses)
        at = np.flatnonzero(clipped)
        counter.repair(CONFIDENCE_CLIPPED, int(clipped.sum()), [where(path, int(rows.line[i])) for i in at[:3]])
        seqs = group_sequences(rows, counter, test_from=test_from, source=path.name)
        bar.update(1)
    return seqs, counter


def convert_casia_b(
    csv_path: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    test_from: int = TEST_FROM,
    strict: bool = False,
    synthetic: bool = False,
    progress: bool = True,
) -> Path:
    """Convert ``casia-b_pose_coco.csv`` to a converted dataset at ``output_dir`` (written atomically).

    Subjects below ``test_from`` form the train split, the others the test split. Skipped rows are
    counted in ``meta["stats"]`` and summarised on stderr; ``strict=True`` fails on the first one.
    """
    if test_from < 1:
        raise ValueError(f"test_from must be a positive subject id, got {test_from}")
    check_folder_output(output_dir, inputs=[csv_path])  # before the work
    seqs, counter = read_casia_b(csv_path, test_from=test_from, strict=strict, progress=progress)
    if len(seqs.table) == 0:
        raise DataError(f"{csv_path}: no valid rows; nothing to convert. {counter.text()}")
    meta = {
        "dataset": "casia-b",
        "skeleton": "coco17",
        "keypoints": "hrnet",
        "synthetic": bool(synthetic),
        "source": str(csv_path),
        "split": {"train": f"subjects < {test_from}", "test": f"subjects >= {test_from}"},
        "stats": counter.summary(),
    }
    out = write_dataset(output_dir, seqs.poses, seqs.frames, seqs.table, meta, inputs=[csv_path])
    if progress or counter:
        print(counter.text(), file=sys.stderr)
    return out
