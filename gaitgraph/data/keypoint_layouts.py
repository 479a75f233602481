"""Keypoint layouts of pose estimators and their mapping to our skeletons, by joint name.

Source layouts (joint names in file order, with the names of :mod:`gaitgraph.skeleton` where they
exist): COCO-17, COCO-18 (OpenPose-18, the OUMVLP-Pose order), BODY_25 (OpenPose), Halpe-26
(AlphaPose). Keypoints are mapped to the target layout (``coco17`` or ``openpose18``) BY JOINT NAME,
never by position: BODY_25's MidHip and feet are dropped, COCO-17 -> OpenPose-18 gets the neck as the
midpoint of the shoulders (confidence: the smaller of the two; (0, 0, 0) if a shoulder is missing).
A person whose value count is another known layout than the one declared is an error
(``layout_of``). See ``docs/own-data.md``.
"""

from __future__ import annotations

import functools

import numpy as np

from gaitgraph.data.errors import DataError
from gaitgraph.data.tracking import visible
from gaitgraph.skeleton import COCO17, OPENPOSE18, Skeleton, get_skeleton

# Source layouts: joint names in file order, with the names of gaitgraph.skeleton where they exist.
BODY25 = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist",
    "mid_hip", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
    "left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel",
)
HALPE26 = COCO17.joints + (
    "head", "neck", "mid_hip", "left_big_toe", "right_big_toe", "left_small_toe", "right_small_toe",
    "left_heel", "right_heel",
)
LAYOUTS: dict[str, tuple[str, ...]] = {
    "coco17": COCO17.joints, "coco18": OPENPOSE18.joints, "body25": BODY25, "halpe26": HALPE26,
}
LAYOUT_TITLES = {"coco17": "COCO-17", "coco18": "COCO-18 (OpenPose-18)", "body25": "BODY_25", "halpe26": "Halpe-26"}
KIND_LAYOUTS = {"alphapose": ("coco17", "halpe26"), "openpose": ("body25", "coco18"), "csv": ("coco17",)}


def joint_mapping(layout: str, target: str | Skeleton) -> tuple[np.ndarray, bool]:
    """Source index of every target joint (-1: computed) and whether the neck is the shoulder midpoint."""
    return _joint_mapping(layout, get_skeleton(target).name)


@functools.lru_cache(maxsize=None)
def _joint_mapping(layout: str, target: str) -> tuple[np.ndarray, bool]:
    names, skel = LAYOUTS[layout], get_skeleton(target)
    idx = np.array([names.index(j) if j in names else -1 for j in skel.joints])
    missing = [j for j, i in zip(skel.joints, idx) if i < 0]
    if missing not in ([], ["neck"]):
        raise ValueError(f"{LAYOUT_TITLES[layout]} has no joints {missing} of {skel.name}")
    return idx, bool(missing)


def remap(poses: np.ndarray, layout: str, target: str | Skeleton) -> np.ndarray:
    """(N, K, 3) in a source layout -> (N, V, 3) in the target skeleton, by joint name."""
    idx, neck_from_shoulders = joint_mapping(layout, target)
    out = poses[:, np.maximum(idx, 0)].astype(np.float32)
    if neck_from_shoulders:
        names = LAYOUTS[layout]
        left, right = poses[:, names.index("left_shoulder")], poses[:, names.index("right_shoulder")]
        both = (visible(left[:, None]) & visible(right[:, None]))[:, 0]
        neck = np.zeros_like(left, dtype=np.float32)
        neck[both, :2] = 0.5 * (left[both, :2] + right[both, :2])
        neck[both, 2] = np.minimum(left[both, 2], right[both, 2])
        out[:, int(np.flatnonzero(idx < 0)[0])] = neck
    return out


def layout_of(num_values: int, kind: str, declared: str, where: str) -> str | None:
    """The layout of a person with ``num_values`` numbers; None = malformed (skip), DataError = wrong layout."""
    found = next((name for name, joints in LAYOUTS.items() if 3 * len(joints) == num_values), None)
    allowed = KIND_LAYOUTS[kind]
    if declared != "auto":
        if found == declared:
            return found
        if found is not None:
            raise DataError(
                f"{where}: {num_values} values per person = {LAYOUT_TITLES[found]}, but --layout {declared} expects "
                f"{3 * len(LAYOUTS[declared])} ({LAYOUT_TITLES[declared]}); reading it as {declared} would put joints "
                f"in the wrong places. Use --layout {found if found in allowed else 'auto'}."
            )
        return None
    if found in allowed:
        return found
    if found is not None:
        raise DataError(f"{where}: {num_values} values per person = {LAYOUT_TITLES[found]}, which {kind} does not write "
                        f"(expected {' or '.join(LAYOUT_TITLES[a] for a in allowed)})")
    return None
