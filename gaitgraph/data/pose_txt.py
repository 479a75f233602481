"""The per-frame pose text files of Gait3D and GREW: one file per frame, one line of numbers.

Both releases store a frame as one line of comma-separated numbers::

    A,B,x1,y1,c1,x2,y2,c2,...,x17,y17,c17        e.g. 311,438,89.201164,62.87694,0.57074964,...

FastPoseGait (``misc/pretreatment_gait3d_pose.py`` line 68, ``misc/pretreatment_grew_pose.py``
lines 97 and 127) and OpenGait (``datasets/pretreatment.py``, ``txts2pickle``) read a file with
``np.genfromtxt(path, delimiter=',')[2:].reshape(-1, 3)``: the two leading numbers are dropped and
the rest are (x, y, confidence) triples, 17 of them, in the COCO-17 order of HRNet (the
``joint_format: coco`` of every Gait3D/GREW config). The two leading numbers are not documented
(Gait3D-Benchmark issue #14 asks; the example above is its file ``0000/camid9_videoid2/seq0/
human_crop_f17279.txt``); they are dropped here too. Frames of a sequence are the files of one
folder; both scripts order them by sorting the file names as text, here they are ordered by the
frame number in the name (the same order while the numbers have equal digit counts).

:func:`read_sequence` reads one folder; what it cannot use is reported as ``(reason, where)`` skips
for the caller's :class:`~gaitgraph.data.errors.SkipCounter`. This module imports no torch, so
worker processes start quickly.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaitgraph.data.errors import CONFIDENCE_CLIPPED, DataError, clip_confidences, where

NUM_JOINTS = 17
LEADING = 2  # numbers before the keypoints (dropped, as by the reference scripts)
NUM_VALUES = LEADING + 3 * NUM_JOINTS


class FrameError(Exception):
    """A frame file that cannot be used: ``reason`` (the skip key) and ``detail`` (for the message)."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason, self.detail = reason, detail


def parse_frame(data: bytes, path: Path) -> np.ndarray:
    """(17, 3) float32 x, y, confidence of one frame file's bytes.

    Raises :class:`FrameError` for a file that is empty, not UTF-8, has several lines, the wrong
    number of values, a non-numeric or non-finite value, and :class:`DataError` (fails the whole
    conversion) when the value count is that of another keypoint layout (2 + 3 x V with V != 17).
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise FrameError("file is not UTF-8 text", f"byte {e.start}") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise FrameError("empty file")
    if len(lines) > 1:
        raise FrameError("several lines (one pose per file expected)", f"{len(lines)} lines")
    cells = lines[0].strip().rstrip(",").split(",")
    if len(cells) != NUM_VALUES:
        joints, extra = divmod(len(cells) - LEADING, 3)
        if extra == 0 and joints > 1:
            raise DataError(
                f"{path}: {len(cells)} values = {LEADING} + 3 x {joints} joints, expected {NUM_VALUES} = {LEADING} + 3 x "
                f"{NUM_JOINTS} (COCO-17): the tree is in another keypoint layout"
            )
        raise FrameError("wrong number of values", f"{len(cells)} values, expected {NUM_VALUES}")
    try:
        values = np.array([float(c) for c in cells], dtype=np.float64)
    except ValueError:
        bad = next(i for i, c in enumerate(cells) if not _is_number(c))
        raise FrameError("non-numeric value", f"value {bad + 1}: {cells[bad].strip()[:20]!r}") from None
    if not np.isfinite(values).all():
        raise FrameError("NaN or infinite value", f"value {int(np.flatnonzero(~np.isfinite(values))[0]) + 1}")
    return values[LEADING:].astype(np.float32).reshape(NUM_JOINTS, 3)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass
class SequenceResult:
    """One folder read: poses (T, 17, 3), frame numbers (T,), and skips for the caller's counter."""

    poses: np.ndarray
    frames: np.ndarray
    skips: list[tuple[str, str]] = field(default_factory=list)  # (reason, where)
    clipped: list[tuple[str, int]] = field(default_factory=list)  # (file, confidences clipped into [0, 1])


