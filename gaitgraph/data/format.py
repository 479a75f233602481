"""The converted dataset format: one directory, memory-mappable, no pickle.

::

    DIR/
      meta.json           format name + version, dataset, skeleton, keypoint source, normalization, counts
      poses.npy           float32 (F, V, 3): pixel x, y, confidence of every frame of every sequence
      frames.npy          int32 (F,): original frame number of each row of poses.npy (gaps are real)
      sequences.parquet   one row per sequence (columns: SEQUENCE_COLUMNS, then any OPTIONAL_COLUMNS)

A sequence ``i`` is ``poses[offset_i : offset_i + length_i]``. Sequences are stored contiguously in
table order. Writes go through :func:`gaitgraph.outputs.folder_output`: a hidden sibling folder is
swapped into place at the end, so an interrupted conversion never looks complete, and an existing
``DIR`` is replaced only when gaitgraph wrote it. :func:`load_dataset` checks every file against
``meta.json`` and raises :class:`DatasetFormatError` naming the file for a truncated or foreign one.

Versions: 1 = the eight ``SEQUENCE_COLUMNS``; 2 = the same plus one or more ``OPTIONAL_COLUMNS``
(Gait3D / GREW: the released sequence name and the fixed probe/gallery role). A dataset is written
as version 1 whenever it has no optional column, so CASIA-B / OUMVLP-Pose / imported datasets are
unchanged; both versions load.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gaitgraph.outputs import folder_output
from gaitgraph.skeleton import Skeleton, get_skeleton

FORMAT_NAME = "gaitgraph-poses"
FORMAT_VERSION = 2  # the newest version written and read; see READ_VERSIONS
READ_VERSIONS = (1, 2)

# name -> dtype of every column of sequences.parquet, in order
SEQUENCE_COLUMNS: dict[str, str] = {
    "subject": "int32",  # subject id as in the dataset (CASIA-B 1..124, OUMVLP 1..10307)
    "condition": "string",  # walking condition: nm / bg / cl (CASIA-B); nm for OUMVLP-Pose
    "sequence": "int16",  # sequence number (CASIA-B nm 1-6, bg/cl 1-2; OUMVLP 0/1)
    "view": "int16",  # camera angle in degrees
    "split": "string",  # train / test
    "offset": "int64",  # first row in poses.npy
    "length": "int32",  # number of frames
    "source": "string",  # where the sequence came from (file, or file + line range)
}

# Version 2: columns a dataset may add after SEQUENCE_COLUMNS (docs/data.md "Converted dataset").
OPTIONAL_COLUMNS: dict[str, str] = {
    "key": "string",  # the sequence's name in the released dataset (Gait3D SSSS-camidC_videoidV-seqN, GREW video id)
    "role": "string",  # fixed role in the dataset's protocol: probe / gallery, "" where none
}
UNKNOWN_SUBJECT = -1  # subject id of a sequence whose identity the dataset withholds (GREW test probes)


class DatasetFormatError(ValueError):
    """A directory that is not a converted dataset, one of another format version, or a damaged one."""


@dataclass
class PoseDataset:
    """A converted dataset opened for reading. ``poses``/``frames`` are memory maps by default."""

    path: Path
    meta: dict
    poses: np.ndarray
    frames: np.ndarray
    sequences: pd.DataFrame

    @property
    def skeleton(self) -> Skeleton:
        return get_skeleton(self.meta["skeleton"])

    def __len__(self) -> int:
        return len(self.sequences)

    def sequence(self, i: int) -> np.ndarray:
        """Poses of sequence ``i`` (table position), shape (T, V, 3)."""
        row = self.sequences.iloc[i]
        return self.poses[int(row.offset) : int(row.offset) + int(row.length)]

    def iter_sequences(self):
        """Yield ``(row, poses)`` for every sequence in table order."""
        offsets = self.sequences["offset"].to_numpy()
        lengths = self.sequences["length"].to_numpy()
        for row, o, n in zip(self.sequences.itertuples(index=False), offsets, lengths):
            yield row, self.poses[o : o + n]


def sequences_frame(rows: dict[str, np.ndarray | list]) -> pd.DataFrame:
    """Build a sequence table with the canonical column order and dtypes."""
    missing = set(SEQUENCE_COLUMNS) - set(rows)
    if missing:
        raise ValueError(f"sequence table lacks columns: {', '.join(sorted(missing))}")
    dtypes = {**SEQUENCE_COLUMNS, **{k: v for k, v in OPTIONAL_COLUMNS.items() if k in rows}}
    df = pd.DataFrame({k: rows[k] for k in dtypes})
    return df.astype(dtypes)


def write_dataset(
    path: str | os.PathLike,
    poses: np.ndarray | os.PathLike,
    frames: np.ndarray | os.PathLike,
    sequences: pd.DataFrame,
    meta: dict,
    *,
    kind: str = "converted dataset",
    inputs: Iterable[str | os.PathLike] = (),
) -> Path:
    """Write a converted dataset atomically. ``meta`` needs at least ``dataset``, ``skeleton``, ``keypoints``.

    ``poses`` / ``frames`` are arrays, or the path of an existing ``.npy`` (e.g. another dataset's) that
    is checked like an array and then copied byte for byte.
    ``kind`` is recorded in the output marker; ``inputs`` (the files/folders read) may not lie inside
    ``path``. An existing ``path`` is replaced only if gaitgraph wrote it (:mod:`gaitgraph.outputs`).
    """
    path = Path(path)
    sources = {name: Path(a) for name, a in (("poses.npy", poses), ("frames.npy", frames)) if isinstance(a, (str, os.PathLike))}
    if "poses.npy" in sources:
        poses = np.load(sources["poses.npy"], mmap_mode="r", allow_pickle=False)
    if "frames.npy" in sources:
        frames = np.load(sources["frames.npy"], mmap_mode="r", allow_pickle=False)
    for name, a, dtype in (("poses.npy", poses, np.float32), ("frames.npy", frames, np.int32)):
        if name in sources and (a.dtype != dtype or not a.flags.c_contiguous):
            raise ValueError(f"{sources[name]}: expected a C-ordered {np.dtype(dtype).name} array, got {a.dtype}")
    poses = np.ascontiguousarray(poses, dtype=np.float32)
    frames = np.ascontiguousarray(frames, dtype=np.int32)
    sequences = sequences_frame({c: sequences[c].to_numpy() for c in (*SEQUENCE_COLUMNS, *OPTIONAL_COLUMNS)
                                 if c in sequences})
    skeleton = get_skeleton(meta["skeleton"])
    if poses.ndim != 3 or poses.shape[1:] != (skeleton.num_joints, 3):
        raise ValueError(f"poses must be (F, {skeleton.num_joints}, 3) for {skeleton.name}, got {poses.shape}")
    if len(frames) != len(poses):
        raise ValueError(f"frames has {len(frames)} rows, poses {len(poses)}")
    ends = sequences["offset"].to_numpy() + sequences["length"].to_numpy()
    if len(sequences) and (ends.max() > len(poses) or (sequences["length"] <= 0).any()):
        raise ValueError("sequence table points outside poses.npy or has empty sequences")

    full_meta = {
        "format": FORMAT_NAME,
        "version": 2 if set(OPTIONAL_COLUMNS) & set(sequences.columns) else 1,
        **meta,
        "skeleton": skeleton.name,
        "joints": list(skeleton.joints),
        "num_sequences": int(len(sequences)),
        "num_frames": int(len(poses)),
    }
    with folder_output(path, kind, inputs=inputs) as tmp:
        for name, array in (("poses.npy", poses), ("frames.npy", frames)):
            if name in sources:
                shutil.copyfile(sources[name], tmp / name)
            else:
                np.save(tmp / name, array)
        sequences.to_parquet(tmp / "sequences.parquet", index=False)
        (tmp / "meta.json").write_text(json.dumps(full_meta, indent=2, default=_json_default) + "\n")
    return path


def load_dataset(path: str | os.PathLike, mmap: bool = True) -> PoseDataset:
    """Open a converted dataset; ``mmap=True`` maps the arrays instead of reading them.

    Every file is checked against ``meta.json`` (shape, dtype, counts, offsets inside the arrays); a
    missing, truncated or foreign one is a :class:`DatasetFormatError` naming it.
    """
    path = Path(path)
    redo = "convert (or normalize/import) the dataset again"
    if not path.is_dir():
        what = "does not exist" if not path.exists() else "is a file, not a dataset folder"
        raise DatasetFormatError(f"{path} {what}; give a folder written by `gaitgraph-data convert` (or normalize/import)")
    meta = _read_meta(path / "meta.json")
    skeleton = _meta_skeleton(meta, path / "meta.json")
    mode = "r" if mmap else None
    poses = _load_array(path / "poses.npy", mode, np.float32, (skeleton.num_joints, 3), redo)
    frames = _load_array(path / "frames.npy", mode, np.int32, (), redo)
    seq_file = path / "sequences.parquet"
    try:
        sequences = pd.read_parquet(seq_file)
    except FileNotFoundError:
        raise DatasetFormatError(f"{seq_file}: missing; {redo}") from None
    except Exception as e:  # pyarrow raises several kinds for a damaged file
        raise DatasetFormatError(f"{seq_file}: not a readable Parquet table ({_first_line(e)}); {redo}") from None
    missing = [c for c in SEQUENCE_COLUMNS if c not in sequences.columns]
    if missing:
        raise DatasetFormatError(f"{seq_file}: columns {', '.join(missing)} missing; {redo}")
    dtypes = {**SEQUENCE_COLUMNS, **{c: t for c, t in OPTIONAL_COLUMNS.items() if c in sequences.columns}}
    try:
        sequences = sequences[list(dtypes)].astype(dtypes)
    except (ValueError, TypeError) as e:
        raise DatasetFormatError(f"{seq_file}: a column has values of the wrong type ({_first_line(e)}); {redo}") from None
    for name, arr, count in (("poses.npy", poses, "num_frames"), ("frames.npy", frames, "num_frames"),
                             ("sequences.parquet", sequences, "num_sequences")):
        if count in meta and len(arr) != meta[count]:
            raise DatasetFormatError(f"{path / name}: {len(arr)} rows but meta.json says {count} = {meta[count]}; {redo}")
    if len(frames) != len(poses):
        raise DatasetFormatError(f"{path / 'frames.npy'}: {len(frames)} rows but poses.npy has {len(poses)}; {redo}")
    offsets, lengths = sequences["offset"].to_numpy(), sequences["length"].to_numpy()
    bad = np.flatnonzero((offsets < 0) | (lengths <= 0) | (offsets + lengths > len(poses)))
    if len(bad):
        i = int(bad[0])
        raise DatasetFormatError(f"{seq_file}: row {i} (offset {offsets[i]}, length {lengths[i]}) points outside "
                                 f"poses.npy ({len(poses)} frames); {len(bad)} such rows; {redo}")
    return PoseDataset(path=path, meta=meta, poses=poses, frames=frames, sequences=sequences)


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:200] if text else type(e).__name__


def _read_meta(meta_file: Path) -> dict:
    if not meta_file.is_file():
        raise DatasetFormatError(
            f"{meta_file.parent}: not a converted dataset (no meta.json); create one with `gaitgraph-data convert`"
        )
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DatasetFormatError(f"{meta_file}: not valid JSON ({_first_line(e)}); convert the dataset again") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise DatasetFormatError(f"{meta_file}: format is {found!r}, expected {FORMAT_NAME!r}: not a converted dataset")
    if meta.get("version") not in READ_VERSIONS:
        raise DatasetFormatError(
            f"{meta_file}: format version {meta.get('version')} but this gaitgraph reads versions"
            f" {', '.join(map(str, READ_VERSIONS))}; convert the dataset again"
        )
    for key in ("num_frames", "num_sequences"):
        if key in meta and (not isinstance(meta[key], int) or meta[key] < 0):
            raise DatasetFormatError(f"{meta_file}: {key} is {meta[key]!r}, expected a count; convert the dataset again")
    return meta


def _meta_skeleton(meta: dict, meta_file: Path) -> Skeleton:
    try:
        return get_skeleton(meta["skeleton"])
    except (KeyError, TypeError, ValueError) as e:
        raise DatasetFormatError(f"{meta_file}: unknown or missing skeleton ({_first_line(e)}); convert the dataset again") from None


def _load_array(file: Path, mode: str | None, dtype, row_shape: tuple, redo: str) -> np.ndarray:
    """One ``.npy`` array of rows ``row_shape`` and ``dtype``, checked against its size on disk."""
    try:
        arr = np.load(file, mmap_mode=mode, allow_pickle=False)
    except FileNotFoundError:
        raise DatasetFormatError(f"{file}: missing; {redo}") from None
    except (ValueError, OSError, EOFError) as e:  # truncated header or data, pickled object, not .npy
        raise DatasetFormatError(f"{file}: not a readable .npy array ({_first_line(e)}); {redo}") from None
    if arr.dtype != dtype or arr.ndim != 1 + len(row_shape) or arr.shape[1:] != row_shape:
        want = f"({', '.join(['N', *map(str, row_shape)])})"
        raise DatasetFormatError(f"{file}: {arr.dtype} {arr.shape}, expected {np.dtype(dtype)} {want}; {redo}")
    return arr


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
