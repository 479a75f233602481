"""Reader for OUMVLP-Pose: per-frame OpenPose-style JSON files plus the subject split ``ID_list.csv``.

Layout (``gaitgraph2.md`` §2.3)::

    ROOT/{openpose|alphapose}/{subject:05d}/{view:03d}_{seq:02d}/*.json   e.g. alphapose/00001/000_00/0021_keypoint.json

Each file is ``{"people": [{"pose_keypoints_2d": [x, y, c] * 18, ...}, ...]}`` in the 18-joint
OpenPose-COCO order (both releases). Views are 0-90 and 180-270 in steps of 15, sequences 00 and 01,
the condition is always ``nm``.

Several people in a frame (``person``): the original takes ``people[0]`` (``person="first"``
restores that), which makes skeletons jump between people. By default (``"track"``) the person
continuing the track is chosen: the one whose body centre (mean of the visible joints) moved least
relative to the body size, and whose size changed least, compared with the last chosen pose. Before
the first choice the track is anchored on the first frame that has exactly one person; a sequence
without any such frame starts with the most confident person (sum of joint confidences).
``meta["stats"]`` records how many frames needed a choice.

This module imports no torch at module level so that worker processes start quickly.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import sys
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from gaitgraph.data.errors import (CONFIDENCE_CLIPPED, DataError, MissingReleaseError, SkipCounter, clip_confidences,
                                   where)
from gaitgraph.data.parallel import map_folders
from gaitgraph.datasets.oumvlp_pose import PERSON_CHOICES, SEQUENCES, SPEC, URL, VIEWS
from gaitgraph.outputs import check_folder_output

KEYPOINT_SOURCES = SPEC.keypoints
NUM_JOINTS = 18
PERSON_SELECTION = {
    "track": "track continuity (centre displacement / body size + |log size ratio|), anchored on the first single-person frame",
    "first": "people[0] of every frame (the original GaitGraph2 reader)",
}
_SEQ_DIR = re.compile(r"^(\d{3})_(\d{2})$")
_SUBJECT_DIR = re.compile(r"^\d{5}$")

# Notes (counted, never errors): they describe the published data, not damage to it.
NO_PEOPLE = "frames with no people"
SEVERAL_PEOPLE = "frames with several people (person chosen by track)"
NOT_FIRST = "chosen person is not people[0]"


def licence_message(what: Path, keypoints: str | None = None) -> str:
    sub = keypoints or "{openpose|alphapose}"
    return (
        f"{what}: not found. OUMVLP-Pose cannot be downloaded directly: apply for a licence on the OU-ISIR page "
        f"{URL}, then unpack the keypoints so that the frames lie in ROOT/{sub}/SUBJECT/VIEW_SEQ/*.json "
        f"(e.g. ROOT/{sub}/00001/000_00/0021_keypoint.json) and pass ROOT with --input; "
        "or make a synthetic tree with `gaitgraph-data synthesize oumvlp-pose`."
    )


def id_list_message(path: Path, problem: str) -> str:
    return (
        f"{path}: {problem}. ID_list.csv (the train/test subject split) is a separate download from the OU-ISIR "
        f"OUMVLP-Pose page {URL}; put it next to the keypoint folders (e.g. ROOT/ID_list.csv) and pass it "
        "with --id-list."
    )


# ---------------------------------------------------------------------------------- ID_list.csv


def read_id_list(path: str | os.PathLike) -> tuple[set[int], set[int]]:
    """Read the train and test subject ids: exactly two columns after the preamble (blank cells allowed).

    The preamble (the official file has 5 lines, then a header row) is every line before the first
    one whose first two cells are integers or blank (with at least one integer). After it, a cell
    that is neither, a non-blank third column, a file with one column only, an empty train or test
    list, or a subject in both lists is an error naming the line.
    """
    path = Path(path)
    if path.is_dir() or not path.exists():
        raise FileNotFoundError(id_list_message(path, "a folder, not the file" if path.is_dir() else "file not found"))
    train: set[int] = set()
    test: set[int] = set()
    started = False
    lines = path.read_text(encoding="utf-8-sig", errors="replace").splitlines()
    for lineno, row in enumerate(csv.reader(lines), start=1):
        cells = [c.strip() for c in (row + ["", ""])[:2]]
        ints = [_int_or_none(c) for c in cells]
        numeric = all(c == "" or i is not None for c, i in zip(cells, ints)) and any(i is not None for i in ints)
        if not started:
            started = numeric  # everything before the first row of ids is preamble
            if not started:
                continue
        elif not numeric:
            if not any(c.strip() for c in row):
                continue  # blank line
            raise DataError(id_list_message(path, f"line {lineno}: expected two integer columns (train, test), got {row[:2]}"))
        extra = [c for c in row[2:] if c.strip()]
        if extra:
            raise DataError(id_list_message(path, f"line {lineno}: {len(row)} columns, expected exactly two (train ids, "
                                                  f"test ids); the third holds {extra[0].strip()!r}"))
        if ints[0] is not None:
            train.add(ints[0])
        if ints[1] is not None:
            test.add(ints[1])
    if not started:
        raise DataError(id_list_message(path, "no rows of subject ids found (expected two integer columns: train, test)"))
    for name, ids in (("train", train), ("test", test)):
        if not ids:
            raise DataError(id_list_message(path, f"no {name} subject ids (expected two columns: train ids, test ids; "
                                                  f"the {name} column is {'missing' if name == 'test' else 'empty'})"))
    both = train & test
    if both:
        raise DataError(id_list_message(path, f"{len(both)} subjects are in both train and test, e.g. {min(both)}"))
    return train, test


def _int_or_none(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        try:
            x = float(text)  # "12.0" as written by some spreadsheet exports
        except ValueError:
            return None
        return int(x) if x.is_integer() else None


# ------------------------------------------------------------------------------------ one frame


def frame_number(name: str) -> int:
    """Frame number from a file name, as the original reader does (``gaitgraph2.md`` §2.3).

    ``0021_keypoint.json`` -> 21 (first ``_`` token has no ``-``); otherwise the last ``-`` piece of
    the last ``_`` token without ``.json`` (``00001-000_00-0021.json`` -> 21). ``ValueError`` if neither.
    """
    tokens = name.split("_")
    if "-" not in tokens[0]:
        return int(tokens[0].removesuffix(".json"))
    return int(tokens[-1].removesuffix(".json").split("-")[-1])


def read_frame(path: Path) -> np.ndarray:
    """All people of one JSON frame as (P, 18, 3) float32 (P may be 0).

    Raises ``_FrameError(reason, detail)`` for an unreadable/invalid file or a person with invalid
    values, and ``DataError`` for a wrong number of values (another keypoint format: fails at once).
    """
    try:
        doc = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise _FrameError("invalid or truncated JSON", f"{e.msg if hasattr(e, 'msg') else e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("people"), list):
        raise _FrameError("invalid or truncated JSON", 'no "people" list')
    people = []
    for k, person in enumerate(doc["people"]):
        # "pose_keypoints" is the key of OpenPose's JSON before version 1.2
        values = person.get("pose_keypoints_2d", person.get("pose_keypoints")) if isinstance(person, dict) else None
        if not isinstance(values, list):
            raise _FrameError("invalid or truncated JSON", f'person {k} has no "pose_keypoints_2d" list')
        if len(values) != NUM_JOINTS * 3:
            hint = " (75 values = OpenPose BODY_25, not the 18-joint COCO model)" if len(values) == 75 else ""
            raise DataError(f"{path}: person {k} has {len(values)} keypoint values, expected {NUM_JOINTS * 3} = {NUM_JOINTS} joints x 3{hint}")
        try:
            pose = np.array(values, dtype=np.float32).reshape(NUM_JOINTS, 3)
        except (TypeError, ValueError):
            raise _FrameError("person with non-numeric values", f"person {k}") from None
        if not np.isfinite(pose).all():
            raise _FrameError("person with NaN or infinite values", f"person {k}")
        people.append(pose)
    return np.stack(people) if people else np.zeros((0, NUM_JOINTS, 3), np.float32)


class _FrameError(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(reason)
        self.reason, self.detail = reason, detail


# ------------------------------------------------------------------------------ person choice


def _visible(pose: np.ndarray) -> np.ndarray:
    """Joints that were detected: OpenPose writes (0, 0, 0) for the others."""
    return (pose[:, 2] > 0) & ((pose[:, 0] != 0) | (pose[:, 1] != 0))


def body_centre_scale(pose: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Mean of the visible joints and the larger side of their bounding box (None if nothing visible)."""
    vis = _visible(pose)
    if not vis.any():
        return None
    xy = pose[vis, :2]
    extent = xy.max(axis=0) - xy.min(axis=0)
    return xy.mean(axis=0), max(float(extent.max()), 1.0)


