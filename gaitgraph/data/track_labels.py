"""The labels table of an import: which subject (and condition, sequence, view, split) each track is.

A CSV with ``track`` and/or ``source`` and ``subject``, optionally ``condition``, ``sequence``,
``view``, ``split`` (``docs/own-data.md``, "Labels").
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gaitgraph.data.errors import DataError, decode_reason

LABEL_COLUMNS = ("track", "source", "subject", "condition", "sequence", "view", "split")


def read_labels(path: Path) -> pd.DataFrame:
    """The sidecar labels table: ``track`` and/or ``source``, ``subject``; optional condition, sequence, view, split."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: not a readable CSV labels table ({decode_reason(e)})") from None
    table.columns = [c.strip() for c in table.columns]
    unknown = sorted(set(table.columns) - set(LABEL_COLUMNS))
    if unknown or "subject" not in table.columns or not ({"track", "source"} & set(table.columns)):
        raise DataError(f"{path}: labels table needs columns subject and track and/or source (optional: condition, "
                        f"sequence, view, split); got {', '.join(table.columns)}"
                        + (f" (unknown: {', '.join(unknown)})" if unknown else ""))
    for col in ("track", "subject", "sequence", "view"):
        if col in table.columns:
            bad = [v for v in table[col] if not (v.strip().lstrip("-").isdigit() or (v.strip() == "" and col != "subject"))]
            if bad:
                raise DataError(f"{path}: column {col} must hold whole numbers, found {bad[0]!r}")
    return table


def label_for(table: pd.DataFrame | None, track: int, source: str) -> dict | None:
    """The labels of track number ``track`` read from video ``source`` (first matching row), or None."""
    if table is None:
        return None
    hit = pd.Series(False, index=table.index)
    if "track" in table.columns:
        hit |= table["track"].str.strip() == str(track)
    if "source" in table.columns:
        src = table["source"].str.strip()
        # the video itself, or what contains it: the AlphaPose file ("file.json" for "file.json:cam1"), a folder
        hit |= (src != "") & src.map(lambda v: source == v or source.startswith((v + ":", v + "/")))
    rows = table[hit]
    if rows.empty:
        return None
    row = rows.iloc[0]
    out = {"subject": int(row["subject"])}
    for col, conv in (("condition", str), ("sequence", int), ("view", int), ("split", str)):
        if col in rows.columns and row[col].strip():
            out[col] = conv(row[col].strip())
    return out

