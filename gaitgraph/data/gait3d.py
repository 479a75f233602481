"""Gait3D (Zheng et al., CVPR 2022): the released 2-D poses, the official split, the official protocol.

Layout (FastPoseGait ``misc/pretreatment_gait3d_pose.py`` lines 13-21 and 55-68; ``docs/data.md``)::

    ROOT/2D_Poses/<subject>/camid<C>_videoid<V>/seq<N>/human_crop_f<frame>.txt
    e.g. ROOT/2D_Poses/0000/camid0_videoid2/seq0/human_crop_f11627.txt

4,000 subjects (4-digit ids), 39 cameras of a supermarket. Every file is one frame in the value
layout of :mod:`gaitgraph.data.pose_txt` (two leading numbers, then 17 HRNet COCO-17 joints x, y,
confidence, in pixels of the person crop). A sequence is one ``seq<N>`` folder.

The split is ``Gait3D.json`` of OpenGait / FastPoseGait (``datasets/Gait3D/Gait3D.json``, not part of
the release and not shipped here: those repositories carry no licence). ``TRAIN_SET`` (3,000) and
``TEST_SET`` (1,000) list subject ids; ``PROBE_SET`` lists 1,000 test sequences as
``<subject>-camid<C>_videoid<V>-seq<N>``; every other test sequence is the gallery
(OpenGait ``evaluate_Gait3D``).

Converted: view = camera id C, condition ``na`` (not annotated), sequence = running number of the
subject's sequences in (camera, video, seq) order, ``key`` = the PROBE_SET spelling, ``role`` = probe
/ gallery for test sequences.
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path

import numpy as np

from gaitgraph.data.errors import DataError, MissingReleaseError, SkipCounter, where
from gaitgraph.data.pose_txt import read_folders, read_sequence, running_number, subfolders, write_converted
from gaitgraph.datasets.gait3d import AGREEMENT, SPLIT_NAME, URL
from gaitgraph.outputs import check_folder_output

POSE_DIR = "2D_Poses"
CONDITION = "na"  # the release labels no walking condition
_SUBJECT = re.compile(r"^\d{4}$")
_VIDEO = re.compile(r"^camid(\d+)_videoid(\d+)$")
_SEQ = re.compile(r"^seq(\d+)$")
FRAME_NAME = re.compile(r"^human_crop_f(\d+)\.txt$")
_PROBE = re.compile(r"^(\d+)-camid(\d+)_videoid(\d+)-seq(\d+)$")
LAYOUT = "ROOT/2D_Poses/SUBJECT/camidC_videoidV/seqN/human_crop_fFRAME.txt (e.g. 2D_Poses/0000/camid0_videoid2/seq0/human_crop_f11627.txt)"


def licence_message(root: Path, problem: str) -> str:
    return (
        f"Gait3D is not at {root}: {problem}. Gait3D cannot be downloaded directly: sign the agreement "
        f"({AGREEMENT}) as the project page {URL} says, then unpack the 2-D poses so that the frames lie at {LAYOUT} "
        f"and put the split file {SPLIT_NAME} (datasets/Gait3D/Gait3D.json of OpenGait or FastPoseGait) at "
        f"ROOT/{SPLIT_NAME} or pass it with --split; or make a synthetic tree with `gaitgraph-data synthesize gait3d`."
    )


# ------------------------------------------------------------------------------------------ split


def read_split(path: str | os.PathLike) -> tuple[set[int], set[int], dict[tuple, str]]:
    """``(train subjects, test subjects, probes)`` of a ``Gait3D.json``; probes map a sequence id
    ``(subject, camid, videoid, seq)`` to its PROBE_SET entry. Every inconsistency fails."""
    path = Path(path)
    if not path.is_file():
        raise MissingReleaseError(
            f"{path}: split file not found. {SPLIT_NAME} (TRAIN_SET, TEST_SET, PROBE_SET) comes with OpenGait and "
            f"FastPoseGait (datasets/Gait3D/Gait3D.json); put it at ROOT/{SPLIT_NAME} or pass it with --split."
        )
    try:
        doc = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: not valid JSON ({e})") from None
    lists = {}
    for key in ("TRAIN_SET", "TEST_SET", "PROBE_SET"):
        value = doc.get(key) if isinstance(doc, dict) else None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise DataError(f"{path}: {key} must be a list of strings (the OpenGait split layout)")
        if len(set(value)) != len(value):
            raise DataError(f"{path}: {key} lists {_first_repeat(value)!r} more than once")
        lists[key] = value
    train, test = (_subject_ids(path, k, lists[k]) for k in ("TRAIN_SET", "TEST_SET"))
    both = train & test
    if both:
        raise DataError(f"{path}: {len(both)} subjects are in both TRAIN_SET and TEST_SET, e.g. {min(both):04d}")
    probes = {}
    for entry in lists["PROBE_SET"]:
        m = _PROBE.match(entry)
        if not m:
            raise DataError(f"{path}: PROBE_SET entry {entry!r} is not SUBJECT-camidC_videoidV-seqN")
        sid = tuple(map(int, m.groups()))  # (subject, camid, videoid, seq)
        if sid[0] not in test:
            raise DataError(f"{path}: PROBE_SET entry {entry!r}: subject {m.group(1)} is not in TEST_SET")
        probes[sid] = entry
    return train, test, probes


def _first_repeat(values: list[str]) -> str:
    seen = set()
    for v in values:
        if v in seen:
            return v
        seen.add(v)
    raise ValueError("no repeated value")


def _subject_ids(path: Path, key: str, values: list[str]) -> set[int]:
    bad = next((v for v in values if not re.fullmatch(r"[0-9]+", v)), None)
    if bad is not None:
        raise DataError(f"{path}: {key} entry {bad!r} is not a subject id (digits)")
    return {int(v) for v in values}


# ------------------------------------------------------------------------------------------- tree


def find_sequences(root: Path, counter: SkipCounter) -> list[tuple[tuple, Path]]:
    """``((subject, camid, videoid, seq), folder)`` of every sequence folder, in that order."""
    base = root / POSE_DIR
    if not base.is_dir():
        raise MissingReleaseError(licence_message(root, f"{base} does not exist"))
    found = []
    for subject_dir in subfolders(base, counter, count_empty=False):
        if not _SUBJECT.match(subject_dir.name):
            counter.skip("unexpected folder", where(subject_dir, detail="expected a 4-digit subject id"))
            continue
        for video_dir in subfolders(subject_dir, counter):
            video = _VIDEO.match(video_dir.name)
            if not video:
                counter.skip("unexpected folder", where(video_dir, detail="expected camidC_videoidV"))
                continue
            for seq_dir in subfolders(video_dir, counter):
                seq = _SEQ.match(seq_dir.name)
                if not seq:
                    counter.skip("unexpected folder", where(seq_dir, detail="expected seqN"))
                    continue
                sid = (int(subject_dir.name), int(video.group(1)), int(video.group(2)), int(seq.group(1)))
                found.append((sid, seq_dir))
    return sorted(found)


def convert_gait3d(root: str | os.PathLike, output_dir: str | os.PathLike, *, split: str | os.PathLike | None = None,
                   strict: bool = False, synthetic: bool = False, progress: bool = True,
                   workers: int | None = None) -> Path:
    """Convert a Gait3D 2-D pose tree and its split file (default ``ROOT/Gait3D.json``) atomically."""
    from gaitgraph.data.format import sequences_frame  # imports torch: only when converting

    root = Path(root)
    split_path = Path(split) if split is not None else root / SPLIT_NAME
    check_folder_output(output_dir, inputs=[root, split_path])  # before the work
    counter = SkipCounter(strict=strict)
    found = find_sequences(root, counter)
    train, test, probes = read_split(split_path)
    items = []
    for sid, folder in found:
        if sid[0] not in train and sid[0] not in test:
            counter.skip("subject not in the split file", where(folder, detail=f"subject {sid[0]:04d}"))
            continue
        items.append((sid, folder))
    read = functools.partial(read_sequence, frame_name=FRAME_NAME)
    kept, poses, frames = read_folders(items, read, counter, workers=workers, progress=progress)
    converted = {sid for sid, _ in kept}
    missing = [entry for sid, entry in probes.items() if sid not in converted]
    counter.add("probe sequence missing from the tree", len(missing), [where(split_path, detail=e) for e in missing[:3]])
    if not kept:
        raise DataError(f"{root / POSE_DIR}: no usable sequences found. {counter.text('frames/sequences')}")

    subjects = np.array([sid[0] for sid, _ in kept])
    lengths = np.array([len(f) for f in frames])
    is_test = np.isin(subjects, list(test))
    table = sequences_frame({
        "subject": subjects,
        "condition": [CONDITION] * len(kept),
        "sequence": running_number(subjects),
        "view": [sid[1] for sid, _ in kept],  # camera id
        "split": np.where(is_test, "test", "train").astype(object),
        "offset": np.cumsum(lengths) - lengths,
        "length": lengths,
        "source": [str(folder.relative_to(root)) for _, folder in kept],
        "key": [f"{f.parent.parent.name}-{f.parent.name}-{f.name}" for _, f in kept],
        "role": [("probe" if sid in probes else "gallery") if t else "" for (sid, _), t in zip(kept, is_test)],
    })
    meta = {
        "dataset": "gait3d",
        "skeleton": "coco17",
        "keypoints": "hrnet",
        "synthetic": bool(synthetic),
        "source": str(root / POSE_DIR),
        "split_file": str(split_path),
        "split": {"train": f"TRAIN_SET of {SPLIT_NAME} ({len(train)} subjects)",
                  "test": f"TEST_SET of {SPLIT_NAME} ({len(test)} subjects)"},
        "roles": {"probe": f"PROBE_SET of {SPLIT_NAME}", "gallery": "every other test sequence"},
        "columns": {"view": "camera id (camidC)", "condition": "na: not annotated",
                    "sequence": "running number of the subject's sequences in (camera, video, seq) order",
                    "key": "SUBJECT-camidC_videoidV-seqN, as in PROBE_SET"},
        "coordinates": "pixels of the person crop; the two leading numbers of every frame file are dropped",
        "stats": counter.summary(),
    }
    return write_converted(output_dir, poses, frames, table, meta, counter, progress, inputs=[root, split_path])


def check_release(root: str | os.PathLike, split: str | os.PathLike | None = None) -> dict:
    """Check that the licensed Gait3D copy is in place; :class:`MissingReleaseError` says what to do."""
    root = Path(root)
    base = root / POSE_DIR
    split_path = Path(split) if split is not None else root / SPLIT_NAME
    problems = []
    subjects = sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
    if not base.is_dir():
        problems.append(f"the pose folder {base}/ does not exist")
    elif not subjects:
        problems.append(f"{base}/ holds no subject folders")
    if not split_path.is_file():
        problems.append(f"the split file {split_path} does not exist")
    if problems:
        raise MissingReleaseError(licence_message(root, "; ".join(problems)))
    return {"root": str(root), "split": str(split_path), "subjects": len(subjects)}
