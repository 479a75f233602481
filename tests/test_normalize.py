"""Normalization step: mode none (reference) and center-scale, missing joints, meta carried over."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gaitgraph.data.errors import DataError
from gaitgraph.data.format import load_dataset, write_dataset
from gaitgraph.data.normalize import center_scale_sequence, normalize_dataset
from gaitgraph.skeleton import COCO17, OPENPOSE18
from gaitgraph.transforms.sequence import fill_missing_joints


def body(skeleton, shift=(0.0, 0.0), torso=50.0, jitter=0.0, rng=None):
    """One frame: hips at y = 100 + torso, shoulders (and neck) at y = 100, x around 160; all visible."""
    v = skeleton.num_joints
    pose = np.zeros((v, 3), np.float32)
    rng = rng or np.random.default_rng(0)
    pose[:, 0] = 160 + rng.uniform(-20, 20, v)
    pose[:, 1] = 100 + rng.uniform(0, 2 * torso, v)
    pose[:, 2] = 0.9
    t = torso + jitter
    for name in ("left_hip", "right_hip"):
        pose[skeleton.index(name), :2] = (160 + (5 if "left" in name else -5), 100 + t)
    for name in ("left_shoulder", "right_shoulder"):
        pose[skeleton.index(name), :2] = (160 + (12 if "left" in name else -12), 100)
    if "neck" in skeleton.joints:
        pose[skeleton.index("neck"), :2] = (160, 100)
    pose[:, :2] += shift
    return pose


def make_dataset(path, skeleton, frames):
    poses = np.stack(frames).astype(np.float32)
    table = pd.DataFrame(
        {"subject": [1], "condition": ["nm"], "sequence": [1], "view": [0], "split": ["train"],
         "offset": [0], "length": [len(poses)], "source": ["test"]}
    )
    meta = {"dataset": "casia-b" if skeleton is COCO17 else "oumvlp-pose", "skeleton": skeleton.name,
            "keypoints": "hrnet", "synthetic": True, "stats": {"duplicate frame": 2}}
    return write_dataset(path, poses, np.arange(1, len(poses) + 1), table, meta)


@pytest.mark.parametrize("skeleton", [COCO17, OPENPOSE18])
def test_none_copies_every_skeleton_byte_for_byte_and_records_mode(tmp_path, skeleton):
    # issue 11: mode none is the raw input the original trains on, missing joints (zeros) included, also
    # for openpose18 (OUMVLP-Pose), whose missing joints the original fills only at validation/test time
    frames = [body(skeleton, shift=(i, 0)) for i in range(3)]
    frames[1][4] = 0  # a missing joint
    frames[2][[3, 5, 6]] = (0, 0, 0)  # several in one frame
    frames[2][7] = (0, 77, 0.5)  # x == 0 with y set
    src = make_dataset(tmp_path / "in", skeleton, frames)
    out = load_dataset(normalize_dataset(src, tmp_path / "out", "none", progress=False))
    assert (tmp_path / "out" / "poses.npy").read_bytes() == (src / "poses.npy").read_bytes()
    assert (tmp_path / "out" / "frames.npy").read_bytes() == (src / "frames.npy").read_bytes()
    np.testing.assert_array_equal(out.frames, [1, 2, 3])
    record = out.meta["normalization"]
    assert record["mode"] == "none" and record["fill_missing_joints"] is False
    assert "unchanged" in record["poses"] and "validation/test" in record["missing_joints"]
    assert out.meta["stats"] == {"duplicate frame": 2} and out.meta["synthetic"] is True
    assert out.sequences.equals(load_dataset(src).sequences)


def test_fill_before_training_is_our_named_variant(tmp_path):
    f = body(OPENPOSE18)
    f[3] = (0, 77, 0.5)  # x == 0: missing
    f[9] = (0, 0, 0)  # a second one in the same frame sees the first fill
    src = make_dataset(tmp_path / "in", OPENPOSE18, [f])
    out = load_dataset(normalize_dataset(src, tmp_path / "out", "none", progress=False, fill_missing_joints=True))
    np.testing.assert_allclose(out.poses, fill_missing_joints(f[None]), rtol=1e-6)
    np.testing.assert_allclose(out.poses[0, 3], [f[:, 0].mean(), f[:, 1].mean(), 0], rtol=1e-6)
    np.testing.assert_array_equal(out.poses[0, 4], f[4])
    assert out.meta["normalization"]["fill_missing_joints"] is True
    assert "our variant" in out.meta["normalization"]["poses"]
    with pytest.raises(ValueError, match="mode 'none' only"):
        normalize_dataset(src, tmp_path / "o2", "center-scale", fill_missing_joints=True)


@pytest.mark.parametrize("skeleton", [COCO17, OPENPOSE18])
def test_center_scale_centres_on_hips_and_scales_by_median_torso(skeleton):
    seq = np.stack([body(skeleton, shift=(10 * i, 3 * i), jitter=j) for i, j in enumerate([0, 5, -5, 0, 0])])
    out, stats = center_scale_sequence(seq, skeleton.name)
    hips = [skeleton.index("left_hip"), skeleton.index("right_hip")]
    np.testing.assert_allclose(out[:, hips, :2].mean(axis=1), 0, atol=1e-5)
    # one scale for the whole sequence: the median torso (50 px), so translations cancel exactly
    np.testing.assert_allclose(out[0, :, :2], (seq[0, :, :2] - seq[0, hips, :2].mean(axis=0)) / 50, atol=1e-5)
    np.testing.assert_allclose(out[3, :, :2], out[0, :, :2], atol=1e-5)
    np.testing.assert_array_equal(out[..., 2], seq[..., 2])
    assert stats["sequences_scale_fallback"] == 0


def test_missing_joints_affect_neither_centre_nor_scale_and_stay_missing():
    clean = np.stack([body(COCO17, shift=(i, 0)) for i in range(4)])
    dirty = clean.copy()
    dirty[1, COCO17.index("right_hip")] = (0, 0, 0)  # undetected hip (x == 0)
    dirty[2, COCO17.index("left_shoulder")] = (900, 900, 0)  # confidence 0: coordinates are garbage
    ref, _ = center_scale_sequence(clean, "coco17")
    out, _ = center_scale_sequence(dirty, "coco17")
    np.testing.assert_array_equal(out[1, COCO17.index("right_hip")], 0)
    np.testing.assert_array_equal(out[2, COCO17.index("left_shoulder")], 0)
    keep = ~((dirty[..., 2] == 0) | (dirty[..., 0] == 0))
    # one hip missing moves the centre by half the hip width (5 px of 50) at most
    np.testing.assert_allclose(out[keep][:, :2], ref[keep][:, :2], atol=0.11)
    # a missing shoulder shifts one torso estimate; the median scale moves by < 1 %
    np.testing.assert_allclose(out[2], ref[2] * keep[2][:, None], atol=0.01)


def test_frames_without_hips_use_the_neck_plus_the_typical_torso():
    seq = np.stack([body(OPENPOSE18, shift=(7 * i, 0)) for i in range(5)])
    ref, _ = center_scale_sequence(seq, "openpose18")
    seq[2, [OPENPOSE18.index("left_hip"), OPENPOSE18.index("right_hip")]] = 0
    out, stats = center_scale_sequence(seq, "openpose18")
    knee = OPENPOSE18.index("left_knee")
    np.testing.assert_allclose(out[2, knee], ref[2, knee], atol=1e-5)
    assert stats["frames_center_fallback_neck"] == 1


def test_sequence_without_torso_falls_back_to_height_and_empty_frames_stay_zero():
    seq = np.stack([body(COCO17) for _ in range(3)])
    seq[:, 5:13] = 0  # no shoulders, no hips, no elbows/wrists
    seq[1] = 0  # nothing detected at all
    out, stats = center_scale_sequence(seq, "coco17")
    assert stats["sequences_scale_fallback"] == 1 and stats["frames_empty"] == 1
    assert np.isfinite(out).all() and (out[1] == 0).all()


def test_center_scale_dataset_records_parameters(tmp_path):
    src = make_dataset(tmp_path / "in", COCO17, [body(COCO17) for _ in range(2)])
    out = load_dataset(normalize_dataset(src, tmp_path / "out", "center-scale", progress=False))
    n = out.meta["normalization"]
    assert n["mode"] == "center-scale" and n["height_per_torso"] == 3.0 and "frames_empty" in n["stats"]
    assert out.meta["dataset"] == "casia-b" and out.meta["stats"] == {"duplicate frame": 2}


def test_bad_requests(tmp_path):
    src = make_dataset(tmp_path / "in", COCO17, [body(COCO17)])
    with pytest.raises(ValueError, match="unknown normalization mode"):
        normalize_dataset(src, tmp_path / "o", "zscore")
    with pytest.raises(ValueError, match="takes no parameters"):
        normalize_dataset(src, tmp_path / "o", "center-scale", scal=2)
    done = normalize_dataset(src, tmp_path / "o", "none", progress=False)
    with pytest.raises(DataError, match="already normalized"):
        normalize_dataset(done, tmp_path / "o2", "center-scale")
