"""Training augmentations of GaitGraph2, vectorised over the batch (``gaitgraph2.md`` §3).

The original runs, per sample: PadSequence(L) -> RandomFlipSequence(0.5) -> RandomSelectSequence(L)
-> ShuffleSequence (ablation) -> RandomFlipLeftRight(0.5) -> JointNoise(0.1) -> PointNoise(0.05)
-> RandomMove((3, 1)). Here the work is split in two batched stages:

1. **Frame selection** (``train_frame_index``, ``center_frame_index``): padding, time reversal, the
   random window and the frame shuffle only choose *which* frames go where, so they are computed as a
   (N, L) index into each raw sequence — index arithmetic on a few small integer tensors, with the
   reflection padding looked up in a per-length table (``PadTable``, built once per L). One gather
   (``gather_frames``) then reads exactly the N x L frames needed, straight from the memory-mapped
   dataset; no sequence is ever copied whole.
2. **Value noise** (``BatchAugment``) on the gathered (N, L, V, 3) batch, on the training device:
   left/right joint swap, joint noise, point noise (confidence clamped to [0, 1]), random move.

The draws follow the original's distributions exactly (``tests/test_augment.py`` holds the per-sample
oracle and checks means, variances, probabilities, and the padding index exactly). Noise magnitudes
are in pixels, as the original has no coordinate normalisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gaitgraph.skeleton import Skeleton, get_skeleton
from gaitgraph.transforms.sequence import pad_indices


class PadTable:
    """Reflection-padding index maps for every length 1..L: ``table[T]`` is ``pad_indices(T, L)``.

    Row 0 is unused. Lengths > L need no padding. Built once per L (L rows of L ints).
    """

    def __init__(self, length: int):
        if length < 1:
            raise ValueError(f"sequence length must be >= 1, got {length}")
        self.length = length
        table = np.zeros((length + 1, length), dtype=np.int64)
        for t in range(1, length + 1):
            table[t] = pad_indices(t, length)
        self.table = torch.from_numpy(table)  # (L + 1, L)

    def to(self, device) -> "PadTable":
        self.table = self.table.to(device)
        return self


def _check_lengths(lengths: torch.Tensor) -> torch.Tensor:
    lengths = torch.as_tensor(lengths, dtype=torch.long)
    if lengths.ndim != 1:
        raise ValueError(f"lengths must be 1-D, got shape {tuple(lengths.shape)}")
    if len(lengths) and int(lengths.min()) < 1:
        raise ValueError("every sequence needs at least one frame")
    return lengths


def _base_index(lengths: torch.Tensor, pad: PadTable, start: torch.Tensor) -> torch.Tensor:
    """(N, L) frame index: padded map for T <= L, else the window ``start + arange(L)``."""
    L = pad.length
    ar = torch.arange(L, device=lengths.device)
    short = lengths <= L
    padded = pad.table[lengths.clamp(max=L)]  # (N, L); rows of long sequences are discarded below
    window = start[:, None] + ar[None, :]
    return torch.where(short[:, None], padded, window)


def center_frame_index(lengths: torch.Tensor, pad: PadTable) -> torch.Tensor:
    """Evaluation frames: PadSequence(L) then SelectSequenceCenter(L), ``start = int(T/2 - L/2)``."""
    lengths = _check_lengths(lengths)
    L = pad.length
    # int(T/2 - L/2) truncates towards zero; for T > L the value is positive, so floor == trunc
    start = torch.div(lengths - L, 2, rounding_mode="floor")
    # T - L odd: T/2 - L/2 = k + 0.5 -> int() = k = floor((T - L) / 2), same as above
    return _base_index(lengths, pad, start.clamp(min=0))


def frame_draws(n: int, length: int, shuffle: bool = False, generator: torch.Generator | None = None,
                device=None) -> dict[str, torch.Tensor]:
    """Every random value ``train_frame_index`` uses for ``n`` samples, in the order it draws them:
    ``flip_u`` (N,) and ``start_u`` (N,) uniform [0, 1), plus ``shuffle_u`` (N, L) with ``shuffle``."""
    draws = {k: torch.rand(n, generator=generator, device=device) for k in ("flip_u", "start_u")}
    if shuffle:
        draws["shuffle_u"] = torch.rand(n, length, generator=generator, device=device)
    return draws


def train_frame_index(
    lengths: torch.Tensor,
    pad: PadTable,
    flip_sequence_p: float = 0.5,
    shuffle: bool = False,
    generator: torch.Generator | None = None,
    draws: dict[str, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Training frames: pad, RandomFlipSequence, RandomSelectSequence, ShuffleSequence as one (N, L) index.

    RandomSelectSequence draws ``start ~ U{0, ..., T - L - 1}`` on the (possibly reversed) sequence,
    as the original does (its window never ends on the last frame); sequences with T <= L are only
    padded. The time flip happens before the window is drawn, so a flipped sample reads frame
    ``T - 1 - (start + j)`` of the raw sequence. ``draws`` (``frame_draws``, on ``lengths``' device)
    replaces the random numbers otherwise drawn here with ``generator``.
    """
    lengths = torch.as_tensor(lengths, dtype=torch.long)
    if lengths.device.type == "cpu":  # on an accelerator the check would wait for it (device_batches checks once)
        _check_lengths(lengths)
    n, L = len(lengths), pad.length
    if draws is None:
        draws = frame_draws(n, L, shuffle, generator, lengths.device)
    flip = draws["flip_u"] < flip_sequence_p
    span = (lengths - L).clamp(min=1)  # number of admissible starts for T > L
    start = torch.minimum((draws["start_u"] * span).long(), span - 1)
    long_seq = lengths > L
    idx = _base_index(lengths, pad, torch.where(long_seq, start, torch.zeros_like(start)))
    # padded sequences are reversed as a whole (L frames); long ones read the reversed raw sequence
    rev_padded = idx.flip(1)
    rev_long = lengths[:, None] - 1 - idx
    rev = torch.where(long_seq[:, None], rev_long, rev_padded)
    idx = torch.where(flip[:, None], rev, idx)
    if shuffle:
        idx = idx.gather(1, draws["shuffle_u"].argsort(dim=1))
    return idx


