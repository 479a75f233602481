"""Operations on one pose sequence (T, V, 3) = pixel x, y, confidence."""

from __future__ import annotations

import numpy as np
import torch


def fill_missing_joints(poses: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """The original ``NormalizeEmpty`` (OUMVLP-Pose validation/test transform), for any number of missing joints.

    The original first lists the missing joints of every frame -- x == 0 in the *input*, tested once
    before anything is filled (so -0.0 counts, y and confidence are not looked at) -- and then fills
    them one at a time, in joint order, in place: each gets the mean x and y over all V joints of its
    frame *as they are at that moment* (zeros of joints still to fill, values of joints already filled,
    its own y included) and confidence 0. Later joints therefore see the earlier fills.

    Closed form, per frame and channel c in {x, y}: with r = 1 + 1/V, the missing joints
    m_1 < ... < m_K and S_0 the channel's sum over the frame, filling m_k replaces c[m_k] by the mean
    S_{k-1}/V, so S_k = r S_{k-1} - c[m_k] and the k-th filled value is::

        S_{k-1} / V = r^(k-1) / V * (S_0 - sum_{i<k} c[m_i] r^(-i))

    For x every c[m_i] is 0 (that is what makes the joint missing), so x gets (S_0/V) r^(k-1). The sums run
    in float64 over the whole array at once and the result keeps the input's dtype; the original adds
    in float32, one joint after the other, so the two agree to float32 rounding.

    ``poses``: numpy array or torch tensor whose last two axes are (V, 3) = x, y, conf; returns a new
    array of the same type, shape and dtype.
    """
    if isinstance(poses, torch.Tensor):
        return _fill_missing(poses)
    poses = np.asarray(poses)
    return _fill_missing(torch.from_numpy(poses.astype(np.float64))).numpy().astype(poses.dtype)


def _fill_missing(poses: torch.Tensor) -> torch.Tensor:
    v = poses.shape[-2]
    r = 1.0 + 1.0 / v
    x = poses.to(torch.float64)
    missing = poses[..., 0] == 0  # (..., V), tested once, on the input
    k = missing.to(torch.float64).cumsum(-1)  # fill rank of each missing joint: 1, 2, ...
    term = x[..., :2] * torch.where(missing, r ** -k, 0.0)[..., None]  # c[m_i] r^(-i); 0 at visible joints
    before = term.cumsum(-2) - term  # sum over the joints of the frame filled before this one
    filled = (x[..., :2].sum(-2, keepdim=True) - before) * (r ** (k - 1))[..., None] / v
    out = torch.cat([torch.where(missing[..., None], filled, x[..., :2]),
                     torch.where(missing, 0.0, x[..., 2])[..., None]], dim=-1)
    return out.to(poses.dtype)


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
