"""Batched network inputs from raw poses: the joint / velocity / bone branches (``gaitgraph2.md`` §3).

``build_input(x, skeleton)`` maps ``x`` (N, T, V, 3) = pixel x, y, confidence to (N, I, C, T, V).
Two channel layouts (``docs/model.md`` has the table):

* ``reference`` reproduces the original ``MultiInput`` bit for bit, index quirks included: the
  velocity branch loses Δ2x (channel 3 is overwritten by conf, channel 2 stays 0) and the bone
  branch loses its x angle the same way. Original checkpoints need this layout.
* ``corrected`` is what the original meant: velocity [Δ1x, Δ1y, Δ2x, Δ2y, conf] and bone
  [bx, by, |b|, angle, conf]. Same 5 channels per branch, so model shapes do not change.
"""

from __future__ import annotations

import torch

from gaitgraph.skeleton import Skeleton, get_skeleton

MODES = ("reference", "corrected")


def _forward_diff(v: torch.Tensor, step: int, valid: int) -> torch.Tensor:
    """``v[:, t + step] - v[:, t]`` for t < T - valid, zero for the last ``valid`` frames. v: (N, T, V)."""
    out = torch.zeros_like(v)
    t = v.shape[1]
    if t > valid:
        out[:, : t - valid] = v[:, step : t - valid + step] - v[:, : t - valid]
    return out


def build_input(
    x: torch.Tensor, skeleton: str | Skeleton, multi_branch: bool = True, mode: str = "reference"
) -> torch.Tensor:
    """(N, T, V, 3) raw poses -> (N, 3, 5, T, V) branches, or (N, 1, 3, T, V) with ``multi_branch=False``."""
    if mode not in MODES:
        raise ValueError(f"unknown feature mode {mode!r}; known: {', '.join(MODES)}")
    if x.dim() != 4 or x.shape[-1] != 3:
        raise ValueError(f"expected poses (N, T, V, 3), got {tuple(x.shape)}")
    skel = get_skeleton(skeleton)
    if x.shape[2] != skel.num_joints:
        raise ValueError(f"skeleton {skel.name} has {skel.num_joints} joints, poses have {x.shape[2]}")
    if not multi_branch:
        return x.permute(0, 3, 1, 2).unsqueeze(1)  # (N, 1, 3, T, V)

    px, py, conf = x.unbind(-1)  # each (N, T, V)
    zero = torch.zeros_like(px)
    c = skel.center
    joint = [px, py, conf, px - px[..., c : c + 1], py - py[..., c : c + 1]]

    parents = torch.tensor(skel.parents, device=x.device)
    bx, by = px - px[..., parents], py - py[..., parents]  # bone to the parent joint; root: 0
    norm = torch.sqrt(bx**2 + by**2)

    if mode == "reference":
        # the original writes Δ1 to channels 0-1 and Δ2 to 3-4 for t < T-2, then overwrites channel 3
        # with conf; the bone's arccos of bx lands in channel 3 and is overwritten by conf as well
        velocity = [_forward_diff(px, 1, 2), _forward_diff(py, 1, 2), zero, conf, _forward_diff(py, 2, 2)]
        bone = [bx, by, zero, conf, torch.arccos(by / (norm + 1e-4))]
    else:
        velocity = [_forward_diff(px, 1, 1), _forward_diff(py, 1, 1),
                    _forward_diff(px, 2, 2), _forward_diff(py, 2, 2), conf]
        bone = [bx, by, norm, torch.atan2(by, bx), conf]
    branches = [torch.stack(b, dim=1) for b in (joint, velocity, bone)]  # each (N, 5, T, V)
    return torch.stack(branches, dim=1)  # (N, 3, 5, T, V)
