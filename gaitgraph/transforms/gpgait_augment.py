"""GPGait's training input pipeline, vectorised over a batch (FastPoseGait ``trainer_cfg`` of ``configs/gpgait/*.yaml``).

The reference works per sample: its collate function picks the frames, then the transform list runs:

1. **Frames** (``sample_type: fixed_unordered``, ``frames_num_fixed`` F): ``np.random.choice(T, F, replace=T < F)``,
   i.e. F distinct frames in random order when the sequence has at least F, else F frames drawn with
   replacement. The order is lost either way (the network is invariant to it: attention sums over frames,
   pooling takes the maximum).
2. ``[Affine]`` (GREW, Gait3D and CCPG configs) -> ``RescaleCenter(neck, 225)``: :mod:`gaitgraph.transforms.hod`.
3. ``InversePosesPre(p)``: for every FRAME independently, with probability p, the left/right joint labels
   are swapped (coordinates stay): ``random() <= p``.
4. ``JointNoise(std)``: one N(0, std^2) (x, y) offset per joint, the same in all frames; confidence untouched.
5. ``HOD_MultiInput`` -> the network's (6, F, V) input.

Which of 3-4 a config uses, and with which values, is data (``gaitgraph/recipes/gpgait/*.yaml``). Here the
frame choice is one (N, F) index (:func:`sample_frame_index`, read with ``augment.gather_frames``); all
random numbers of a batch are drawn at once (:meth:`GPGaitAugment.draw`) and applied deterministically
(:meth:`GPGaitAugment.apply`), so ``tests/test_gpgait_augment.py`` checks every sample against a per-sample
oracle of the reference given the same draws, and the draws against the reference's distributions.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gaitgraph.skeleton import get_skeleton
from gaitgraph.transforms.augment import _check_lengths
from gaitgraph.transforms.hod import hod_input, rescale_center, spine_vertical

COCO17 = get_skeleton("coco17")


def sample_frame_index(lengths, num_frames: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """(N,) sequence lengths -> (N, F) frame indices as ``np.random.choice(T, F, replace=T < F)`` draws them.

    T >= F: a uniformly random ordered selection of F distinct frames (the first F of a random
    permutation: sort keys, frames beyond T last); T < F: F independent uniform frames.
    """
    lengths = _check_lengths(lengths)
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    n, dev = len(lengths), lengths.device
    if n == 0:
        return torch.zeros((0, num_frames), dtype=torch.long, device=dev)
    keys = torch.rand(n, int(lengths.max()), generator=generator, device=dev)
    keys = keys.masked_fill(torch.arange(keys.shape[1], device=dev) >= lengths[:, None], 2.0)
    distinct = keys.argsort(dim=1)[:, :num_frames]
    if distinct.shape[1] < num_frames:  # every sequence is shorter than F: only the with-replacement rows count
        distinct = torch.zeros((n, num_frames), dtype=torch.long, device=dev)
    u = torch.rand(n, num_frames, generator=generator, device=dev)
    repeated = torch.minimum((u * lengths[:, None]).long(), lengths[:, None] - 1)
    return torch.where((lengths < num_frames)[:, None], repeated, distinct)


@dataclass
class GPGaitDraws:
    """Every random number of one batch: which frames swap left/right, and the per-joint noise."""

    swap: torch.Tensor  # (N, F) bool
    joint_noise: torch.Tensor  # (N, V, 2), already times std


@dataclass
class GPGaitAugment:
    """The transform list of a GPGait training config on a (N, F, V, 3) batch of raw pixel poses.

    ``affine``: None, "reference" or "corrected" (Affine first); ``flip_p``: InversePosesPre's probability
    (0 = not in the config); ``joint_noise``: JointNoise's std (0 = not in the config).
    """

    affine: str | None = None
    height: float = 225.0
    flip_p: float = 0.1
    joint_noise: float = 0.3

    def draw(self, n: int, frames: int, generator: torch.Generator | None = None, device="cpu",
             dtype=torch.float32) -> GPGaitDraws:
        swap = torch.rand(n, frames, generator=generator, device=device) < self.flip_p
        noise = torch.randn(n, COCO17.num_joints, 2, generator=generator, device=device, dtype=dtype) * self.joint_noise
        return GPGaitDraws(swap, noise)

    def apply(self, x: torch.Tensor, draws: GPGaitDraws) -> torch.Tensor:
        """(N, F, V, 3) raw poses -> the poses HOD receives: [Affine], RescaleCenter, frame swaps, joint noise."""
        if x.ndim != 4 or x.shape[2:] != (COCO17.num_joints, 3):
            raise ValueError(f"expected (N, F, 17, 3) COCO-17 poses, got {tuple(x.shape)}")
        if self.affine is not None:
            x = spine_vertical(x, self.affine)
        x = rescale_center(x, self.height)
        n, f, v, _ = x.shape
        flip = torch.tensor(COCO17.flip_idx, device=x.device)
        order = torch.where(draws.swap[..., None], flip, torch.arange(v, device=x.device))  # (N, F, V)
        x = x.gather(2, order[..., None].expand(n, f, v, 3))
        noise = torch.cat([draws.joint_noise, torch.zeros_like(draws.joint_noise[..., :1])], dim=-1)
        return x + noise[:, None].to(x.dtype)

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """(N, F, V, 3) raw poses -> (N, 6, F, V) float32 network input with fresh draws."""
        draws = self.draw(x.shape[0], x.shape[1], generator, x.device)
        return hod_input(self.apply(x, draws))
