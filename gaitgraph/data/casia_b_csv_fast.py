"""The fast parser of the CASIA-B pose file (``gaitgraph.data.casia_b_csv`` has its layout and the precise one).

pyarrow's multi-threaded CSV reader streams record batches into one preallocated array; ``image_name`` is
decoded with a vectorised check of the fixed 26-byte layout ``./SSS-CC-NN-VVV/FFFFFF.jpg``, and names that
fail it go through the precise ``parse_name``. What only the precise parser can report line by line
(non-numeric or empty cells, ``nan``, too many rows with the wrong number of values) raises
``NeedsPrecise``; ``gaitgraph.data.casia_b.read_rows`` then parses the file again with it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from gaitgraph.data.casia_b_csv import COLUMNS, CONDITIONS, NUM_VALUES, CasiaRows, check_header, parse_name, progress_bar
from gaitgraph.data.errors import SkipCounter, where

# ./001-bg-01-000/000001.jpg: fixed layout of every name in the released file
_TEMPLATE = b"./000-xx-00-000/000000.jpg"
_NAME_WIDTH = len(_TEMPLATE)  # 26
_DIGITS = np.array([i for i, ch in enumerate(_TEMPLATE) if ch == ord("0")])
_FIXED = np.array([i for i, ch in enumerate(_TEMPLATE) if ch not in b"0x"])



class NeedsPrecise(Exception):
    """The fast parser met something only the precise parser can report line by line."""


# Rows pyarrow rejects (wrong number of values) are located in the file by their text; beyond this
# many, the precise parser is simpler and not much slower.
_MAX_LOCATED_ROWS = 1000


def read_rows_fast(path: str | os.PathLike, counter: SkipCounter, progress: bool = False) -> CasiaRows:
    """Parse the CSV with pyarrow; raises ``NeedsPrecise`` when it cannot locate a problem exactly.

    Record batches are streamed into one preallocated (N, 51) array, so the peak memory is about
    one copy of the poses (an ``np.empty`` larger than needed only touches the rows written).
    Handled here: rows with the wrong number of values (found again in the file by their text, to
    name their lines), blank lines, malformed names (per-row parser), NaN/inf values. Left to the
    precise parser: non-numeric or empty cells and ``nan`` (pyarrow fails or reads them as null).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = Path(path)
    check_header(path)
    size = path.stat().st_size
    invalid: list[tuple[str, int]] = []  # (text, number of values) of rows pyarrow skipped

    def on_invalid(row):  # the row number is unknown when multi-threaded, so keep the text
        if len(invalid) >= _MAX_LOCATED_ROWS:
            return "error"
        invalid.append((row.text, row.actual_columns))
        return "skip"

    types = {c: pa.float32() for c in COLUMNS[1:]}
    types["image_name"] = pa.string()
    # Upper bound on the row count: a valid row has a 26-byte name and 51 values of >= 1 character
    # plus their commas and a newline, 129 bytes. Blank or short rows beyond it go to the precise parser.
    capacity = size // (_NAME_WIDTH + 2 * (NUM_VALUES - 1) + 1) + 1
    poses = np.empty((capacity, NUM_VALUES - 1), dtype=np.float32)  # column j = COLUMNS[j + 1]
    keys = []  # per batch: subject, condition, sequence, view, frame, ok
    blank = []  # per batch: bool, the row is a blank line
    odd_names: dict[int, str] = {}  # row -> name, for names that fail the fast check
    n = 0
    try:
        reader = pacsv.open_csv(
            path,
            # 1 MiB blocks: as fast as larger ones here, and less memory in flight
            read_options=pacsv.ReadOptions(skip_rows=1, column_names=list(COLUMNS), block_size=1 << 20),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False),
        )
        with progress_bar(_estimate_rows(path), progress, f"read {path.name}", unit="rows") as bar:
            for batch in reader:
                m = batch.num_rows
                if n + m > capacity:
                    raise NeedsPrecise("more rows than a valid file of this size can hold")
                is_blank = _blank_rows(batch)
                for j in range(1, NUM_VALUES):
                    poses[n : n + m, j - 1] = batch.column(j).to_numpy(zero_copy_only=False)  # null -> NaN
                names = batch.column(0)  # not kept: it would keep pyarrow's buffers alive
                keys.append(_parse_names_fast(names))
                blank.append(is_blank)
                odd = np.flatnonzero(~keys[-1][-1] & ~is_blank)
                odd_names.update((n + int(i), names[int(i)].as_py()) for i in odd)
                n += m
                bar.update(m)
    except pa.ArrowInvalid as e:  # a value that is not a number, or too many rows with wrong counts
        raise NeedsPrecise(str(e)) from None
    poses = poses[:n]
    line = np.arange(2, n + 2, dtype=np.int64)  # row i is line i + 2 (header = line 1) ...
    if invalid:  # ... plus the skipped rows before it
        invalid_lines = _locate_rows(path, [text for text, _ in invalid])
        for skipped in invalid_lines:  # ascending
            line[line >= skipped] += 1
        for (_, count), at in sorted(zip(invalid, invalid_lines), key=lambda x: x[1]):
            counter.skip("wrong number of values", where(path, at, f"{count} values, expected {NUM_VALUES}"))
    if keys:
        subject, condition, sequence, view, frame, ok = (np.concatenate(a) for a in zip(*keys))
        blank = np.concatenate(blank)
    else:
        subject = condition = sequence = view = frame = np.zeros(0, np.int32)
        ok = blank = np.zeros(0, bool)
    for i in np.flatnonzero(blank):
        counter.skip("blank line", where(path, int(line[i])))

    # Rows whose name fails the fast check: precise per-row parsing (valid but unusual, or a skip).
    for i, name in sorted(odd_names.items()):
        try:
            subject[i], condition[i], sequence[i], view[i], frame[i] = parse_name(name)
            ok[i] = True
        except ValueError as e:
            counter.skip(str(e), where(path, int(line[i]), repr(name)))
    ok &= ~blank

    finite = np.ones(n, dtype=bool)
    for start in range(0, n, 1 << 16):  # in chunks: a full (N, 51) boolean temporary is 60 MB
        finite[start : start + (1 << 16)] = np.isfinite(poses[start : start + (1 << 16)]).all(axis=1)
    bad = np.flatnonzero(~finite & ok)
    if len(bad):
        first = int(bad[0])
        col = int(np.flatnonzero(~np.isfinite(poses[first]))[0]) + 1
        counter.add(
            "NaN or infinite value",
            len(bad),
            [where(path, int(line[i]), f"{COLUMNS[col]} = {poses[i, col - 1]}" if i == first else None) for i in bad[:3]],
        )
        ok &= finite
        dropped = set(zip(*(a[bad].tolist() for a in (subject, condition, sequence, view))))
    else:
        dropped = set()
    if not ok.all():
        keep = np.flatnonzero(ok)
        subject, condition, sequence, view, frame, line = (a[keep] for a in (subject, condition, sequence, view, frame, line))
        poses = poses[keep]
    return CasiaRows(
        subject=subject.astype(np.int32),
        condition=condition.astype(np.int8),
        sequence=sequence.astype(np.int16),
        view=view.astype(np.int16),
        frame=frame.astype(np.int32),
        line=line,
        poses=poses.reshape(-1, 17, 3),
        dropped=dropped,
    )