def read_sequence(folder: str | os.PathLike, frame_name: re.Pattern, ignored: re.Pattern | None = None) -> SequenceResult:
    """Read every file of ``folder`` whose name matches ``frame_name`` (group 1 = frame number).

    Files matching ``ignored`` (the release's other files: silhouettes, 3-D poses) are passed over
    silently; any other file is skipped and counted. Frames are sorted by number; a repeated number
    (``f012`` and ``f12``) keeps the first name in text order and skips the other.
    """
    folder = Path(folder)
    numbered, skips = [], []
    for p in folder.iterdir():
        m = frame_name.match(p.name)
        if m and p.is_file():
            numbered.append((int(m.group(1)), p.name, p))
        elif not (ignored is not None and ignored.match(p.name)):
            skips.append(("unexpected file or folder", str(p)))
    numbered.sort()
    poses, frames, clipped = [], [], []
    last = None
    for num, _, p in numbered:
        if num == last:
            skips.append(("duplicate frame number", where(p, detail=f"frame {num}")))
            continue
        last = num
        try:
            pose = parse_frame(p.read_bytes(), p)
        except FrameError as e:
            skips.append((e.reason, where(p, detail=e.detail or None)))
            continue
        n_clipped = int(clip_confidences(pose).sum())
        if n_clipped:
            clipped.append((str(p), n_clipped))
        poses.append(pose)
        frames.append(num)
    stacked = np.stack(poses) if poses else np.zeros((0, NUM_JOINTS, 3), np.float32)
    return SequenceResult(poses=stacked, frames=np.array(frames, dtype=np.int32), skips=skips, clipped=clipped)


def read_folders(items: list, read, counter, *, workers: int | None, progress: bool):
    """Read the folder of every ``(info, folder)`` item with ``read``; count the skips.

    Returns ``(kept, poses, frames)``: the items whose folder gave at least one frame (the others are
    counted as empty sequences), and their (T, 17, 3) poses and (T,) frame numbers.
    """
    from gaitgraph.data.parallel import map_folders

    kept, poses, frames = [], [], []
    for (info, folder), res in zip(items, map_folders(read, [f for _, f in items], workers, progress, desc="read poses")):
        for reason, at in res.skips:
            counter.skip(reason, at)
        for at, n in res.clipped:
            counter.repair(CONFIDENCE_CLIPPED, n, [at])
        if len(res.frames) == 0:
            counter.skip("empty sequence (no usable frames)", str(folder))
            continue
        kept.append((info, folder))
        poses.append(res.poses)
        frames.append(res.frames)
    return kept, poses, frames


# ------------------------------------------------------------------- tree helpers of both readers


def subfolders(folder: Path, counter, count_empty: bool = True) -> list[Path]:
    """Sub-folders in name order; a folder without any is counted as empty (files beside them are ignored)."""
    subs = sorted(p for p in folder.iterdir() if p.is_dir())
    if not subs and count_empty:
        counter.skip("empty folder", str(folder))
    return subs


def running_number(subjects: np.ndarray) -> np.ndarray:
    """1, 2, ... within each run of equal subject ids (a table sorted by subject)."""
    subjects = np.asarray(subjects)
    if len(subjects) == 0:
        return np.zeros(0, np.int64)
    starts = np.r_[0, np.flatnonzero(subjects[1:] != subjects[:-1]) + 1]
    return np.arange(len(subjects)) - np.repeat(starts, np.diff(np.r_[starts, len(subjects)])) + 1


def write_converted(output_dir, poses: list, frames: list, table, meta: dict, counter, progress: bool, inputs=()):
    """Write the converted dataset (atomically; ``inputs`` may not lie inside it) and print the skip summary
    when asked or when something was skipped."""
    from gaitgraph.data.format import write_dataset  # imports torch: only when converting

    out = write_dataset(output_dir, np.concatenate(poses), np.concatenate(frames), table, meta, inputs=inputs)
    if progress or counter:
        print(counter.text("frames/sequences"), file=sys.stderr)
    return out
