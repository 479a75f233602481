"""The CASIA-B pose file ``casia-b_pose_coco.csv`` (GaitGraph v0.1 release, HRNet, COCO-17): its layout and
the precise row parser.

The file has a header ``image_name`` + 51 columns ``{kp}_x,{kp}_y,{kp}_conf`` and one row per frame;
``image_name`` is ``./SSS-CC-NN-VVV/FFFFFF.jpg`` (subject, condition nm/bg/cl, sequence, view,
1-based frame number). The parsers turn the file into valid rows (``CasiaRows``, file order);
:mod:`gaitgraph.data.casia_b` groups them into sequences and writes the converted dataset.

Two parsers give the same rows:

* a precise one, here (``csv`` module, one row at a time), so every skip names its line; used when
  pyarrow cannot read the file cleanly (non-numeric or empty cells, ``nan``, more than 1000 rows with
  the wrong number of values);
* a fast one (:mod:`gaitgraph.data.casia_b_csv_fast`: pyarrow's multi-threaded CSV reader, names decoded
  with a vectorised check of the fixed 26-byte layout); rows whose name fails the fast check go through
  :func:`parse_name`, so unusual but valid names still work and bad ones get exact messages.

``gaitgraph.data.casia_b.read_rows`` tries the fast one and falls back to the precise one. See
``docs/data.md`` for which problems are skipped and counted and which fail.
"""

from __future__ import annotations

import csv
import math
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gaitgraph.data.errors import DataError, SkipCounter, where
from gaitgraph.datasets.casia_b import CSV_NAME
from gaitgraph.skeleton import COCO17

COLUMNS: tuple[str, ...] = ("image_name",) + tuple(f"{j}_{c}" for j in COCO17.joints for c in ("x", "y", "conf"))
NUM_VALUES = len(COLUMNS)  # 52 = name + 17 * 3

# Conditions in alphabetical order, so that a file sorted by image name (as `find | sort` gives it,
# and as the released file is) is already in table order and needs no reordering.
CONDITIONS: tuple[str, ...] = ("bg", "cl", "nm")
_CONDITION_CODE = {c: i for i, c in enumerate(CONDITIONS)}

# The precise per-row parser: any number of digits, any lowercase condition letters.
_NAME_RE = re.compile(r"^\./(\d+)-([A-Za-z]+)-(\d+)-(\d+)/(\d+)\.jpg$")


@dataclass
class CasiaRows:
    """Valid rows of the CSV in file order (N rows). ``condition`` holds indices into CONDITIONS."""

    subject: np.ndarray  # int32 (N,)
    condition: np.ndarray  # int8 (N,)
    sequence: np.ndarray  # int16 (N,)
    view: np.ndarray  # int16 (N,)
    frame: np.ndarray  # int32 (N,) 1-based frame number from the file name
    line: np.ndarray  # int64 (N,) line number in the file (header = line 1)
    poses: np.ndarray  # float32 (N, 17, 3)
    # (subject, condition, sequence, view) of rows skipped for bad values, to spot sequences left empty
    dropped: set[tuple[int, int, int, int]] = frozenset()


def check_header(path: Path) -> None:
    """Fail unless the first line is the expected header (empty file, data first, other columns)."""
    with open(path, "rb") as f:
        first = f.readline()
    if not first.strip():
        raise DataError(f"{where(path, 1)}: empty file (expected the header line of {CSV_NAME})")
    text = first.decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r\n")
    names = [c.strip().strip('"') for c in text.split(",")]
    if tuple(names) == COLUMNS:
        return
    if names and names[0].startswith("./"):
        raise DataError(f"{where(path, 1)}: missing header: the first line is data ({names[0]!r}); expected {COLUMNS[0]},{COLUMNS[1]},...")
    if len(names) != NUM_VALUES:
        raise DataError(f"{where(path, 1)}: wrong header: {len(names)} columns, expected {NUM_VALUES} ({COLUMNS[0]},{COLUMNS[1]},...,{COLUMNS[-1]})")
    bad = next(i for i, (a, b) in enumerate(zip(names, COLUMNS)) if a != b)
    raise DataError(f"{where(path, 1)}: wrong header: column {bad + 1} is {names[bad]!r}, expected {COLUMNS[bad]!r}")


