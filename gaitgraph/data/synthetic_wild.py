"""Synthetic twins of Gait3D and GREW, written in the released layouts (``docs/synthetic.md``).

They go through the real readers (:mod:`gaitgraph.data.gait3d`, :mod:`gaitgraph.data.grew`):

* :func:`synthesize_gait3d` writes ``ROOT/2D_Poses/SSSS/camidC_videoidV/seqN/human_crop_fFFFFF.txt``
  and ``ROOT/Gait3D.json`` (TRAIN_SET, TEST_SET and one PROBE_SET sequence per test subject);
* :func:`synthesize_grew` writes ``ROOT/train/SSSSS/VIDEO/NNNNN_2d_pose.txt``,
  ``ROOT/test/gallery/SSSSS/VIDEO/...`` (two sequences per test subject) and ``ROOT/test/probe/VIDEO/...``,
  plus ``ROOT/SYNTHETIC_probe_subjects.csv`` (``videoId,subject``): the truth the real release withholds,
  so that a submission file can be scored (:func:`gaitgraph.evaluation.grew.score_submission`).

Every subject is a 3-D walker of :mod:`gaitgraph.data.walker` (identity: body and gait) seen by an
HRNet-like estimator (:data:`gaitgraph.data.synthetic.HRNET`, COCO-17); every sequence is its own walk
(condition nm / bg / cl drawn per walk, a random walking direction), as in a shop or a street. The
frame files hold pixels of a per-frame person crop, as the released ``human_crop`` files: two leading
integers (the twin writes the crop's width and height there; the real meaning is undocumented and the
reader drops them) and 17 x (x, y, confidence). Deterministic by ``seed``; written atomically.
"""

from __future__ import annotations

import json
import os
import string
from pathlib import Path

import numpy as np

from gaitgraph.data import walker
from gaitgraph.data.synthetic import HRNET, _bar, _inside, _simulate, detect
from gaitgraph.outputs import folder_output
from gaitgraph.skeleton import COCO17

GAIT3D_CAMERA = walker.Camera(width=1920, height=1080, focal=1100.0, distance=9.0, cam_height=1.0)
GREW_CAMERA = walker.Camera(width=1920, height=1080, focal=1300.0, distance=10.0, cam_height=1.0)
_TAG = {"gait3d": 3, "grew": 4}  # part of every random stream's key (1, 2: CASIA-B, OUMVLP-Pose)
_CONDITIONS = (("nm", 0.7), ("bg", 0.2), ("cl", 0.1))
_VIDEO_CHARS = np.array(list(string.ascii_letters + string.digits))


