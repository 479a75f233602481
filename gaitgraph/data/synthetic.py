"""Synthetic CASIA-B and OUMVLP-Pose datasets, written in the original file formats.

The real pose files cannot be downloaded here, so the embedded default pipeline runs on these. They
go through the same readers as the real files (``gaitgraph2.md`` §2):

* :func:`synthesize_casia_b` writes one CSV shaped like ``casia-b_pose_coco.csv`` (HRNet, COCO-17,
  320x240 frames, ``./SSS-CC-NN-VVV/FFFFFF.jpg`` rows sorted by name, missing frames);
* :func:`synthesize_oumvlp` writes ``ROOT/{openpose,alphapose}/SSSSS/VVV_SS/FFFF_keypoints.json``
  (OpenPose-18, 640x480 frames, empty and multi-person frames) and ``ROOT/ID_list.csv``.

Every subject is a 3-D walker (:mod:`gaitgraph.data.walker`) with its own body proportions and gait;
each walk varies them a little, each camera sees it from its view, and an estimator model
(:class:`Estimator`) adds position noise, occlusion-dependent confidences, outliers, left/right leg
swaps and missing joints. See ``docs/synthetic.md`` for the parameters and the limits: numbers
measured on these data say nothing about the real datasets.

Everything is deterministic by ``seed``: subject ``s`` draws from ``default_rng([seed, dataset, s])``,
so the same seed gives byte-identical files. Outputs are written atomically (temp, then rename).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gaitgraph.data import walker
from gaitgraph.datasets import casia_b, oumvlp_pose
from gaitgraph.outputs import OutputError, atomic_write, check_file_output, folder_output
from gaitgraph.skeleton import COCO17, OPENPOSE18, Skeleton

CASIA_WALKS = tuple((c, q) for c in sorted(casia_b.SEQUENCES) for q in casia_b.SEQUENCES[c])  # name order
CASIA_CAMERA = walker.Camera(width=320, height=240, focal=400.0, distance=7.0, cam_height=1.0)
OUMVLP_CAMERA = walker.Camera(width=640, height=480, focal=800.0, distance=7.0, cam_height=1.0)
_DATASET_TAG = {"casia-b": 1, "oumvlp-pose": 2}  # part of every random stream's key


@dataclass(frozen=True)
class Estimator:
    """How a pose estimator turns the projected walker into detections."""

    name: str
    noise: float  # position noise sd, as a fraction of the person's height in pixels
    outlier_rate: float  # per joint and frame: a point thrown far off, with a low confidence
    conf_visible: float  # typical confidence of a visible joint
    conf_sd: float
    occlusion_drop: float  # confidence lost by a joint fully hidden behind the body
    conf_range: tuple[float, float]
    swap_rate: float  # per frame at frontal/back views: left and right legs swapped
    missing_rate: float  # per joint: reported as (0, 0, 0)
    missing_occluded: float  # extra missing probability of a fully hidden joint
    empty_rate: float = 0.0  # per frame: nobody detected (OUMVLP files with "people": [])
    neck_from_shoulders: bool = False  # AlphaPose's 18-point output: neck = mean of the shoulders


HRNET = Estimator(  # CASIA-B: HRNet always returns all 17 joints; heat-map maxima 0.3-0.95
    "hrnet", noise=0.010, outlier_rate=0.004, conf_visible=0.90, conf_sd=0.035, occlusion_drop=0.35,
    conf_range=(0.30, 0.95), swap_rate=0.03, missing_rate=0.0, missing_occluded=0.0)
OPENPOSE = Estimator(  # noisier, hidden joints often dropped as (0, 0, 0)
    "openpose", noise=0.014, outlier_rate=0.006, conf_visible=0.80, conf_sd=0.08, occlusion_drop=0.45,
    conf_range=(0.05, 0.96), swap_rate=0.05, missing_rate=0.01, missing_occluded=0.5, empty_rate=0.03)
ALPHAPOSE = Estimator(  # top-down: every joint present, neck built from the shoulders
    "alphapose", noise=0.009, outlier_rate=0.003, conf_visible=0.88, conf_sd=0.05, occlusion_drop=0.30,
    conf_range=(0.20, 0.98), swap_rate=0.03, missing_rate=0.002, missing_occluded=0.0, empty_rate=0.015,
    neck_from_shoulders=True)

# Confidence offsets by body part (HRNet-style: faces and trunks are found best, extremities worst).
_PART_CONF = {"nose": 0.03, "eye": 0.03, "ear": -0.01, "neck": 0.02, "shoulder": 0.0, "elbow": -0.03,
              "wrist": -0.07, "hip": -0.02, "knee": -0.03, "ankle": -0.05}
_COAT_PARTS = ("shoulder", "elbow", "wrist", "hip", "knee")  # joints a coat hides or blurs


def _part(joint: str) -> str:
    return joint.split("_")[-1]


def casia_b_subject_ids(n: int) -> list[int]:
    """``n`` CASIA-B subject ids, ~60 % spread over the train range 1-74 and ~40 % over 75-124.

    Deterministic (independent of the seed), so that the standard split gives both splits.
    """
    total, first_test = casia_b.NUM_SUBJECTS, casia_b.TEST_FROM
    if not 1 <= n <= total:
        raise ValueError(f"CASIA-B has {total} subjects; subjects must be in 1..{total}, got {n}")
    n_train = min(first_test - 1, max(n - (total - first_test + 1), round(0.6 * n)))
    train = np.linspace(1, first_test - 1, n_train).round().astype(int) if n_train else np.array([], int)
    test = np.linspace(first_test, total, n - n_train).round().astype(int)
    return [int(s) for s in np.concatenate([train, test])]


def _simulate(rng: np.random.Generator, keys: list[tuple[str, int, int]], camera: walker.Camera,
              frames: tuple[int, int]) -> dict[str, np.ndarray]:
    """Walk and project all sequences ``keys`` = [(condition, sequence, view)] of one subject.

    The sequences with the same (condition, sequence) are one walk seen by several cameras. Returns
    per-frame arrays (F total frames): ``uv`` (F, J, 2) pixels, ``dz`` (F, J) depth behind the pelvis,
    ``scale`` (F,) px/m, ``seq`` (F,) index into ``keys``, ``k`` (F,) frame index in its sequence,
    plus ``height`` [m], ``coat`` and ``view`` per frame and ``lengths`` (S,).
    """
    lo, hi = frames
    if not 1 <= lo <= hi:
        raise ValueError(f"frames must be a range (min, max) with 1 <= min <= max, got {frames}")
    subject = walker.sample_subject(rng)
    bag_side = ("left", "right")[rng.integers(2)]
    bag_type = ("hand", "strap")[rng.integers(2)]
    walks = {}
    for cond, seq, _ in keys:
        if (cond, seq) not in walks:
            walks[cond, seq] = walker.apply_condition(walker.sample_walk(subject, rng), cond, bag_side, bag_type, rng)
    s = len(keys)
    lengths = rng.integers(lo, hi + 1, size=s)
    seq = np.repeat(np.arange(s), lengths)  # (F,)
    k = np.arange(len(seq)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    per_seq = {name: np.array([walks[c, q][name] for c, q, _ in keys]) for name in walks[keys[0][:2]]}
    per_seq["phase"] = rng.uniform(0, 2 * np.pi, s)  # each camera's window starts at another phase
    params = {name: v[seq] for name, v in per_seq.items()}
    t = k / camera.fps
    pts = walker.walk_poses(params, t)
    speed = per_seq["stride"] * per_seq["height"] * per_seq["cadence"] / 120.0  # m/s
    travel = (k - (lengths[seq] - 1) / 2.0) / camera.fps * speed[seq] + rng.normal(0, 0.2, s)[seq]
    view = np.array([v for _, _, v in keys], dtype=np.float64)[seq]
    uv, scale, dz = walker.project(pts, view, travel, rng.normal(0, 0.25, s)[seq], rng.normal(0, 0.3, s)[seq], camera)
    return {"uv": uv, "dz": dz, "scale": scale, "seq": seq, "k": k, "lengths": lengths, "view": view,
            "height": params["height"], "coat": params["coat"]}


def detect(sim: dict[str, np.ndarray], skeleton: Skeleton, est: Estimator, camera: walker.Camera,
           rng: np.random.Generator) -> np.ndarray:
    """Detections ``(F, V, 3)`` (x, y, confidence) of ``skeleton``'s joints; missing joints are zeros."""
    idx = [walker.JOINTS.index(j) for j in skeleton.joints]
    uv, dz = sim["uv"][:, idx], sim["dz"][:, idx]  # (F, V, 2), (F, V)
    f, v = dz.shape
    parts = [_part(j) for j in skeleton.joints]
    h_px = (sim["scale"] * sim["height"])[:, None]  # (F, 1) person height in pixels
    occ = np.clip(dz / (0.12 * sim["height"][:, None]), 0.0, 1.0)  # 1 = well behind the body
    coat = sim["coat"][:, None] * np.array([p in _COAT_PARTS for p in parts])  # (F, V)

    base = est.conf_visible + np.array([_PART_CONF[p] for p in parts])
    conf = base - est.occlusion_drop * occ - 0.10 * coat + rng.normal(0, est.conf_sd, (f, v))
    sigma = est.noise * h_px * (1.0 + 1.5 * occ + 1.5 * coat)
    xy = uv + rng.normal(size=(f, v, 2)) * sigma[..., None]
    outlier = rng.random((f, v)) < est.outlier_rate
    xy += outlier[..., None] * rng.normal(size=(f, v, 2)) * 0.08 * h_px[..., None]
    conf = np.where(outlier, conf * 0.6, conf)

    # Frontal and back views: the estimator sometimes swaps the left and right legs.
    swap = rng.random(f) < est.swap_rate * np.cos(np.deg2rad(sim["view"])) ** 2
    left, right = list(skeleton.parts["left_leg"]), list(skeleton.parts["right_leg"])
    for arr in (xy, conf):
        arr[np.ix_(swap, left + right)] = arr[np.ix_(swap, right + left)]

    xy[..., 0] = np.clip(xy[..., 0], 0.0, camera.width - 1.0)
    xy[..., 1] = np.clip(xy[..., 1], 0.0, camera.height - 1.0)
    out = np.concatenate([xy, _soft_clip(conf, *est.conf_range)[..., None]], -1)
    missing = rng.random((f, v)) < est.missing_rate + est.missing_occluded * occ**2
    out[missing] = 0.0
    if est.neck_from_shoulders:
        _neck_from_shoulders(out, skeleton)
    return out


