"""GREW (Zhu et al., ICCV 2021): the released 2-D poses, the splits given by the folders, two protocols.

Layout (FastPoseGait ``misc/pretreatment_grew_pose.py`` lines 15-37 and 86-127; OpenGait
``datasets/GREW/rearrange_GREW_pose.py`` lines 11-63; ``docs/data.md``)::

    ROOT/train/<subject>/<video id>/NNNNN_2d_pose.txt           e.g. train/00001/4XPn5Z28/00001_2d_pose.txt
    ROOT/test/gallery/<subject>/<video id>/NNNNN_2d_pose.txt    e.g. test/gallery/00001/79XJefi8/00001_2d_pose.txt
    ROOT/test/probe/<video id>/NNNNN_2d_pose.txt                e.g. test/probe/01DdvEHX/00001_2d_pose.txt

beside silhouettes (``NNNNN.png``), 3-D poses (``NNNNN_3d_pose.txt``) and GEIs (``<video id>_gei.png``),
which are ignored, as is ``ROOT/distractor``. A frame file has the value layout of
:mod:`gaitgraph.data.pose_txt` (17 HRNet COCO-17 joints). A sequence is one video-id folder.

The release numbers its train subjects (00001-20000) and test subjects (00001-06000) separately:
train subject 1 and test subject 1 are different people. The probes' identities are withheld by the
dataset's owners: a probe is stored with subject ``format.UNKNOWN_SUBJECT`` (-1) and its video id in
``key``; the official number comes from uploading the submission file
(:mod:`gaitgraph.evaluation.grew`).

Converted: split ``train``, ``test`` (gallery and probes, ``role`` gallery / probe), and
``heldout``: training subjects the converter keeps out of training for the local protocol (their
first half of sequences ``role`` gallery, the rest probe; the ``local_heldout`` convention of
:mod:`gaitgraph.datasets.grew`). No views (view -1),
condition ``na``; sequence = running number per subject (probes: over all probes) in video-id order.
"""

from __future__ import annotations

import functools
import math
import os
import re
from pathlib import Path

import numpy as np

from gaitgraph.data.errors import DataError, MissingReleaseError, SkipCounter, where
from gaitgraph.data.pose_txt import read_folders, read_sequence, running_number, subfolders, write_converted
from gaitgraph.datasets.grew import DOWNLOAD, URL
from gaitgraph.outputs import check_folder_output

CONDITION = "na"  # the pose release labels no walking condition
NO_VIEW = -1  # GREW has no view labels
FRAME_NAME = re.compile(r"^(\d+)_2d_pose\.txt$")
IGNORED = re.compile(r"^.*(\.png|_3d_pose\.txt)$")  # silhouettes, GEIs, 3-D poses beside the 2-D poses
_SUBJECT = re.compile(r"^\d{5}$")
_VIDEO = re.compile(r"^[A-Za-z0-9_-]+$")  # video ids go into a CSV: no commas or spaces
PARTS = ("train", "test/gallery", "test/probe")
LAYOUT = ("ROOT/train/SUBJECT/VIDEO/NNNNN_2d_pose.txt, ROOT/test/gallery/SUBJECT/VIDEO/NNNNN_2d_pose.txt and "
          "ROOT/test/probe/VIDEO/NNNNN_2d_pose.txt (e.g. train/00001/4XPn5Z28/00001_2d_pose.txt)")


def licence_message(root: Path, problem: str) -> str:
    return (
        f"GREW is not at {root}: {problem}. GREW cannot be downloaded directly: apply for it on {URL} (download page "
        f"{DOWNLOAD}); unzip train.zip and test.zip with the password you receive, unpack the per-subject archives "
        f"inside, so that the frames lie at {LAYOUT}, and pass ROOT with --input; or make a synthetic tree with "
        "`gaitgraph-data synthesize grew`."
    )


def find_sequences(root: Path, counter: SkipCounter) -> list[tuple[tuple[str, int, str], Path]]:
    """``((part, subject, video id), folder)`` of every sequence folder: train, then gallery, then probes."""
    missing = [part for part in PARTS if not (root / part).is_dir()]
    if missing:
        raise MissingReleaseError(licence_message(root, ", ".join(f"{root / m}/" for m in missing) + " missing"))
    from gaitgraph.data.format import UNKNOWN_SUBJECT

    found = []
    for part in PARTS[:2]:
        for subject_dir in subfolders(root / part, counter):
            if not _SUBJECT.match(subject_dir.name):
                counter.skip("unexpected folder", where(subject_dir, detail="expected a 5-digit subject id"))
                continue
            found += [((part, int(subject_dir.name), d.name), d) for d in _videos(subject_dir, counter)]
    found += [(("test/probe", UNKNOWN_SUBJECT, d.name), d) for d in _videos(root / PARTS[2], counter)]
    seen, unique = set(), []
    for (part, subject, video), folder in found:
        if video in seen:
            counter.skip("video id seen twice (first one kept)", where(folder, detail=video))
            continue
        seen.add(video)
        unique.append(((part, subject, video), folder))
    return unique


def _videos(folder: Path, counter: SkipCounter) -> list[Path]:
    out = []
    for d in subfolders(folder, counter):
        if _VIDEO.match(d.name):
            out.append(d)
        else:
            counter.skip("unexpected folder", where(d, detail="a video id is letters, digits, _ or -"))
    return out