def _walks(rng: np.random.Generator, n: int, frames: tuple[int, int], camera: walker.Camera) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n`` walks of one subject (its own rng), each as crop-relative detections and kept frame indices."""
    names, p = zip(*_CONDITIONS)
    keys = [(str(rng.choice(names, p=p)), i, float(rng.uniform(0, 360))) for i in range(n)]
    sim = _simulate(rng, keys, camera, frames)
    det = detect(sim, COCO17, HRNET, camera, rng)  # (F, 17, 3) image pixels
    keep = _inside(sim, camera) & (rng.random(len(det)) >= 0.03)  # a few frames without a detection
    out = []
    for s in range(n):
        rows = np.flatnonzero(sim["seq"] == s)
        kept = rows[keep[rows]] if keep[rows].any() else rows[len(rows) // 2 : len(rows) // 2 + 1]
        out.append((_crop(det[kept]), sim["k"][kept]))
    return out


def _crop(det: np.ndarray) -> np.ndarray:
    """Per frame: (T, 2 + 51) = crop width, height, then x, y, conf relative to a box around the person."""
    xy = det[..., :2]
    lo, hi = xy.min(1), xy.max(1)  # (T, 2)
    margin = 0.1 * (hi - lo).max(1, keepdims=True) + 2.0
    origin = np.floor(lo - margin)
    size = np.ceil(hi + margin) - origin
    rel = np.concatenate([xy - origin[:, None], det[..., 2:]], -1).reshape(len(det), -1)
    return np.concatenate([size, rel], 1)


def _write_frames(folder: Path, names: list[str], values: np.ndarray) -> None:
    """One text file per frame: ``W,H,x1,y1,c1,...`` (8 significant digits, as the released files)."""
    folder.mkdir(parents=True)
    for name, row in zip(names, values.tolist()):
        text = "%d,%d," % (row[0], row[1]) + ",".join("%.8g" % v for v in row[2:]) + "\n"
        # os-level calls: thousands of small files, and io.open's wrappers cost more than the write
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)


# ------------------------------------------------------------------------------------------ Gait3D


def synthesize_gait3d(output: str | os.PathLike, *, subjects: int = 24, seed: int = 0, progress: bool = True,
                      frames: tuple[int, int] = (30, 60), sequences: tuple[int, int] = (3, 6)) -> Path:
    """Write a synthetic Gait3D tree and its ``Gait3D.json`` to the directory ``output``.

    ``subjects`` (2-4000) get distinct 4-digit ids drawn by ``seed``; 40 % of them (at least one) form
    the test split, each with one PROBE_SET sequence. A subject has ``sequences`` = (min, max) walks,
    each seen by one of 39 cameras in one of its videos; ``frames`` = (min, max) frames per walk.
    """
    if not 2 <= subjects <= 4000:
        raise ValueError(f"Gait3D has 4000 subjects; subjects must be in 2..4000, got {subjects}")
    root = Path(output)
    rng = np.random.default_rng([seed, _TAG["gait3d"], 0])
    ids = sorted(int(i) for i in rng.choice(4000, size=subjects, replace=False))
    test = sorted(int(i) for i in rng.choice(ids, size=max(1, round(0.4 * subjects)), replace=False))
    probes = []
    with folder_output(root, "synthetic Gait3D tree") as tmp, _bar(subjects, progress, f"synthesize {root.name}") as bar:
        for sid in ids:
            srng = np.random.default_rng([seed, _TAG["gait3d"], sid + 1])
            n = int(srng.integers(max(2, sequences[0]), sequences[1] + 1))
            names = set()
            while len(names) < n:  # distinct (camera, video, seq) per walk
                names.add((int(srng.integers(0, 39)), int(srng.integers(1, 4)), int(srng.integers(0, 2))))
            names = sorted(names)
            for (cam, video, seq), (values, k) in zip(names, _walks(srng, n, frames, GAIT3D_CAMERA)):
                start = int(srng.integers(100, 30000))
                folder = tmp / "2D_Poses" / f"{sid:04d}" / f"camid{cam}_videoid{video}" / f"seq{seq}"
                _write_frames(folder, [f"human_crop_f{start + i:05d}.txt" for i in k.tolist()], values)
            if sid in test:
                cam, video, seq = names[int(srng.integers(n))]
                probes.append(f"{sid:04d}-camid{cam}_videoid{video}-seq{seq}")
            bar.update()
        split = {"PROBE_SET": probes, "TEST_SET": [f"{i:04d}" for i in test],
                 "TRAIN_SET": [f"{i:04d}" for i in ids if i not in test]}
        (tmp / "Gait3D.json").write_text(json.dumps(split, indent=4) + "\n")
    return root


# -------------------------------------------------------------------------------------------- GREW


def _video_ids(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct 8-character video ids (letters and digits, as GREW's)."""
    out: list[str] = []
    while len(out) < n:
        vid = "".join(rng.choice(_VIDEO_CHARS, 8))
        if vid not in out:
            out.append(vid)
    return out


def synthesize_grew(output: str | os.PathLike, *, subjects: int = 40, seed: int = 0, progress: bool = True,
                    frames: tuple[int, int] = (30, 60), train_sequences: tuple[int, int] = (3, 5)) -> Path:
    """Write a synthetic GREW tree to the directory ``output``.

    Half the ``subjects`` (4 or more) are training subjects ``00001``... with ``train_sequences`` =
    (min, max) walks each; the others are test subjects, numbered from ``00001`` again as in the
    release, with two gallery walks and one or two probe walks under ``test/probe/``. Video ids are
    random and distinct; ``SYNTHETIC_probe_subjects.csv`` holds the probes' subjects.
    """
    if subjects < 4:
        raise ValueError(f"subjects must be at least 4 (two train, two test), got {subjects}")
    root = Path(output)
    n_train = subjects // 2
    plan = [("train", s) for s in range(1, n_train + 1)] + [("test", s) for s in range(1, subjects - n_train + 1)]
    truth = []
    with folder_output(root, "synthetic GREW tree") as tmp, _bar(subjects, progress, f"synthesize {root.name}") as bar:
        for part, sid in plan:
            srng = np.random.default_rng([seed, _TAG["grew"], part == "test", sid])
            n = int(srng.integers(train_sequences[0], train_sequences[1] + 1)) if part == "train" else 2 + int(srng.integers(1, 3))
            for i, (vid, (values, k)) in enumerate(zip(_video_ids(srng, n), _walks(srng, n, frames, GREW_CAMERA))):
                if part == "train":
                    folder = tmp / "train" / f"{sid:05d}" / vid
                elif i < 2:
                    folder = tmp / "test" / "gallery" / f"{sid:05d}" / vid
                else:
                    folder = tmp / "test" / "probe" / vid
                    truth.append(f"{vid},{sid}")
                _write_frames(folder, [f"{j + 1:05d}_2d_pose.txt" for j in k.tolist()], values)
            bar.update()
        (tmp / "SYNTHETIC_probe_subjects.csv").write_text("\n".join(["videoId,subject", *sorted(truth)]) + "\n")
    return root