def gather_frames(poses, offsets, index: torch.Tensor) -> torch.Tensor:
    """Read frames ``poses[offsets[i] + index[i, j]]`` -> (N, L, V, 3) float32 tensor.

    ``poses`` is the dataset's (F, V, 3) array (a numpy memmap or a tensor).
    """
    index = torch.as_tensor(index, dtype=torch.long)
    if not isinstance(offsets, torch.Tensor):
        offsets = torch.from_numpy(np.asarray(offsets, dtype=np.int64))
    offsets = offsets.to(device=index.device, dtype=torch.long)
    rows = (offsets[:, None] + index).reshape(-1)
    if isinstance(poses, torch.Tensor):
        out = poses[rows.to(poses.device)]
    else:
        out = torch.from_numpy(np.ascontiguousarray(poses[rows.cpu().numpy()], dtype=np.float32))
    return out.reshape(index.shape[0], index.shape[1], *out.shape[1:])


@dataclass
class BatchAugment:
    """Value augmentations of a (N, L, V, 3) batch (pixel x, y, conf), on the batch's device.

    Arguments and defaults are the original DataModule's.
    """

    skeleton: str | Skeleton = "coco17"
    flip_lr_p: float = 0.5
    joint_noise: float = 0.1
    point_noise: float = 0.05
    random_move: tuple[float, float] = (3.0, 1.0)

    def __post_init__(self):
        self.skeleton = get_skeleton(self.skeleton)
        self._flip_idx = torch.tensor(self.skeleton.flip_idx, dtype=torch.long)
        self._on_device: dict = {}  # constants per (device, dtype): no host-to-device copy per batch
        move = tuple(self.random_move) if isinstance(self.random_move, (tuple, list)) else (self.random_move,) * 2
        if len(move) != 2:
            raise ValueError(f"random_move needs (x, y) magnitudes, got {self.random_move!r}")
        self.random_move = (float(move[0]), float(move[1]))

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if x.ndim != 4 or x.shape[-1] != 3 or x.shape[2] != self.skeleton.num_joints:
            raise ValueError(f"expected (N, L, {self.skeleton.num_joints}, 3) poses, got {tuple(x.shape)}")
        n, t, v, _ = x.shape
        dev, dt = x.device, x.dtype
        if self.flip_lr_p > 0:
            # RandomFlipLeftRight: swap the joint labels only, coordinates stay as they are;
            # one gather with a per-sample joint order (identity or flip_idx)
            swap = torch.rand(n, generator=generator, device=dev) < self.flip_lr_p
            order = torch.where(swap[:, None], self._constants(dev, dt)[0], torch.arange(v, device=dev))
            out = x.gather(2, order[:, None, :, None].expand(n, t, v, 3))
        else:
            out = x.clone()
        if self.point_noise > 0:
            # PointNoise: i.i.d. per frame, joint and channel (conf included), conf clamped below
            out += torch.empty_like(out).uniform_(-self.point_noise, self.point_noise, generator=generator)
        # JointNoise (one x, y offset per joint, constant over time) and RandomMove (one x, y offset per
        # sequence): both constant over time, so they are summed first and added in one pass
        offset = torch.zeros((n, 1, v, 2), device=dev, dtype=dt)
        if self.joint_noise > 0:
            offset.uniform_(-self.joint_noise, self.joint_noise, generator=generator)
        mx, my = self.random_move
        if mx > 0 or my > 0:
            move = torch.rand((n, 1, 1, 2), generator=generator, device=dev, dtype=dt).mul_(2).sub_(1)
            offset += move * self._constants(dev, dt)[1]
        if self.joint_noise > 0 or mx > 0 or my > 0:
            out[..., :2] += offset
        if self.point_noise > 0:
            out[..., 2].clamp_(0.0, 1.0)
        return out

    def _constants(self, device, dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """(flip_idx, random_move magnitudes) on ``device``, copied there once."""
        key = (torch.device(device), dtype)
        if key not in self._on_device:
            move = torch.tensor(self.random_move, dtype=dtype)
            self._on_device[key] = (self._flip_idx.to(device), move.to(device))
        return self._on_device[key]

    @staticmethod
    def _uniform(shape, a: float, generator, device, dtype) -> torch.Tensor:
        return torch.rand(shape, generator=generator, device=device, dtype=dtype).mul_(2 * a).sub_(a)