def _blank_rows(batch) -> np.ndarray:
    """Rows of a record batch that are blank lines (empty name, every value null).

    Raises ``NeedsPrecise`` for any other null: pyarrow reads "", "nan", "NA", ... as null, and only
    the precise parser can tell which it was.
    """
    m = batch.num_rows
    if not any(batch.column(j).null_count for j in range(1, NUM_VALUES)):
        return np.zeros(m, dtype=bool)
    all_null = np.ones(m, dtype=bool)
    any_null = np.zeros(m, dtype=bool)
    for j in range(1, NUM_VALUES):
        null = batch.column(j).is_null().to_numpy(zero_copy_only=False)
        all_null &= null
        any_null |= null
    is_blank = all_null & (batch.column(0).to_numpy(zero_copy_only=False) == "")
    if (any_null & ~is_blank).any():
        raise NeedsPrecise("empty or NaN cells")
    return is_blank


def _locate_rows(path: Path, texts: list[str]) -> list[int]:
    """Line numbers (ascending) of whole lines with the given texts (rows pyarrow skipped).

    Raises ``NeedsPrecise`` if a text is not found as a whole line.
    """
    import mmap
    from collections import Counter

    positions = []
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        for text, count in Counter(texts).items():
            needle, start = text.encode(), 0
            for _ in range(count):
                while True:
                    p = mm.find(needle, start)
                    if p < 0:
                        raise NeedsPrecise(f"cannot locate a skipped row: {text[:40]!r}")
                    start = p + 1
                    end = p + len(needle)
                    if (p == 0 or mm[p - 1] == ord("\n")) and (end == len(mm) or mm[end] in b"\r\n"):
                        positions.append(p)
                        break
        positions.sort()
        lines, line, pos = [], 1, 0
        for p in positions:  # count newlines up to each position, in 16 MiB slices
            while pos < p:
                stop = min(p, pos + (16 << 20))
                line += mm[pos:stop].count(b"\n")
                pos = stop
            lines.append(line)
    return lines