def _neck_from_shoulders(pose: np.ndarray, skeleton: Skeleton) -> None:
    """In place on (F, V, 3): neck = mean of both shoulders, missing (zeros) unless both are present."""
    n, ls, rs = skeleton.index("neck"), skeleton.index("left_shoulder"), skeleton.index("right_shoulder")
    both = (pose[:, ls, 2] > 0) & (pose[:, rs, 2] > 0)
    pose[:, n] = np.where(both[:, None], 0.5 * (pose[:, ls] + pose[:, rs]), 0.0)


def _soft_clip(x: np.ndarray, lo: float, hi: float, knee: float = 0.04) -> np.ndarray:
    """Clip to [lo, hi], but approach ``hi`` smoothly (no pile of values at exactly ``hi``)."""
    top = hi - knee
    x = np.where(x > top, hi - knee * np.exp(-(x - top) / knee), x)
    return np.maximum(x, lo)


def _inside(sim: dict[str, np.ndarray], camera: walker.Camera) -> np.ndarray:
    """(F,) whether the pelvis centre is in the image (a detector finds nobody otherwise)."""
    hips = [walker.JOINTS.index("left_hip"), walker.JOINTS.index("right_hip")]
    u = sim["uv"][:, hips, 0].mean(1)
    return (u >= 0) & (u < camera.width)


