"""Skeleton layouts as data: joint names, edges, centre joint, bone parents, left/right flip.

Two layouts are used by GaitGraph2 (reference: ``gaitgraph2.md`` §2 and §4):

* ``coco17`` — the 17 COCO keypoints written by HRNet for CASIA-B (``casia-b_pose_coco.csv``).
* ``openpose18`` — the 18-point OpenPose-COCO order used by both the OpenPose and the AlphaPose
  releases of OUMVLP-Pose.

The graph work (undirected ``edge_index``, hop distances) goes through torch-geometric.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch is imported lazily: the data commands need only numpy (saves ~2 s per call)
    import torch


@dataclass(frozen=True)
class Skeleton:
    """One keypoint layout. Indices refer to positions in ``joints``."""

    name: str
    joints: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]  # bones of the graph, without self loops
    center: int  # joint the "relative to centre" features are taken from
    parents: tuple[int, ...]  # bone table: parent of every joint (root = itself)
    flip_idx: tuple[int, ...]  # left/right permutation (swaps joint labels, not coordinates)
    parts: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        v = len(self.joints)
        if len(self.parents) != v or len(self.flip_idx) != v:
            raise ValueError(f"skeleton {self.name!r}: parents/flip_idx must have {v} entries")
        if sorted(self.flip_idx) != list(range(v)):
            raise ValueError(f"skeleton {self.name!r}: flip_idx is not a permutation")
        for a, b in self.edges:
            if not (0 <= a < v and 0 <= b < v) or a == b:
                raise ValueError(f"skeleton {self.name!r}: bad edge ({a}, {b})")

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    def index(self, joint: str) -> int:
        """Position of a joint by name (``ValueError`` naming the known joints otherwise)."""
        try:
            return self.joints.index(joint)
        except ValueError:
            raise ValueError(f"skeleton {self.name!r} has no joint {joint!r}; joints: {', '.join(self.joints)}") from None

    @cached_property
    def edge_index(self) -> "torch.Tensor":
        """Undirected ``(2, 2E)`` edge index, as torch-geometric expects it."""
        import torch
        from torch_geometric.utils import to_undirected

        directed = torch.tensor(self.edges, dtype=torch.long).t()
        return to_undirected(directed, num_nodes=self.num_joints)

    @cached_property
    def hop_distance(self) -> np.ndarray:
        """``(V, V)`` shortest-path length in bones; ``inf`` where unreachable."""
        from torch_geometric.utils import to_dense_adj

        v = self.num_joints
        adj = to_dense_adj(self.edge_index, max_num_nodes=v)[0].numpy() > 0
        dist = np.full((v, v), np.inf)
        np.fill_diagonal(dist, 0)
        reach = np.eye(v, dtype=bool)
        for hop in range(1, v):
            nxt = ((reach.astype(np.int64) @ adj.astype(np.int64)) > 0) | reach
            new = nxt & ~reach
            if not new.any():
                break
            dist[new] = hop
            reach = nxt
        return dist


COCO17 = Skeleton(
    name="coco17",
    joints=(
        "nose", "left_eye", "right_eye", "left_ear", "right_ear",
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
        "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    ),
    edges=(
        (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 6), (5, 7), (7, 9), (6, 8),
        (8, 10), (5, 11), (6, 12), (11, 12), (11, 13), (13, 15), (12, 14), (14, 16),
    ),
    center=0,
    parents=(0, 0, 0, 1, 2, 0, 0, 5, 6, 7, 8, 5, 6, 11, 12, 13, 14),
    flip_idx=(0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15),
    parts={
        "left_arm": (5, 7, 9), "right_arm": (6, 8, 10),
        "left_leg": (11, 13, 15), "right_leg": (12, 14, 16), "head": (0, 1, 2, 3, 4),
    },
)

OPENPOSE18 = Skeleton(
    name="openpose18",
    joints=(
        "nose", "neck", "right_shoulder", "right_elbow", "right_wrist",
        "left_shoulder", "left_elbow", "left_wrist", "right_hip", "right_knee", "right_ankle",
        "left_hip", "left_knee", "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear",
    ),
    edges=(
        (0, 1), (0, 14), (0, 15), (14, 16), (15, 17), (1, 2), (2, 3), (3, 4), (1, 5),
        (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
    ),
    center=1,
    parents=(1, 1, 1, 2, 3, 1, 5, 6, 2, 8, 9, 5, 11, 12, 0, 0, 14, 15),
    flip_idx=(0, 1, 5, 6, 7, 2, 3, 4, 11, 12, 13, 8, 9, 10, 15, 14, 17, 16),
    parts={
        "left_arm": (5, 6, 7), "right_arm": (2, 3, 4),
        "left_leg": (11, 12, 13), "right_leg": (8, 9, 10), "head": (0, 1, 14, 15, 16, 17),
    },
)

SKELETONS: dict[str, Skeleton] = {s.name: s for s in (COCO17, OPENPOSE18)}
# Names the original code and configs use for the same layouts.
_ALIASES = {"coco": "coco17", "oumvlp": "openpose18", "openpose": "openpose18", "alphapose": "openpose18"}


def get_skeleton(name: str | Skeleton) -> Skeleton:
    """Look a layout up by name (``coco17``, ``openpose18`` or an original alias)."""
    if isinstance(name, Skeleton):
        return name
    key = _ALIASES.get(name, name)
    if key not in SKELETONS:
        raise ValueError(f"unknown skeleton {name!r}; known: {', '.join(SKELETONS)} (aliases: {', '.join(_ALIASES)})")
    return SKELETONS[key]


def skeleton_for_joints(num_joints: int) -> Skeleton:
    """The layout with ``num_joints`` joints (17 → coco17, 18 → openpose18)."""
    for s in SKELETONS.values():
        if s.num_joints == num_joints:
            return s
    raise ValueError(f"no skeleton layout has {num_joints} joints (known: coco17 = 17, openpose18 = 18)")


def joint_order(source: str | Skeleton, target: str | Skeleton) -> tuple[int, ...]:
    """The index into ``source``'s joints of every joint of ``target``, matched by name (openpose18 -> coco17:
    the neck dropped, the rest reordered); ``ValueError`` naming the joints ``source`` lacks."""
    src, dst = get_skeleton(source), get_skeleton(target)
    missing = [j for j in dst.joints if j not in src.joints]
    if missing:
        raise ValueError(f"skeleton {src.name} has no joints {', '.join(missing)} of {dst.name}")
    return tuple(src.joints.index(j) for j in dst.joints)