def choose_person(people: np.ndarray, previous: np.ndarray | None) -> int:
    """Index of the person continuing the track of ``previous`` (or the most confident one)."""
    if len(people) == 1:
        return 0
    ref = body_centre_scale(previous) if previous is not None else None
    if ref is None:
        return int(np.argmax(people[:, :, 2].sum(axis=1)))
    (c0, s0), costs = ref, []
    for pose in people:
        cs = body_centre_scale(pose)
        if cs is None:
            costs.append(math.inf)
            continue
        c, s = cs
        # displacement in body sizes + relative change of size (log ratio: symmetric)
        costs.append(float(np.linalg.norm(c - c0)) / s0 + abs(math.log(s / s0)))
    return int(np.argmin(costs))


# ---------------------------------------------------------------------------------- one sequence


@dataclass
class SequenceResult:
    """One sequence folder read: chosen poses, frame numbers, and events for the SkipCounter."""

    poses: np.ndarray  # float32 (T, 18, 3)
    frames: np.ndarray  # int32 (T,)
    skips: list[tuple[str, str]] = field(default_factory=list)  # (reason, where)
    notes: dict[str, int] = field(default_factory=dict)  # counted, not errors
    clipped: list[tuple[str, int]] = field(default_factory=list)  # (file, confidences clipped into [0, 1])


