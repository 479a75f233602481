"""Operations on one pose sequence (T, V, 3) = pixel x, y, confidence."""

from __future__ import annotations

import numpy as np
import torch


def fill_missing_joints(poses: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """The original ``NormalizeEmpty``: joints with x == 0 get the frame's mean x, y and confidence 0.

    The mean is over *all* joints of the frame, zeros included, exactly as the original computes it.
    Works on any array whose last two axes are (V, 3); returns a new array of the same type.
    """
    if isinstance(poses, torch.Tensor):
        out = poses.clone()
        missing = out[..., 0] == 0
        mean = out[..., :2].mean(dim=-2, keepdim=True).expand_as(out[..., :2])
        xy = torch.where(missing.unsqueeze(-1), mean, out[..., :2])
        conf = torch.where(missing, torch.zeros_like(out[..., 2]), out[..., 2])
        return torch.cat([xy, conf.unsqueeze(-1)], dim=-1)
    out = np.array(poses, copy=True)
    missing = out[..., 0] == 0
    mean = np.broadcast_to(out[..., :2].mean(axis=-2, keepdims=True), out[..., :2].shape)
    out[..., :2] = np.where(missing[..., None], mean, out[..., :2])
    out[..., 2] = np.where(missing, 0, out[..., 2])
    return out
