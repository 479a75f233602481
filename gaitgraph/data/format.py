"""The converted dataset format: one directory, memory-mappable, no pickle.

::

    DIR/
      meta.json           format name + version, dataset, skeleton, keypoint source, normalization, counts
      poses.npy           float32 (F, V, 3): pixel x, y, confidence of every frame of every sequence
      frames.npy          int32 (F,): original frame number of each row of poses.npy (gaps are real)
      sequences.parquet   one row per sequence (columns: SEQUENCE_COLUMNS, then any OPTIONAL_COLUMNS)

A sequence ``i`` is ``poses[offset_i : offset_i + length_i]``. Sequences are stored contiguously in
table order. Writes are atomic: everything goes to a hidden sibling directory first, which is renamed
into place at the end, so an interrupted conversion never looks complete.

Versions: 1 = the eight ``SEQUENCE_COLUMNS``; 2 = the same plus one or more ``OPTIONAL_COLUMNS``
(Gait3D / GREW: the released sequence name and the fixed probe/gallery role). A dataset is written
as version 1 whenever it has no optional column, so CASIA-B / OUMVLP-Pose / imported datasets are
unchanged; both versions load.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

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
    """A directory that is not a converted dataset, or one of another format version."""


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
) -> Path:
    """Write a converted dataset atomically. ``meta`` needs at least ``dataset``, ``skeleton``, ``keypoints``.

    ``poses`` / ``frames`` are arrays, or the path of an existing ``.npy`` (e.g. another dataset's) that
    is checked like an array and then copied byte for byte.
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
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        for name, array in (("poses.npy", poses), ("frames.npy", frames)):
            if name in sources:
                shutil.copyfile(sources[name], tmp / name)
            else:
                np.save(tmp / name, array)
        sequences.to_parquet(tmp / "sequences.parquet", index=False)
        (tmp / "meta.json").write_text(json.dumps(full_meta, indent=2, default=_json_default) + "\n")
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def load_dataset(path: str | os.PathLike, mmap: bool = True) -> PoseDataset:
    """Open a converted dataset; ``mmap=True`` maps the arrays instead of reading them."""
    path = Path(path)
    meta_file = path / "meta.json"
    if not meta_file.is_file():
        raise DatasetFormatError(
            f"{path}: not a converted dataset (no meta.json); create one with `gaitgraph-data convert`"
        )
    meta = json.loads(meta_file.read_text())
    if meta.get("format") != FORMAT_NAME:
        raise DatasetFormatError(f"{meta_file}: format is {meta.get('format')!r}, expected {FORMAT_NAME!r}")
    if meta.get("version") not in READ_VERSIONS:
        raise DatasetFormatError(
            f"{meta_file}: format version {meta.get('version')} but this gaitgraph reads versions"
            f" {', '.join(map(str, READ_VERSIONS))}; convert the dataset again"
        )
    mode = "r" if mmap else None
    poses = np.load(path / "poses.npy", mmap_mode=mode, allow_pickle=False)
    frames = np.load(path / "frames.npy", mmap_mode=mode, allow_pickle=False)
    sequences = pd.read_parquet(path / "sequences.parquet")
    sequences = sequences.astype({**SEQUENCE_COLUMNS, **{k: v for k, v in OPTIONAL_COLUMNS.items() if k in sequences}})
    return PoseDataset(path=path, meta=meta, poses=poses, frames=frames, sequences=sequences)


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