def heldout_subjects(subjects: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Training subjects kept for the local protocol: ``ceil(fraction x subjects)``, at least 2 (when
    ``fraction`` > 0), drawn by ``seed`` among the subjects with two or more sequences."""
    if not 0 <= fraction < 1:
        raise ValueError(f"heldout must be a fraction in [0, 1), got {fraction}")
    ids, counts = np.unique(subjects, return_counts=True)
    if fraction == 0:
        return np.zeros(0, np.int64)
    eligible = ids[counts >= 2]
    n = min(max(2, math.ceil(fraction * len(ids))), len(eligible))
    if n < 2 or n >= len(ids):
        raise DataError(f"cannot hold out {fraction:g} of {len(ids)} training subjects ({len(eligible)} have two or more "
                        "sequences; the local protocol needs 2 and training at least one other); use --heldout 0")
    return np.sort(np.random.default_rng(seed).choice(eligible, size=n, replace=False))


def convert_grew(root: str | os.PathLike, output_dir: str | os.PathLike, *, heldout: float = 0.05, heldout_seed: int = 0,
                 strict: bool = False, synthetic: bool = False, progress: bool = True, workers: int | None = None) -> Path:
    """Convert a GREW 2-D pose tree atomically; ``heldout`` of the training subjects form the local protocol."""
    from gaitgraph.data.format import sequences_frame  # imports torch: only when converting

    root = Path(root)
    check_folder_output(output_dir, inputs=[root])  # before the work
    counter = SkipCounter(strict=strict)
    items = find_sequences(root, counter)
    read = functools.partial(read_sequence, frame_name=FRAME_NAME, ignored=IGNORED)
    kept, poses, frames = read_folders(items, read, counter, workers=workers, progress=progress)
    if not kept:
        raise DataError(f"{root}: no usable sequences found. {counter.text('frames/sequences')}")
    part = np.array([info[0] for info, _ in kept])
    subject = np.array([info[1] for info, _ in kept], dtype=np.int64)
    train = part == "train"
    held = heldout_subjects(subject[train], heldout, heldout_seed) if train.any() else np.zeros(0, np.int64)
    is_held = train & np.isin(subject, held)
    sequence = np.concatenate([running_number(subject[part == p]) for p in PARTS])  # rows are grouped by part
    if sequence.max() > np.iinfo(np.int16).max:
        raise DataError(f"{root}: more than {np.iinfo(np.int16).max} sequences of one subject (or probes); the sequence "
                        "column is int16")
    role = np.where(part == "test/gallery", "gallery", np.where(part == "test/probe", "probe", "")).astype(object)
    # held-out subjects: first half of their sequences (rounded up) gallery, the rest probes
    per_subject = dict(zip(*np.unique(subject[is_held], return_counts=True)))
    half = np.array([math.ceil(per_subject.get(s, 0) / 2) for s in subject])
    role[is_held] = np.where(sequence[is_held] <= half[is_held], "gallery", "probe")
    lengths = np.array([len(f) for f in frames])
    table = sequences_frame({
        "subject": subject,
        "condition": [CONDITION] * len(kept),
        "sequence": sequence,
        "view": np.full(len(kept), NO_VIEW),
        "split": np.where(is_held, "heldout", np.where(train, "train", "test")).astype(object),
        "offset": np.cumsum(lengths) - lengths,
        "length": lengths,
        "source": [str(folder.relative_to(root)) for _, folder in kept],
        "key": [info[2] for info, _ in kept],
        "role": role,
    })
    meta = {
        "dataset": "grew",
        "skeleton": "coco17",
        "keypoints": "hrnet",
        "synthetic": bool(synthetic),
        "source": str(root),
        "split": {"train": "ROOT/train minus the held-out subjects", "test": "ROOT/test/gallery and ROOT/test/probe",
                  "heldout": f"{len(held)} training subjects kept out of training for the local protocol"},
        "heldout": {"fraction": heldout, "seed": heldout_seed, "subjects": held.tolist()},
        "roles": {"gallery": "test/gallery; held-out subjects: first half of their sequences (rounded up)",
                  "probe": "test/probe (subject withheld: -1); held-out subjects: their other sequences"},
        "columns": {"subject": "numbered per split by the release (train 1 is not test 1); -1 = withheld",
                    "view": "-1: GREW has no view labels", "condition": "na: not annotated",
                    "sequence": "running number per subject (probes: over all probes) in video-id order",
                    "key": "video id (the submission file's videoId)"},
        "stats": counter.summary(),
    }
    return write_converted(output_dir, poses, frames, table, meta, counter, progress, inputs=[root])


def check_release(root: str | os.PathLike) -> dict:
    """Check that the licensed GREW copy is in place; :class:`MissingReleaseError` says what to do."""
    root = Path(root)
    problems, counts = [], {}
    for part in PARTS:
        folder = root / part
        counts[part] = sum(1 for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else 0
        if not folder.is_dir():
            problems.append(f"{folder}/ does not exist")
        elif not counts[part]:
            problems.append(f"{folder}/ is empty")
    if problems:
        raise MissingReleaseError(licence_message(root, "; ".join(problems)))
    return {"root": str(root), "train_subjects": counts["train"], "gallery_subjects": counts["test/gallery"],
            "probes": counts["test/probe"]}