def _bursts(rng: np.random.Generator, lengths: np.ndarray, rate: float, size: tuple[int, int],
            first: int) -> np.ndarray:
    """(F,) mask: in a fraction ``rate`` of the sequences, one run of ``size`` frames from index ``first`` on."""
    mask = np.zeros(int(lengths.sum()), dtype=bool)
    start = 0
    for n in lengths:
        if rng.random() < rate and n > first + 1:
            a = rng.integers(first, n - 1)
            mask[start + a : start + min(n, a + rng.integers(size[0], size[1] + 1))] = True
        start += n
    return mask


def _bar(total: int, progress: bool, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="subject", file=sys.stderr, disable=not progress, leave=False)


# ----------------------------------------------------------------------------------------- CASIA-B

def synthesize_casia_b(output: str | os.PathLike, *, subjects: int = 24, seed: int = 0, progress: bool = True,
                       frames: tuple[int, int] = (50, 90), drop_rate: float = 0.03) -> Path:
    """Write a synthetic ``casia-b_pose_coco.csv`` to ``output`` and return its path.

    ``subjects`` (1-124) get the ids of :func:`casia_b_subject_ids`; each has 110 sequences (nm x 6,
    bg x 2, cl x 2 over 11 views). ``frames`` is the (min, max) number of frames a camera records per
    walk; of those, frames where the walker's pelvis is outside the image, a fraction ``drop_rate``
    at random and, in 30 % of the sequences, one run of 2-6 frames are dropped (the real file only
    keeps frames with exactly one detection, so frame numbers have gaps).
    """
    output = Path(output)
    header = "image_name," + ",".join(f"{j}_{c}" for j in COCO17.joints for c in ("x", "y", "conf")) + "\n"
    fmt = ",".join(["%.5f,%.5f,%.7f"] * COCO17.num_joints)  # ~ 10 characters per value, as in the real file
    keys = [(c, q, v) for c, q in CASIA_WALKS for v in casia_b.VIEWS]  # sorted as the file names are
    check_file_output(output)
    if output.is_file():  # replace an earlier pose CSV, never another file of the user's
        with open(output, "rb") as f:
            if not f.readline().startswith(header.split(",", 1)[0].encode()):
                raise OutputError(f"--output {output} exists and is not a pose CSV (no image_name header); "
                                  "choose a new file name")

    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="\n") as fh, _bar(subjects, progress, f"synthesize {output.name}") as bar:
            fh.write(header)
            for sid in casia_b_subject_ids(subjects):
                rng = np.random.default_rng([seed, _DATASET_TAG["casia-b"], sid])
                sim = _simulate(rng, keys, CASIA_CAMERA, frames)
                poses = detect(sim, COCO17, HRNET, CASIA_CAMERA, rng).reshape(-1, 51)
                lengths = sim["lengths"]
                keep = _inside(sim, CASIA_CAMERA) & (rng.random(len(poses)) >= drop_rate)
                keep &= ~_bursts(rng, lengths, 0.3, (2, 6), 0)
                keep[np.cumsum(lengths) - lengths // 2 - 1] = True  # a sequence is never empty
                number = rng.integers(1, 21, size=len(keys))[sim["seq"]] + sim["k"]  # 1-based video frame
                dirs = [f"./{sid:03d}-{c}-{q:02d}-{v:03d}/" for c, q, v in keys]
                rows = [f"{dirs[s]}{n:06d}.jpg," + fmt % tuple(p)
                        for s, n, p in zip(sim["seq"][keep].tolist(), number[keep].tolist(), poses[keep].tolist())]
                fh.write("\n".join(rows) + "\n")
                bar.update()

    return atomic_write(output, write)


# ------------------------------------------------------------------------------------- OUMVLP-Pose

_ID_LIST_PREAMBLE = (
    "OU-ISIR Gait Database Multi-View Large Population Dataset with Pose Sequence (OUMVLP-Pose)",
    "Subject ID list for training and testing",
    "SYNTHETIC: written by gaitgraph.data.synthetic (seed {seed}); the layout of the real list only",
    "Five preamble lines then a header row and one pair of ids per row",
    "Column 1: training subject IDs; column 2: testing subject IDs",
)
# OpenPose 1.3+ writes these keys for every person; AlphaPose's OpenPose-style export only the pose.
_PERSON = {
    "openpose": '{"person_id":[-1],"pose_keypoints_2d":[%s],"face_keypoints_2d":[],"hand_left_keypoints_2d":[],'
                '"hand_right_keypoints_2d":[],"pose_keypoints_3d":[],"face_keypoints_3d":[],'
                '"hand_left_keypoints_3d":[],"hand_right_keypoints_3d":[]}',
    "alphapose": '{"pose_keypoints_2d":[%s]}',
}


def oumvlp_subject_ids(n: int, seed: int = 0) -> tuple[list[int], list[int]]:
    """``n`` distinct 5-digit OUMVLP subject ids drawn from 1..10307 by ``seed``: (train, test), half each."""
    if not 1 <= n <= 10307:
        raise ValueError(f"OUMVLP has 10307 subjects; subjects must be in 1..10307, got {n}")
    rng = np.random.default_rng([seed, _DATASET_TAG["oumvlp-pose"], 0])  # subject keys start at 1
    ids = rng.choice(np.arange(1, 10308), size=n, replace=False)
    return sorted(int(i) for i in ids[: n // 2]), sorted(int(i) for i in ids[n // 2 :])


def _spurious(det: np.ndarray, sim: dict[str, np.ndarray], est: Estimator, camera: walker.Camera,
              rng: np.random.Generator) -> np.ndarray:
    """A second, wrong person for every frame (F, V, 3); only used in the multi-person frames.

    Per sequence, either a bystander (another pose of the walk, smaller, elsewhere in the image) or a
    partial duplicate of the walker (shifted, most joints missing, low confidence).
    """
    lengths, seq, k = sim["lengths"], sim["seq"], sim["k"]
    s = len(lengths)
    start = (np.cumsum(lengths) - lengths)[seq]
    other = det[start + (k + lengths[seq] // 2) % lengths[seq]]  # the same walk, half a sequence later
    present = other[..., 2:] > 0  # (F, V, 1)
    count = present.sum(1, keepdims=True)
    centre = np.where(count > 0, (other[..., :2] * present).sum(1, keepdims=True) / np.maximum(count, 1), 0.0)
    shrink = rng.uniform(0.5, 0.75, s)[seq][:, None, None]
    root_u = sim["uv"][:, walker.JOINTS.index("left_hip"), 0]
    far_u = np.where(root_u < camera.width / 2, rng.uniform(0.65, 0.9, s)[seq], rng.uniform(0.1, 0.35, s)[seq])
    # farther away = smaller and nearer the horizon (the image row of the camera height): scale about it
    anchor = np.stack([centre[:, 0, 0], np.full_like(far_u, camera.height / 2)], -1)[:, None]
    place = np.stack([far_u * camera.width, np.full_like(far_u, camera.height / 2)], -1)[:, None]
    bystander = np.concatenate([(other[..., :2] - anchor) * shrink + place, other[..., 2:] * 0.8], -1)

    shift = rng.uniform(5, 20, (s, 2)) * rng.choice([-1.0, 1.0], (s, 2))
    dup = det.copy()
    dup[..., :2] += shift[seq][:, None] + rng.normal(0, 2.0, det[..., :2].shape)
    dup[..., 2] *= 0.5
    dup[rng.random(det.shape[:2]) < rng.uniform(0.4, 0.7, s)[seq][:, None]] = 0.0
    out = np.where((rng.random(s) < 0.5)[seq][:, None, None], bystander, dup)
    out[..., 0] = np.clip(out[..., 0], 0.0, camera.width - 1.0)
    out[..., 1] = np.clip(out[..., 1], 0.0, camera.height - 1.0)
    out[out[..., 2] == 0] = 0.0  # joints missing in the source pose stay missing
    if est.neck_from_shoulders:
        _neck_from_shoulders(out, OPENPOSE18)
    return out


def _keypoints_text(pose: list[list[float]]) -> str:
    """54 numbers as OpenPose writes them: 3 decimals for x, y, 6 for the confidence, 0 when missing."""
    return ",".join("0,0,0" if c == 0 else "%.3f,%.3f,%.6f" % (x, y, c) for x, y, c in pose)


def synthesize_oumvlp(output: str | os.PathLike, *, subjects: int = 24, seed: int = 0, progress: bool = True,
                      frames: tuple[int, int] = (25, 40), multi_person: float = 0.3) -> Path:
    """Write a synthetic OUMVLP-Pose tree to the directory ``output`` and return its path.

    ``ROOT/{openpose,alphapose}/SSSSS/VVV_QQ/FFFF_keypoints.json`` for 14 views and sequences 00/01,
    ``frames`` = (min, max) frames per sequence, plus ``ROOT/ID_list.csv`` (half the subjects train,
    half test). Both trees show the same walks through different estimator models. Frames where the
    walker is outside the image, and a few more at random, have ``"people": []``; in a fraction
    ``multi_person`` of the sequences, a run of 2-8 frames (never the first three) holds a second,
    wrong person, listed first in ~75 % of those frames.
    """
    root = Path(output)
    train, test = oumvlp_subject_ids(subjects, seed)
    keys = [("nm", q, v) for v in oumvlp_pose.VIEWS for q in oumvlp_pose.SEQUENCES]  # folder order VVV_QQ
    with folder_output(root, "synthetic OUMVLP-Pose tree") as tmp:
        with _bar(subjects, progress, f"synthesize {root.name}") as bar:
            for sid in sorted(train + test):
                _write_oumvlp_subject(tmp, sid, keys, seed, frames, multi_person)
                bar.update()
        rows = [",".join(str(ids[i]) if i < len(ids) else "" for ids in (train, test))
                for i in range(max(len(train), len(test)))]
        lines = [line.format(seed=seed) for line in _ID_LIST_PREAMBLE] + ["train,test"] + rows
        (tmp / "ID_list.csv").write_text("\n".join(lines) + "\n")
    return root


def _write_oumvlp_subject(tmp: Path, sid: int, keys: list[tuple[str, int, int]], seed: int,
                          frames: tuple[int, int], multi_person: float) -> None:
    """Simulate one subject's 28 sequences and write them into both keypoint trees under ``tmp``."""
    tag = _DATASET_TAG["oumvlp-pose"]
    sim = _simulate(np.random.default_rng([seed, tag, sid]), keys, OUMVLP_CAMERA, frames)
    rng = np.random.default_rng([seed, tag, sid, 0])
    number = (rng.integers(1, 31, size=len(keys))[sim["seq"]] + sim["k"]).tolist()  # video frame numbers
    inside = _inside(sim, OUMVLP_CAMERA)
    seq = sim["seq"].tolist()
    for e, est in enumerate((OPENPOSE, ALPHAPOSE), start=1):
        erng = np.random.default_rng([seed, tag, sid, e])
        det = detect(sim, OPENPOSE18, est, OUMVLP_CAMERA, erng)
        extra = _spurious(det, sim, est, OUMVLP_CAMERA, erng)
        empty = ~inside | (erng.random(len(det)) < est.empty_rate)
        multi = _bursts(erng, sim["lengths"], multi_person, (2, 8), 3) & ~empty
        first = erng.random(len(det)) < 0.75
        person = _PERSON[est.name]
        dirs = [tmp / est.name / f"{sid:05d}" / f"{v:03d}_{q:02d}" for _, q, v in keys]
        for d in dirs:
            d.mkdir(parents=True)
        dirs = [str(d) + os.sep for d in dirs]
        for i, (s, n) in enumerate(zip(seq, number)):
            people = [] if empty[i] else [person % _keypoints_text(det[i].tolist())]
            if multi[i]:
                wrong = person % _keypoints_text(extra[i].tolist())
                people.insert(0 if first[i] else 1, wrong)
            # os-level calls: ~40 k small files for the defaults, and io.open's wrappers cost more than the write
            fd = os.open(f"{dirs[s]}{n:04d}_keypoints.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                os.write(fd, ('{"version":1.3,"people":[' + ",".join(people) + "]}").encode())
            finally:
                os.close(fd)
