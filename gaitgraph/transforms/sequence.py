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


def _take(seq, idx: np.ndarray):
    """``seq[idx]`` along the time axis for numpy arrays and torch tensors alike."""
    if isinstance(seq, torch.Tensor):
        return seq[torch.from_numpy(idx).to(seq.device)]
    return np.asarray(seq)[idx]


def pad_indices(num_frames: int, length: int) -> np.ndarray:
    """Frame indices of the original ``PadSequence(length)`` for a sequence of ``num_frames``.

    Only sequences with T <= L are padded (longer ones are returned whole). With
    ``diff = L + 1 - T``, ``pre = ceil(diff / 2)`` and ``post = floor(diff / 2) + 1``: while ``pre`` or
    ``post`` exceeds the current length, the sequence is tiled as [reversed, seq, reversed]; then
    ``pre - 1`` mirrored frames go in front and ``post`` mirrored frames behind, both without repeating
    the edge frame, and the result is cut to L. ``pre``/``post`` are not recomputed after tiling.
    """
    if num_frames < 1:
        raise ValueError("cannot pad a sequence with no frames")
    idx = np.arange(num_frames)
    if num_frames > length:
        return idx
    diff = length + 1 - num_frames
    pre, post = -(-diff // 2), diff // 2 + 1
    while pre > len(idx) or post > len(idx):
        idx = np.concatenate([idx[::-1], idx, idx[::-1]])
    head = idx[1:pre][::-1]  # x[1:pre] reversed: pre - 1 frames
    tail = idx[-1 - post : -1][::-1]  # x[-1-post:-1] reversed: post frames
    return np.concatenate([head, idx, tail])[:length]


def pad_sequence(seq, length: int):
    """Reflection padding of a (T, ...) sequence to ``length`` frames, exactly as the original."""
    return _take(seq, pad_indices(len(seq), length))


def center_crop(seq, length: int):
    """The original ``SelectSequenceCenter``: frames ``[start, start + L)`` with ``start = int(T/2 - L/2)``."""
    start = int(len(seq) / 2 - length / 2)
    if start < 0:
        raise ValueError(f"sequence of {len(seq)} frames is shorter than {length}; pad it first")
    return seq[start : start + length]


def to_length(seq, length: int):
    """The original test pipeline's length handling: ``pad_sequence`` then ``center_crop``."""
    return center_crop(pad_sequence(seq, length), length)