def parse_name(name: str) -> tuple[int, int, int, int, int]:
    """``./001-bg-01-000/000001.jpg`` -> (subject, condition index, sequence, view, frame).

    Raises ``ValueError`` with a reason ("malformed image_name" / "unknown condition code").
    """
    m = _NAME_RE.match(name)
    if not m:
        raise ValueError("malformed image_name")
    subject, cond, seq, view, frame = m.groups()
    if cond not in _CONDITION_CODE:
        raise ValueError("unknown condition code")
    values = int(subject), _CONDITION_CODE[cond], int(seq), int(view), int(frame)
    if values[0] > 99_999 or values[2] > 99 or values[3] > 999 or values[4] > 9_999_999:
        raise ValueError("malformed image_name")  # out of the ranges the integer sort key can hold
    return values


# --------------------------------------------------------------------------------------- precise


def read_rows_precise(path: str | os.PathLike, counter: SkipCounter, progress: bool = False) -> CasiaRows:
    """Parse the CSV one row at a time with the ``csv`` module; every skip names its line."""
    path = Path(path)
    check_header(path)
    keys, lines, values, dropped = [], [], [], set()
    size = path.stat().st_size
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as f, progress_bar(size, progress, "parse (precise)") as bar:
        reader = csv.reader(f)
        next(reader)  # header, checked above
        done = 0
        for row in reader:
            lineno = reader.line_num
            if progress and lineno % 20_000 == 0:
                pos = f.buffer.tell()  # bytes read so far (approximate: csv reads ahead)
                bar.update(pos - done)
                done = pos
            if not row or row == [""]:
                counter.skip("blank line", where(path, lineno))
                continue
            if len(row) != NUM_VALUES:
                counter.skip("wrong number of values", where(path, lineno, f"{len(row)} values, expected {NUM_VALUES}"))
                continue
            try:
                key = parse_name(row[0])
            except ValueError as e:
                counter.skip(str(e), where(path, lineno, repr(row[0])))
                continue
            try:
                v = [float(x) for x in row[1:]]
            except ValueError:
                bad = next(i for i, x in enumerate(row[1:], 1) if not _is_float(x))
                counter.skip("non-numeric value", where(path, lineno, f"{COLUMNS[bad]} = {row[bad]!r}"))
                dropped.add(key[:4])
                continue
            if not all(map(math.isfinite, v)):
                bad = next(i for i, x in enumerate(v, 1) if not math.isfinite(x))
                counter.skip("NaN or infinite value", where(path, lineno, f"{COLUMNS[bad]} = {row[bad]!r}"))
                dropped.add(key[:4])
                continue
            keys.append(key)
            lines.append(lineno)
            values.append(v)
        bar.update(size - done)
    k = np.array(keys, dtype=np.int64).reshape(-1, 5)
    return CasiaRows(
        subject=k[:, 0].astype(np.int32),
        condition=k[:, 1].astype(np.int8),
        sequence=k[:, 2].astype(np.int16),
        view=k[:, 3].astype(np.int16),
        frame=k[:, 4].astype(np.int32),
        line=np.array(lines, dtype=np.int64),
        poses=np.array(values, dtype=np.float32).reshape(-1, 17, 3),
        dropped=dropped,
    )


def _is_float(x: str) -> bool:
    try:
        float(x)
        return True
    except ValueError:
        return False


def progress_bar(total: int, progress: bool, desc: str, unit: str = "B"):
    """A tqdm bar on stderr, disabled when asked or when stderr is not a terminal."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=True,
        file=sys.stderr,
        disable=not progress or not sys.stderr.isatty(),
        leave=False,
    )