def _estimate_rows(path: Path) -> int:
    """Rows in the file, estimated from the length of the first data row (for the progress bar)."""
    with open(path, "rb") as f:
        f.readline()
        first = len(f.readline())
    return max(1, path.stat().st_size // max(first, 1))


def _parse_names_fast(names) -> tuple[np.ndarray, ...]:
    """Decode fixed-width names from a pyarrow StringArray without per-row Python.

    Returns subject, condition, sequence, view, frame (int32 arrays, garbage where not ok) and
    ``ok`` (bool): the name has exactly the 26-byte layout and a known condition.
    """
    n = len(names)
    _, offsets_buf, data_buf = names.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int32)[names.offset : names.offset + n + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    # Gather each row's first 26 bytes into an (N, 26) byte matrix (rows that are shorter are
    # padded from their neighbours and rejected by the length check).
    fixed_width = np.diff(offsets) == _NAME_WIDTH
    if fixed_width.all() and offsets[-1] - offsets[0] == n * _NAME_WIDTH:
        b = data[offsets[0] : offsets[-1]].reshape(n, _NAME_WIDTH)  # a view, no copy
    else:
        idx = np.minimum(offsets[:-1, None] + np.arange(_NAME_WIDTH), max(len(data) - 1, 0))
        b = data[idx] if len(data) else np.zeros((n, _NAME_WIDTH), np.uint8)
    template = np.frombuffer(_TEMPLATE, dtype=np.uint8)
    ok = fixed_width & (b[:, _FIXED] == template[_FIXED]).all(axis=1)
    d = b[:, _DIGITS].astype(np.int32) - ord("0")  # (N, 14) digits: 3 subject, 2 seq, 3 view, 6 frame
    ok &= ((d >= 0) & (d <= 9)).all(axis=1)
    # condition: two letters -> index into CONDITIONS, -1 if unknown
    pair = b[:, 6].astype(np.int32) * 256 + b[:, 7]
    condition = np.full(n, -1, dtype=np.int32)
    for code, c in enumerate(CONDITIONS):
        condition[pair == (ord(c[0]) * 256 + ord(c[1]))] = code
    ok &= condition >= 0

    def number(cols):
        return d[:, cols] @ (10 ** np.arange(len(cols) - 1, -1, -1)).astype(np.int32)

    subject = number([0, 1, 2])
    sequence = number([3, 4])
    view = number([5, 6, 7])
    frame = number([8, 9, 10, 11, 12, 13])
    return subject, condition, sequence, view, frame, ok