def read_sequence(folder: str | os.PathLike, person: str = "track") -> SequenceResult:
    """Read every ``*.json`` frame of one ``VVV_SS`` folder, sorted by frame number, one person each
    (``person``: ``track`` = ours, ``first`` = the original's ``people[0]``)."""
    folder = Path(folder)
    skips: list[tuple[str, str]] = []
    clipped: list[tuple[str, int]] = []  # (file, confidences clipped into [0, 1])
    notes = {NO_PEOPLE: 0, SEVERAL_PEOPLE: 0, NOT_FIRST: 0}
    numbered = []
    for p in folder.iterdir():
        if p.suffix != ".json":
            continue
        try:
            numbered.append((frame_number(p.name), p.name, p))
        except ValueError:
            skips.append(("file name without a frame number", str(p)))
    numbered.sort()
    frames, candidates = [], []
    last = None
    for num, _, p in numbered:
        if num == last:
            skips.append(("duplicate frame number", where(p, detail=f"frame {num}")))
            continue
        try:
            people = read_frame(p)
        except _FrameError as e:
            skips.append((e.reason, where(p, detail=e.detail)))
            continue
        n_clipped = int(clip_confidences(people).sum())
        if n_clipped:
            clipped.append((str(p), n_clipped))
        last = num
        if len(people) == 0:
            notes[NO_PEOPLE] += 1
            continue
        frames.append(num)
        candidates.append(people)

    # Person choice: anchor on the first single-person frame, then follow the track.
    previous = next((c[0] for c in candidates if len(c) == 1), None)
    chosen = []
    for people in candidates:
        k = choose_person(people, previous) if person == "track" else 0
        if len(people) > 1:
            notes[SEVERAL_PEOPLE] += 1
            notes[NOT_FIRST] += k != 0
        if _visible(people[k]).any():  # a pose with nothing visible cannot anchor the track
            previous = people[k]
        chosen.append(people[k])
    poses = np.stack(chosen) if chosen else np.zeros((0, NUM_JOINTS, 3), np.float32)
    return SequenceResult(poses=poses, frames=np.array(frames, dtype=np.int32), skips=skips, notes=notes, clipped=clipped)


# -------------------------------------------------------------------------------------- the tree


def find_sequences(root: Path, keypoints: str, counter: SkipCounter) -> list[tuple[int, int, int, Path]]:
    """(subject, view, sequence, folder) of every sequence folder, sorted; odd folders are counted."""
    base = root / keypoints
    if not root.is_dir():
        raise FileNotFoundError(licence_message(root, keypoints))
    if not base.is_dir():
        raise FileNotFoundError(licence_message(base, keypoints))
    found = []
    for subject_dir in sorted(base.iterdir()):
        if not subject_dir.is_dir():
            continue
        if not _SUBJECT_DIR.match(subject_dir.name):
            counter.skip("unexpected folder", where(subject_dir, detail="expected a 5-digit subject id"))
            continue
        for seq_dir in sorted(subject_dir.iterdir()):
            if not seq_dir.is_dir():
                continue
            m = _SEQ_DIR.match(seq_dir.name)
            if not m:
                counter.skip("unexpected folder", where(seq_dir, detail="expected VIEW_SEQ, e.g. 000_00"))
                continue
            view, seq = int(m.group(1)), int(m.group(2))
            if view not in VIEWS or seq not in SEQUENCES:
                counter.skip("unknown view or sequence number", where(seq_dir, detail=f"view {view}, sequence {seq}"))
                continue
            found.append((int(subject_dir.name), view, seq, seq_dir))
    return found


