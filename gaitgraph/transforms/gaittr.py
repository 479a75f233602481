"""GaitTR's input features and training augmentations (FastPoseGait ``data/transform.py``,
``data/collate_fn.py``, ``configs/gaittr/gaittr.yaml``), batched over (N, T, V, 3) poses.

**Input** (``gaittr_input``, the reference's ``GaitTR_MultiInput`` + ``SkeletonInput``): raw pixel x, y
(confidence dropped, no normalisation) -> 10 channels ``(N, 10, T, V)``::

    0, 1  x, y                      2, 3  x - x_c, y - y_c  (c = nose for coco17, neck for openpose18)
    4, 5  p[t+1] - p[t]             6, 7  p[t+2] - p[t]     (both 0 for the last two frames, t >= T - 2)
    8, 9  p - p_parent              (coco17: the nose's parent is the left shoulder, see ``bone_parents``)

``mode="corrected"`` gives the one-frame velocity for t = T - 2 as well (the reference zeroes it).

**Training** (``gaittr.yaml`` ``trainer_cfg``), per sample in the reference, batched here:

1. ``window_index``: the ``fixed_ordered`` sampler with 60 frames and ``frames_skip_num`` 0. A sequence
   shorter than 60 frames is repeated whole (``[0..T-1, 0..T-1, ...]``, ``ceil(60 / T)`` times) first; the
   window start is uniform over every admissible position (the last frame included).
2. ``GaitTRAugment``: ``PointNoise(std 0.3)`` (Gaussian, i.i.d. per frame, joint and channel, confidence
   included) -> ``InversePosesPre(p 0.1)`` (left/right joint *labels* swapped, coordinates untouched,
   decided **per frame**) -> ``JointNoise(std 0.3)`` (one Gaussian (x, y) offset per joint, constant in time).
3. ``gaittr_input`` as above.

Every random value is drawn first (``GaitTRAugment.draw``) and then applied (``apply``), so a per-sample
oracle can replay the same draws (``tests/test_method_transforms.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gaitgraph.skeleton import Skeleton, get_skeleton

MODES = ("reference", "corrected")
# the reference's connect_joint tables equal our skeletons' parents except coco17's root: FastPoseGait
# attaches the nose to the left shoulder (5), so the nose gets a bone too (ours: the nose is the root)
_PARENT_OVERRIDES = {"coco17": {0: 5}}


def bone_parents(skeleton: str | Skeleton) -> tuple[int, ...]:
    """Parent of every joint for GaitTR's bone channels (FastPoseGait's ``connect_joint``)."""
    skel = get_skeleton(skeleton)
    parents = list(skel.parents)
    for joint, parent in _PARENT_OVERRIDES.get(skel.name, {}).items():
        parents[joint] = parent
    return tuple(parents)


def gaittr_input(x: torch.Tensor, skeleton: str | Skeleton, mode: str = "reference") -> torch.Tensor:
    """(N, T, V, >= 2) raw poses -> (N, 10, T, V) GaitTR input channels (same dtype)."""
    if mode not in MODES:
        raise ValueError(f"unknown GaitTR feature mode {mode!r}; known: {', '.join(MODES)}")
    skel = get_skeleton(skeleton)
    if x.dim() != 4 or x.shape[2] != skel.num_joints or x.shape[3] < 2:
        raise ValueError(f"expected (N, T, {skel.num_joints}, 3) poses for {skel.name}, got {tuple(x.shape)}")
    p = x[..., :2].permute(0, 3, 1, 2)  # (N, 2, T, V)
    t = p.shape[2]
    rel = p - p[..., skel.center : skel.center + 1]
    v1, v2 = torch.zeros_like(p), torch.zeros_like(p)
    if t > 2:
        v2[:, :, : t - 2] = p[:, :, 2:] - p[:, :, :-2]
    last = t - 1 if mode == "corrected" else t - 2  # the reference stops the one-frame velocity at T - 2 too
    if last > 0:
        v1[:, :, :last] = p[:, :, 1 : last + 1] - p[:, :, :last]
    bones = p - p[..., list(bone_parents(skel))]
    return torch.cat([p, rel, v1, v2, bones], dim=1)


def window_index(lengths: torch.Tensor, length: int = 60, u: torch.Tensor | None = None,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """(N, L) frame index of FastPoseGait's ``fixed_ordered`` sampling (no frame skipping).

    ``u`` (N,) uniform [0, 1) values pick the start (drawn when not given): ``start = floor(u * S)`` over the
    ``S = T' - L + 1`` admissible starts of the sequence repeated to ``T' = T * ceil(L / T)`` frames (T' = T
    when T >= L); frame j is ``(start + j) mod T``.
    """
    lengths = torch.as_tensor(lengths, dtype=torch.long)
    if lengths.dim() != 1 or (len(lengths) and int(lengths.min()) < 1) or length < 1:
        raise ValueError(f"need 1-D lengths >= 1 and length >= 1, got lengths {tuple(lengths.shape)}, length {length}")
    if u is None:
        u = torch.rand(len(lengths), generator=generator, device=lengths.device)
    repeats = torch.where(lengths < length, -(-length // lengths), torch.ones_like(lengths))  # ceil(L / T)
    span = lengths * repeats - length + 1
    start = torch.minimum((u.double() * span).long(), span - 1)
    return (start[:, None] + torch.arange(length, device=lengths.device)) % lengths[:, None]


@dataclass
class GaitTRAugment:
    """GaitTR's training noise on a (N, T, V, 3) batch of gathered frames (pixels), on its device.

    ``per_frame_flip=True`` is the reference (``InversePosesPre`` decides for every frame on its own);
    ``False`` decides once per sequence (``docs/fidelity.md``, GaitTR).
    """

    skeleton: str | Skeleton = "coco17"
    point_noise_std: float = 0.3
    flip_lr_p: float = 0.1
    joint_noise_std: float = 0.3
    per_frame_flip: bool = True

    def __post_init__(self):
        self.skeleton = get_skeleton(self.skeleton)
        self._flip_idx = torch.tensor(self.skeleton.flip_idx, dtype=torch.long)

    def draw(self, shape, generator: torch.Generator | None = None, device=None, dtype=torch.float32) -> dict:
        """Every random value one call uses: ``point`` (N, T, V, 3), ``flip_u`` (N, T or 1), ``joint`` (N, V, 2)."""
        n, t, v, c = shape
        kw = dict(generator=generator, device=device, dtype=dtype)
        return {
            "point": torch.randn((n, t, v, c), **kw) * self.point_noise_std,
            "flip_u": torch.rand((n, t if self.per_frame_flip else 1), **kw),
            "joint": torch.randn((n, v, 2), **kw) * self.joint_noise_std,
        }

    def apply(self, x: torch.Tensor, draws: dict) -> torch.Tensor:
        n, t, v, _ = x.shape
        out = x + draws["point"]
        swap = (draws["flip_u"] <= self.flip_lr_p).expand(n, t)  # the reference's `random() <= p`
        order = torch.where(swap[..., None], self._flip_idx.to(x.device), torch.arange(v, device=x.device))
        out = out.gather(2, order[..., None].expand(n, t, v, out.shape[3]))
        out[..., :2] += draws["joint"][:, None]
        return out

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if x.dim() != 4 or x.shape[2] != self.skeleton.num_joints:
            raise ValueError(f"expected (N, T, {self.skeleton.num_joints}, C) poses, got {tuple(x.shape)}")
        return self.apply(x, self.draw(x.shape, generator, x.device, x.dtype))


def training_input(x: torch.Tensor, augment: GaitTRAugment, mode: str = "reference",
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Gathered (N, L, V, 3) training frames -> augmented network input (N, 1, 10, L, V)."""
    return gaittr_input(augment(x, generator), augment.skeleton, mode).unsqueeze(1)
