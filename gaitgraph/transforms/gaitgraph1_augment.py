"""GaitGraph v1's value augmentations (``gaitgraph2.md`` §4 "G1"), vectorised over a batch on its device.

Per view, in the original's order after the frame selection (done by the loader): MirrorPoses (p 0.5, per
frame ``x' = 2 mean_x - x``, joint labels NOT swapped), PointNoise (Gaussian, sigma 0.05, on x, y and
confidence, no clamp), JointNoise (Gaussian, sigma 0.25, one x, y offset per joint, constant over time).
"""

from __future__ import annotations

import torch


class GaitGraph1Augment:
    """G1's value augmentations of a (N, L, V, 3) batch, vectorised, on the batch's device:
    MirrorPoses (p), then PointNoise N(0, point_noise_std) on all 3 channels, then JointNoise
    N(0, joint_noise_std) per joint on x, y, constant over time. (Mirroring is per frame, so applying it
    after the frame selection is the same as the original's before.)"""

    def __init__(self, mirror_poses_p: float = 0.5, point_noise_std: float = 0.05, joint_noise_std: float = 0.25):
        self.mirror_poses_p = mirror_poses_p
        self.point_noise_std = point_noise_std
        self.joint_noise_std = joint_noise_std

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if x.ndim != 4 or x.shape[-1] != 3:
            raise ValueError(f"expected (N, L, V, 3) poses, got {tuple(x.shape)}")
        n, t, v, _ = x.shape
        out = x.clone()
        if self.mirror_poses_p > 0:
            mirror = torch.rand(n, generator=generator, device=x.device) < self.mirror_poses_p
            xs = out[..., 0]
            mirrored = 2 * xs.mean(dim=2, keepdim=True) - xs  # per frame, about the mean joint x
            out[..., 0] = torch.where(mirror[:, None, None], mirrored, xs)
        if self.point_noise_std > 0:
            out += torch.randn(out.shape, generator=generator, device=x.device, dtype=x.dtype) * self.point_noise_std
        if self.joint_noise_std > 0:
            offset = torch.randn((n, 1, v, 2), generator=generator, device=x.device, dtype=x.dtype)
            out[..., :2] += offset * self.joint_noise_std
        return out