def convert_oumvlp(
    root: str | os.PathLike,
    keypoints: str,
    id_list: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    strict: bool = False,
    synthetic: bool = False,
    progress: bool = True,
    workers: int | None = None,
    person: str = "track",
) -> Path:
    """Convert an OUMVLP-Pose keypoint tree to a converted dataset at ``output_dir`` (atomically).

    ``workers`` processes parse the JSON files (default: CPU count, at most 8); trees with fewer
    than ``parallel.POOL_MIN_SEQUENCES`` sequence folders and ``workers=1`` are read in this process.
    ``person``: who is read from a frame with several people, ``track`` (ours) or ``first`` (the original).
    """
    from gaitgraph.data.format import sequences_frame, write_dataset

    if keypoints not in KEYPOINT_SOURCES:
        raise ValueError(f"keypoints must be one of {', '.join(KEYPOINT_SOURCES)}, got {keypoints!r}")
    if person not in PERSON_CHOICES:
        raise ValueError(f"person must be one of {', '.join(PERSON_CHOICES)}, got {person!r}")
    root = Path(root)
    check_folder_output(output_dir, inputs=[root, id_list])  # before the work
    counter = SkipCounter(strict=strict)
    sequences = find_sequences(root, keypoints, counter)
    train, test = read_id_list(id_list)

    rows, poses, frames = [], [], []
    notes = {NO_PEOPLE: 0, SEVERAL_PEOPLE: 0, NOT_FIRST: 0}
    offset = 0
    results = map_folders(partial(read_sequence, person=person), [s[3] for s in sequences], workers, progress, desc="read JSON")
    for (subject, view, seq, folder), res in zip(sequences, results):
        for reason, at in res.skips:
            counter.skip(reason, at)
        for at, n in res.clipped:
            counter.repair(CONFIDENCE_CLIPPED, n, [at])
        for k, v in res.notes.items():
            notes[k] += v
        if subject in train:
            split = "train"
        elif subject in test:
            split = "test"
        else:
            counter.skip("subject not in ID_list.csv", where(folder, detail=f"subject {subject}"))
            continue
        if len(res.frames) == 0:
            counter.skip("empty sequence (no usable frames)", str(folder))
            continue
        rows.append((subject, "nm", seq, view, split, offset, len(res.frames), f"{keypoints}/{folder.parent.name}/{folder.name}"))
        poses.append(res.poses)
        frames.append(res.frames)
        offset += len(res.frames)
    for k, v in notes.items():
        counter.fix(k, v)
    if not rows:
        raise DataError(f"{root / keypoints}: no usable sequences found. {counter.text('sequences/frames')}")
    table = sequences_frame(dict(zip(("subject", "condition", "sequence", "view", "split", "offset", "length", "source"), map(list, zip(*rows)))))
    meta = {
        "dataset": "oumvlp-pose",
        "skeleton": "openpose18",
        "keypoints": keypoints,
        "synthetic": bool(synthetic),
        "source": str(root / keypoints),
        "id_list": str(id_list),
        "person_selection": PERSON_SELECTION[person],
        "stats": counter.summary(),
    }
    out = write_dataset(output_dir, np.concatenate(poses), np.concatenate(frames), table, meta, inputs=[root, id_list])
    if progress or counter:
        print(counter.text("frames/sequences"), file=sys.stderr)
    return out


def check_release(root: str | os.PathLike, id_list: str | os.PathLike, keypoints: str) -> dict:
    """Check the licensed OUMVLP-Pose copy: ``root/<keypoints>/<subject>/<view>_<seq>/*.json`` and
    ``id_list``. Return a small summary; raise :class:`MissingReleaseError` saying what to do."""
    root, id_list = Path(root), Path(id_list)
    tree = root / keypoints
    problems = []
    if not tree.is_dir():
        problems.append(f"the {keypoints} pose folder {tree}/ does not exist")
        subjects = []
    else:
        subjects = sorted(p.name for p in tree.iterdir() if p.is_dir())
        if not subjects:
            problems.append(f"{tree}/ holds no subject folders")
    if not id_list.is_file():
        problems.append(f"the subject split {id_list} does not exist")
    if problems:
        raise MissingReleaseError(
            "OUMVLP-Pose is not where the config says: " + "; ".join(problems) + ". "
            "OUMVLP-Pose cannot be downloaded automatically: its licence requires an application to "
            f"Osaka University at {URL} . Once you have it, put the files here (or point the workflow config's "
            "datasets/oumvlp-pose/local/path and local/id_list at your copy): "
            f"{root}/openpose/<subject>/<view>_<seq>/*.json (OpenPose keypoints), "
            f"{root}/alphapose/<subject>/<view>_<seq>/*.json (AlphaPose keypoints), "
            f"{id_list} (subject split, from the same site). "
            "Or run on the synthetic stand-in: datasets/oumvlp-pose/source: synthetic."
        )
    return {"root": str(root), "keypoints": keypoints, "id_list": str(id_list), "subjects": len(subjects)}
