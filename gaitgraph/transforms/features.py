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

from functools import lru_cache

import torch

from gaitgraph.skeleton import Skeleton, get_skeleton

MODES = ("reference", "corrected")


@lru_cache(maxsize=32)
def _index(values: tuple[int, ...], device: torch.device) -> torch.Tensor:
    """An index tensor on ``device``, made once (a fresh one per batch is a blocking host-to-device copy)."""
    return torch.tensor(values, device=device)


def _forward_diff(out: torch.Tensor, v: torch.Tensor, step: int, valid: int) -> None:
    """``out[:, t] = v[:, t + step] - v[:, t]`` for t < T - valid, zero for the last ``valid`` frames.

    ``out`` and ``v`` are (N, T, V); ``out`` is written in place (it is a channel of the result)."""
    t = v.shape[1]
    out.zero_()
    if t > valid:
        torch.sub(v[:, step : t - valid + step], v[:, : t - valid], out=out[:, : t - valid])


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

    # Every channel is written once, in place, into the result: one pass over memory per channel
    # instead of building 15 tensors and stacking them (the feature step dominates batch preparation).
    n, t, v, _ = x.shape
    out = x.new_empty(n, 3, 5, t, v)
    joint, velocity, bone = out.unbind(1)  # each (N, 5, T, V)
    joint[:, :3].copy_(x.permute(0, 3, 1, 2))  # x, y, conf
    px, py, conf = joint[:, 0], joint[:, 1], joint[:, 2]  # contiguous (N, T, V) views
    c = skel.center
    torch.sub(px, px[..., c : c + 1], out=joint[:, 3])
    torch.sub(py, py[..., c : c + 1], out=joint[:, 4])

    parents = _index(tuple(skel.parents), x.device)
    bx, by = bone[:, 0], bone[:, 1]
    torch.sub(px, px[..., parents], out=bx)  # bone to the parent joint; root: 0
    torch.sub(py, py[..., parents], out=by)
    norm = torch.sqrt(bx * bx + by * by)

    if mode == "reference":
        # the original writes Δ1 to channels 0-1 and Δ2 to 3-4 for t < T-2, then overwrites channel 3
        # with conf; the bone's arccos of bx lands in channel 3 and is overwritten by conf as well
        _forward_diff(velocity[:, 0], px, 1, 2)
        _forward_diff(velocity[:, 1], py, 1, 2)
        velocity[:, 2].zero_()
        velocity[:, 3].copy_(conf)
        _forward_diff(velocity[:, 4], py, 2, 2)
        bone[:, 2].zero_()
        bone[:, 3].copy_(conf)
        torch.arccos(by / (norm + 1e-4), out=bone[:, 4])
    else:
        _forward_diff(velocity[:, 0], px, 1, 1)
        _forward_diff(velocity[:, 1], py, 1, 1)
        _forward_diff(velocity[:, 2], px, 2, 2)
        _forward_diff(velocity[:, 3], py, 2, 2)
        velocity[:, 4].copy_(conf)
        bone[:, 2].copy_(norm)
        torch.atan2(by, bx, out=bone[:, 3])
        bone[:, 4].copy_(conf)
    return out  # (N, 3, 5, T, V)
