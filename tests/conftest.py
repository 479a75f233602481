"""Shared fixtures. ``tiny_dataset``: a small converted CASIA-B-like dataset with a strong identity signal.

Every subject has its own body shape (per-joint offsets) and gait (stride amplitude, cadence); every
sequence adds its own position, walking speed, phase and a random walk of the whole body plus
per-frame jitter. Made with ``gaitgraph.data.format.write_dataset`` in a temporary directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gaitgraph.data.format import write_dataset
from gaitgraph.skeleton import get_skeleton

# The reference material beside the checkout (../shared): fixtures made with the original code, checkpoint key
# lists, real pose-estimator samples. GAITGRAPH_SHARED points elsewhere; GAITGRAPH_REQUIRE_SHARED=1 (CI)
# turns a missing file into a failure instead of a skip, so parity tests never pass by not running.
SHARED = Path(os.environ.get("GAITGRAPH_SHARED") or Path(__file__).resolve().parents[2] / "shared")


def relative_error(ours, reference) -> float:
    """||ours - reference|| / ||reference|| in float64 (the parity tests' measure)."""
    a, b = np.asarray(ours, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def shared_file(relative: str) -> Path:
    """``SHARED / relative``; skips the calling test, naming the file, when it is not there."""
    path = SHARED / relative
    if not path.is_file():
        reason = (f"needs {relative} from the shared reference folder, not found at {path} "
                  "(put ../shared beside the checkout or set GAITGRAPH_SHARED)")
        if os.environ.get("GAITGRAPH_REQUIRE_SHARED") == "1":
            pytest.fail(reason + "; GAITGRAPH_REQUIRE_SHARED=1 makes this an error")
        pytest.skip(reason)
    return path


# The datasets' views, written out here (not read from gaitgraph.datasets) so that the tests check the package
# against the published facts rather than against itself.
CASIA_VIEWS = list(range(0, 181, 18))
OUMVLP_VIEWS = list(range(0, 91, 15)) + list(range(180, 271, 15))


# rough standing pose, COCO-17 order, pixels (y grows downwards), ~100 px tall
_COCO_TEMPLATE = np.array([
    [0, -45], [-3, -48], [3, -48], [-6, -46], [6, -46],
    [-12, -30], [12, -30], [-15, -15], [15, -15], [-16, 0], [16, 0],
    [-8, 0], [8, 0], [-9, 25], [9, 25], [-10, 50], [10, 50],
], dtype=np.float32)
_SWING = np.array([0, 0, 0, 0, 0, 0, 0, 0.6, -0.6, 1.0, -1.0, 0, 0, -0.6, 0.6, -1.0, 1.0], dtype=np.float32)


def make_pose_dataset(
    path,
    num_subjects: int = 12,
    num_train: int = 8,
    views=(0, 90),
    length_range=(24, 48),
    skeleton: str = "coco17",
    dataset: str = "casia-b",
    keypoints: str = "hrnet",
    seed: int = 0,
    conditions=(("nm", 6), ("bg", 2), ("cl", 2)),
    shape_std: float = 6.0,
    jitter_std: float = 0.5,
    start_range: tuple[float, float] = (60, 260),
):
    """Write a converted dataset: subjects 1..num_subjects, the first num_train in the train split.

    ``shape_std``: spread of the subjects' body shapes (pixels); ``jitter_std``: per-frame keypoint noise (pixels).
    Smaller shapes and more jitter make subjects harder to tell apart. ``start_range``: where each walk starts, x and
    y (pixels); a narrow range puts every walk on one path across the frame, as CASIA-B's cameras see their walkers."""
    rng = np.random.default_rng(seed)
    skel = get_skeleton(skeleton)
    v = skel.num_joints
    template = _COCO_TEMPLATE if v == 17 else np.vstack([_COCO_TEMPLATE, [[0, -30]]])[:v]
    swing = _SWING if v == 17 else np.append(_SWING, 0)[:v]
    poses, rows = [], []
    offset = 0
    for s in range(1, num_subjects + 1):
        shape = template + rng.normal(0, shape_std, size=template.shape).astype(np.float32)
        amp, cadence = rng.uniform(4, 14), rng.uniform(0.15, 0.45)
        for cond, n_seq in conditions:
            for k in range(1, n_seq + 1):
                for view in views:
                    t = int(rng.integers(length_range[0], length_range[1] + 1))
                    time = np.arange(t, dtype=np.float32)
                    phase = rng.uniform(0, 2 * np.pi)
                    start = rng.uniform(*start_range, size=2).astype(np.float32)
                    speed = rng.uniform(1, 3)
                    walk = np.cumsum(rng.normal(0, 0.5, size=(t, 1, 2)), axis=0).astype(np.float32)
                    xy = np.broadcast_to(shape, (t, v, 2)).copy()
                    xy[..., 0] += amp * swing[None] * np.sin(cadence * time[:, None] + phase)
                    xy += start + walk
                    xy[..., 0] += speed * time[:, None]
                    xy += rng.normal(0, jitter_std, size=xy.shape)
                    conf = rng.uniform(0.6, 1.0, size=(t, v, 1))
                    poses.append(np.concatenate([xy, conf], axis=-1).astype(np.float32))
                    rows.append(dict(subject=s, condition=cond, sequence=k, view=view,
                                     split="train" if s <= num_train else "test", offset=offset, length=t,
                                     source=f"synthetic:{s:03d}-{cond}-{k:02d}-{view:03d}"))
                    offset += t
    all_poses = np.concatenate(poses)
    frames = np.concatenate([np.arange(p.shape[0]) for p in poses]).astype(np.int32)
    meta = {"dataset": dataset, "skeleton": skel.name, "keypoints": keypoints, "synthetic": True}
    return write_dataset(path, all_poses, frames, pd.DataFrame(rows), meta)


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    """A CASIA-B-like converted dataset: 12 subjects (8 train / 4 test), views 0 and 90, 240 sequences."""
    return make_pose_dataset(tmp_path_factory.mktemp("data") / "casia-b")


@pytest.fixture(scope="session")
def untrained_coco17_checkpoint(tmp_path_factory):
    """An untrained GaitGraph2 checkpoint (ResGCN n21-r8, COCO-17, 16 frames) for end-to-end evaluation runs."""
    import torch

    from gaitgraph.checkpoints import ModelSpec, save_checkpoint

    torch.manual_seed(0)
    spec = ModelSpec(backbone="resgcn-n21-r8", skeleton="coco17", sequence_length=16)
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "model.ckpt", spec.create_model().eval(), spec)
