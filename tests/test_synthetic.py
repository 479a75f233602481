"""Synthetic datasets: the original file formats, the real readers, determinism, atomic writes, the
walker's geometry, and an identity signal that is learnable but not trivial.

Sizes are tiny (CASIA-B: 10 subjects x 110 sequences of 40-60 frames; OUMVLP: 3 subjects x 28
sequences of 15-25 frames) so the whole file runs in a few seconds.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from conftest import CASIA_VIEWS, OUMVLP_VIEWS
from gaitgraph.data import walker
from gaitgraph.data.synthetic import (
    casia_b_subject_ids,
    oumvlp_subject_ids,
    synthesize_casia_b,
    synthesize_oumvlp,
)
from gaitgraph.skeleton import COCO17, OPENPOSE18

CASIA_SUBJECTS, CASIA_FRAMES = 10, (40, 60)
OUMVLP_SUBJECTS, OUMVLP_FRAMES = 3, (15, 25)
NAME = re.compile(r"^\./(\d{3})-(nm|bg|cl)-(\d{2})-(\d{3})/(\d{6})\.jpg$")


@pytest.fixture(scope="module")
def casia_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("casia") / "casia-b_pose_coco.csv"
    return synthesize_casia_b(path, subjects=CASIA_SUBJECTS, seed=3, progress=False, frames=CASIA_FRAMES)


@pytest.fixture(scope="module")
def casia_rows(casia_csv):
    df = pd.read_csv(casia_csv)
    parts = df.image_name.str.extract(NAME)
    assert parts.notna().all().all(), "every image_name has the ./SSS-CC-NN-VVV/FFFFFF.jpg layout"
    df["subject"], df["cond"], df["seq"], df["view"], df["frame"] = (
        parts[0].astype(int), parts[1], parts[2].astype(int), parts[3].astype(int), parts[4].astype(int))
    return df


@pytest.fixture(scope="module")
def oumvlp_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("oumvlp") / "OUMVLP-Pose"
    return synthesize_oumvlp(root, subjects=OUMVLP_SUBJECTS, seed=5, progress=False, frames=OUMVLP_FRAMES)


# ------------------------------------------------------------------------------------- CASIA-B


def test_casia_b_subject_ids_cover_both_splits():
    for n in (2, 5, 10, 24, 124):
        ids = casia_b_subject_ids(n)
        train = [s for s in ids if s <= 74]
        assert len(ids) == len(set(ids)) == n and ids == sorted(ids)
        assert 1 <= min(ids) and max(ids) <= 124
        assert train and len(train) < n  # both splits of the standard protocol are present
        assert abs(len(train) - 0.6 * n) <= 1
    assert casia_b_subject_ids(124) == list(range(1, 125))
    with pytest.raises(ValueError, match="1..124"):
        casia_b_subject_ids(125)


def test_casia_b_csv_has_the_original_layout(casia_csv, casia_rows):
    header = casia_csv.read_text().split("\n", 1)[0]
    assert header == "image_name," + ",".join(f"{j}_{c}" for j in COCO17.joints for c in ("x", "y", "conf"))
    assert header.startswith("image_name,nose_x,nose_y,nose_conf,left_eye_x,")
    df = casia_rows
    assert list(df.image_name) == sorted(df.image_name)  # file order = sorted by name
    seqs = df.groupby(["subject", "cond", "seq", "view"]).frame.agg(["size", "min", "max"])
    assert len(seqs) == CASIA_SUBJECTS * 110
    per_subject = seqs.reset_index().groupby("subject")
    assert (per_subject.size() == 110).all()
    conds = seqs.reset_index().groupby("cond").seq.unique()
    assert sorted(conds["nm"]) == [1, 2, 3, 4, 5, 6] and sorted(conds["bg"]) == sorted(conds["cl"]) == [1, 2]
    assert sorted(df.view.unique()) == list(CASIA_VIEWS)
    assert (seqs["min"] >= 1).all()
    span = seqs["max"] - seqs["min"] + 1
    assert (seqs["size"] <= CASIA_FRAMES[1]).all() and (span <= CASIA_FRAMES[1]).all()
    assert (span > seqs["size"]).mean() > 0.3  # many sequences have gaps (dropped frames)
    values = df[[c for c in df.columns if c.endswith(("_x", "_y", "_conf"))]].to_numpy().reshape(-1, 17, 3)
    assert (values[..., 0] >= 0).all() and (values[..., 0] < 320).all()
    assert (values[..., 1] >= 0).all() and (values[..., 1] < 240).all()
    conf = values[..., 2]
    assert conf.min() >= 0.3 and conf.max() <= 0.95 and np.median(conf) > 0.8
    # coats: lower confidence on the covered joints (hips, knees) than normal walking
    hips_knees = [COCO17.index(j) for j in ("left_hip", "right_hip", "left_knee", "right_knee")]
    coat, normal = (conf[(df.cond == c).to_numpy()][:, hips_knees].mean() for c in ("cl", "nm"))
    assert coat < normal - 0.05


def test_casia_b_parses_with_the_reader(casia_csv, tmp_path):
    from gaitgraph.data.casia_b import convert_casia_b
    from gaitgraph.data.format import load_dataset

    ds = load_dataset(convert_casia_b(casia_csv, tmp_path / "conv", synthetic=True, progress=False))
    assert ds.meta["stats"] == {}  # nothing skipped
    seqs = ds.sequences
    assert len(seqs) == CASIA_SUBJECTS * 110
    assert set(seqs.split) == {"train", "test"}
    assert set(seqs[seqs.split == "test"].subject) == {s for s in casia_b_subject_ids(CASIA_SUBJECTS) if s >= 75}
    assert ds.poses.shape[1:] == (17, 3)


def test_casia_b_is_deterministic_by_seed(tmp_path):
    kw = dict(subjects=2, progress=False, frames=(8, 10))
    a = synthesize_casia_b(tmp_path / "a.csv", seed=1, **kw).read_bytes()
    b = synthesize_casia_b(tmp_path / "b.csv", seed=1, **kw).read_bytes()
    c = synthesize_casia_b(tmp_path / "c.csv", seed=2, **kw).read_bytes()
    assert a == b and a != c


def test_casia_b_writes_atomically(tmp_path):
    out = tmp_path / "x.csv"
    out.write_text("image_name,old\n")  # an earlier pose CSV (issue 12: any other file is refused)
    with pytest.raises(ValueError, match="frames"):
        synthesize_casia_b(out, subjects=2, progress=False, frames=(5, 2))
    assert out.read_text() == "image_name,old\n" and [p.name for p in tmp_path.iterdir()] == ["x.csv"]  # no temp left
    synthesize_casia_b(out, subjects=2, progress=False, frames=(5, 6))  # replaces the old file
    assert out.read_text().startswith("image_name,")


# --------------------------------------------------------------------------------- OUMVLP-Pose


def _frames(root, kp):
    return sorted((root / kp).glob("*/*/*.json"))


def test_oumvlp_tree_has_the_original_layout(oumvlp_root):
    train, test = oumvlp_subject_ids(OUMVLP_SUBJECTS, seed=5)
    subjects = sorted(train + test)
    for kp in ("openpose", "alphapose"):
        assert sorted(p.name for p in (oumvlp_root / kp).iterdir()) == [f"{s:05d}" for s in subjects]
        folders = sorted(p.name for p in (oumvlp_root / kp / f"{subjects[0]:05d}").iterdir())
        assert folders == sorted(f"{v:03d}_{q:02d}" for v in OUMVLP_VIEWS for q in (0, 1))
        files = _frames(oumvlp_root, kp)
        assert all(re.fullmatch(r"\d{4}_keypoints\.json", p.name) for p in files)
        docs = [json.loads(p.read_text()) for p in files]
        assert all(d["version"] == 1.3 and isinstance(d["people"], list) for d in docs)
        people = [len(d["people"]) for d in docs]
        assert 0 in people and 2 in people and max(people) == 2  # empty and two-person frames
        poses = np.array([p["pose_keypoints_2d"] for d in docs for p in d["people"]]).reshape(-1, 18, 3)
        shown = poses[..., 2] > 0
        assert (poses[~shown] == 0).all()  # a missing joint is 0, 0, 0
        assert (poses[shown][:, 0] < 640).all() and (poses[shown][:, 1] < 480).all()
        if kp == "alphapose":  # the 18-point AlphaPose output builds the neck from the shoulders
            neck, ls, rs = (OPENPOSE18.index(j) for j in ("neck", "left_shoulder", "right_shoulder"))
            full = shown[:, [neck, ls, rs]].all(1)
            assert np.allclose(poses[full, neck, :2], (poses[full, ls, :2] + poses[full, rs, :2]) / 2, atol=2e-3)
        else:  # OpenPose drops hidden joints: clearly more zeros than AlphaPose
            assert (~shown).mean() > 0.05


def test_oumvlp_id_list_reads_like_the_real_file(oumvlp_root):
    train, test = oumvlp_subject_ids(OUMVLP_SUBJECTS, seed=5)
    assert len(train) == OUMVLP_SUBJECTS // 2 and len(test) == OUMVLP_SUBJECTS - len(train)
    assert not set(train) & set(test)
    ids = pd.read_csv(oumvlp_root / "ID_list.csv", skiprows=5, dtype="Int32")  # as the fork reads it
    assert ids.iloc[:, 0].dropna().tolist() == train and ids.iloc[:, 1].dropna().tolist() == test
    assert ids.iloc[:, 0].isna().sum() == 1  # odd count: one blank train cell, as nullable Int32 expects


def test_oumvlp_parses_with_the_reader(oumvlp_root, tmp_path):
    from gaitgraph.data.format import load_dataset
    from gaitgraph.data.oumvlp import NOT_FIRST, SEVERAL_PEOPLE, convert_oumvlp

    train, test = oumvlp_subject_ids(OUMVLP_SUBJECTS, seed=5)
    for kp in ("openpose", "alphapose"):
        out = convert_oumvlp(oumvlp_root, kp, oumvlp_root / "ID_list.csv", tmp_path / kp, synthetic=True,
                             progress=False, workers=1)
        ds = load_dataset(out)
        seqs = ds.sequences
        assert len(seqs) == OUMVLP_SUBJECTS * 28
        assert set(seqs[seqs.split == "train"].subject) == set(train)
        assert set(seqs[seqs.split == "test"].subject) == set(test)
        assert sorted(seqs.view.unique()) == list(OUMVLP_VIEWS) and sorted(seqs.sequence.unique()) == [0, 1]
        stats = json.dumps(ds.meta["stats"])
        assert SEVERAL_PEOPLE in stats and NOT_FIRST in stats  # people[0] would have been wrong somewhere
        # The person chosen by track continuity never jumps: the body centre moves < 1/3 body height per frame.
        for off, n in zip(seqs.offset, seqs.length):
            p = np.asarray(ds.poses[off : off + n])
            shown = p[..., 2] > 0
            centre = np.nansum(np.where(shown[..., None], p[..., :2], 0), 1) / shown.sum(1, keepdims=True)
            assert np.abs(np.diff(centre, axis=0)).max() < 190 / 3


def test_oumvlp_is_deterministic_and_replaces_atomically(tmp_path):
    kw = dict(subjects=2, progress=False, frames=(6, 7))

    def tree(root):
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    a = tree(synthesize_oumvlp(tmp_path / "a", seed=1, **kw))
    assert a == tree(synthesize_oumvlp(tmp_path / "b", seed=1, **kw))
    assert a != tree(synthesize_oumvlp(tmp_path / "c", seed=2, **kw))
    synthesize_oumvlp(tmp_path / "a", seed=2, **kw)  # an existing tree is replaced as a whole
    assert tree(tmp_path / "a") == tree(tmp_path / "c")
    with pytest.raises(ValueError, match="frames"):
        synthesize_oumvlp(tmp_path / "a", seed=1, subjects=2, progress=False, frames=(0, 3))
    assert tree(tmp_path / "a") == tree(tmp_path / "c")  # a failed run leaves the old tree alone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "c"]  # and no temp folders


# -------------------------------------------------------------------------------------- walker


def _side_and_front(view):
    rng = np.random.default_rng(0)
    walk = walker.apply_condition(walker.sample_walk(walker.sample_subject(rng), rng), "nm", "left", "hand", rng)
    walk["phase"] = 0.0
    t = np.arange(50) / 25.0
    pts = walker.walk_poses(walk, t)
    speed = walk["stride"] * walk["height"] * walk["cadence"] / 120
    travel = (t - t.mean()) * speed
    zeros = np.zeros_like(t)
    return walker.project(pts, np.full_like(t, view), travel, zeros, zeros, walker.Camera(320, 240, 400.0, 7.0, 1.0))


def test_walker_projects_upright_people_in_image_coordinates():
    j = walker.JOINTS.index
    for view in (0, 90, 180):
        uv, scale, dz = _side_and_front(view)
        assert (uv[:, j("nose"), 1] < uv[:, j("left_hip"), 1]).all()  # v grows downwards: head on top
        assert (uv[:, j("left_hip"), 1] < uv[:, j("left_ankle"), 1]).all()
        height = uv[:, [j("left_ankle"), j("right_ankle")], 1].max(1) - uv[:, j("nose"), 1]
        assert 60 < height.mean() < 150  # a person of ~100 px in a 240 px frame
    uv, scale, dz = _side_and_front(90)
    assert np.all(np.diff(uv[:, j("left_hip"), 0].round(1)) >= 0)  # walks from left to right
    assert (dz[:, j("left_shoulder")] > 0).all()  # the camera sees the right side: left joints are hidden
    uv, scale, _ = _side_and_front(0)
    assert np.all(np.diff(scale) > 0)  # walking towards the camera: growing
    assert (uv[:, j("left_shoulder"), 0] > uv[:, j("right_shoulder"), 0]).all()  # facing us: their left on our right


def test_walker_legs_alternate_and_arms_swing_against_them():
    rng = np.random.default_rng(1)
    walk = walker.apply_condition(walker.sample_walk(walker.sample_subject(rng), rng), "nm", "left", "hand", rng)
    walk["phase"] = 0.0
    pts = walker.walk_poses(walk, np.arange(100) / 25.0)
    j = walker.JOINTS.index
    left_ankle, right_ankle = pts[:, j("left_ankle"), 0], pts[:, j("right_ankle"), 0]
    left_wrist = pts[:, j("left_wrist"), 0] - pts[:, j("left_shoulder"), 0]
    assert np.corrcoef(left_ankle, right_ankle)[0, 1] < -0.8
    assert np.corrcoef(left_wrist, left_ankle)[0, 1] < -0.8
    lowest = pts[:, [j("left_ankle"), j("right_ankle")], 2].min(1)
    ankle = walk["ankle_height"] * walk["height"]
    assert (lowest > ankle - 1e-9).all() and (lowest < ankle + 0.03).all()  # one foot on the ground


# --------------------------------------------------------------------------------- learnability


def _descriptors(df):
    """Per sequence: mean and sd over frames of the hip-centred, height-normalised joints (68 values)."""
    xy = df[[c for c in df.columns if c.endswith(("_x", "_y"))]].to_numpy().reshape(-1, 17, 2)
    keys, feats = [], []
    for key, idx in df.groupby(["subject", "cond", "seq", "view"]).indices.items():
        x = xy[idx]
        centre = x[:, [11, 12]].mean(1, keepdims=True)
        height = np.median(x[:, [15, 16], 1].mean(1) - x[:, 0, 1])
        z = (x - centre) / height
        keys.append(key)
        feats.append(np.concatenate([z.mean(0).ravel(), z.std(0).ravel()]))
    feats = np.array(feats)
    return pd.DataFrame(keys, columns=["subject", "cond", "seq", "view"]), (feats - feats.mean(0)) / feats.std(0)


def test_identity_is_learnable_but_not_trivial(casia_rows):
    """Nearest-neighbour rank-1 of a hand-made descriptor, gallery NM#1-4, probes NM#5-6 / BG / CL.

    With 10 subjects chance is 10 %. Measured (seed 3): same view NM ~76 %, BG ~62 %, CL ~46 %;
    across views NM ~60 %, CL ~39 %.
    """
    meta, feats = _descriptors(casia_rows)
    subject = meta.subject.to_numpy()

    def rank1(probe, gallery):
        dist = ((feats[probe][:, None] - feats[gallery][None]) ** 2).sum(-1)
        return (subject[gallery][dist.argmin(1)] == subject[probe]).mean()

    gallery = (meta.cond == "nm") & (meta.seq <= 4)
    probes = {"nm": (meta.cond == "nm") & (meta.seq >= 5), "bg": meta.cond == "bg", "cl": meta.cond == "cl"}
    same, cross = {}, {}
    for cond, sel in probes.items():
        pairs = [(p, g) for p in CASIA_VIEWS for g in CASIA_VIEWS]
        r = {(p, g): rank1(np.flatnonzero(sel & (meta.view == p)), np.flatnonzero(gallery & (meta.view == g)))
             for p, g in pairs}
        same[cond] = np.mean([r[p, g] for p, g in pairs if p == g])
        cross[cond] = np.mean([r[p, g] for p, g in pairs if p != g])
    chance = 1 / CASIA_SUBJECTS
    assert same["nm"] > 5 * chance  # clearly learnable
    assert min(same.values()) > 2.5 * chance and min(cross.values()) > 2 * chance
    assert same["nm"] < 0.95 and cross["nm"] < same["nm"]  # not trivial: views change the poses
    assert same["cl"] < same["nm"] and same["bg"] < same["nm"]  # carrying and coats make it harder
