"""Training batches made on the training device, from poses held there (issue 14; ``docs/training.md``).

The loader path reads every batch on the host and copies it to the device (workers, collation, a
host-to-device copy per step). Here the converted dataset's training sequences are copied to the
device once, and each batch is made there from a ``BatchPlan`` (``gaitgraph.training.batch_plan``):
frame selection (``augment.train_frame_index``: pad, time flip, window, shuffle), the gather
(``augment.gather_frames``) and, in ``augment_batch`` afterwards, the value noise. Per epoch the
host sends only the order and the frame-selection draws (a few floats per sample, one copy); the
draws come from the plan's CPU generators, so the batches equal the loader path's, bit for bit.

Memory: the poses of the plan's rows (CASIA-B about 250 MB, OUMVLP-Pose about 2 GB as float32) stay
resident when they fit in ``budget_bytes`` (default: half of the device's free memory, or of the
host's available memory on CPU). Otherwise an epoch is cut into chunks of consecutive batches whose
sequences fit, each copied in one piece before its batches are made: one copy per chunk instead of
one per step. Under DDP every rank holds the whole training set when it fits, else the sequences of
its own part of each epoch (DistributedSampler order), chunk by chunk.
"""

from __future__ import annotations

import os
from typing import Callable

import numpy as np
import torch

from gaitgraph.training.batch_plan import FRAMES, BatchKey, BatchPlan, PlanSampler
from gaitgraph.transforms.augment import PadTable, frame_draws, gather_frames, train_frame_index

HOST_SLICE_FRAMES = 1 << 20  # frames read from the memory map per host slice (~70 MB for 17 joints)


def resolve_batches(option: str, device: torch.device) -> str:
    """``device`` or ``loader`` for ``--data.batches`` (``auto``: device on CUDA, the loader elsewhere)."""
    if option not in ("auto", "device", "loader"):
        raise ValueError(f"batches must be auto, device or loader, got {option!r}")
    if option == "auto":
        return "device" if torch.device(device).type == "cuda" else "loader"
    return option


def memory_budget(device: torch.device) -> int:
    """Bytes the resident poses may take: half of the free device memory (CUDA) or available host memory."""
    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return free // 2
    try:
        with open("/proc/meminfo") as f:
            info = dict(line.split(":", 1) for line in f)
        return int(info["MemAvailable"].split()[0]) * 1024 // 2
    except (OSError, KeyError, ValueError):
        return (os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")) // 2


class _Store:
    """The whole frames of some table rows on the device: ``poses`` (F', V, 3) and ``where`` (table rows,)
    = each row's first frame in ``poses`` (-1 for rows not held)."""

    def __init__(self, poses_mm: np.ndarray, offsets: np.ndarray, lengths: np.ndarray, rows: np.ndarray,
                 device: torch.device, bad_row_error: Callable[[int], Exception]):
        rows = np.unique(rows)
        lens = lengths[rows]
        starts = np.concatenate([[0], np.cumsum(lens)])
        self.poses = torch.empty((int(starts[-1]), *poses_mm.shape[1:]), dtype=torch.float32, device=device)
        where = np.full(len(offsets), -1, dtype=np.int64)
        where[rows] = starts[:-1]
        # host slices of whole sequences: bounded host memory, one copy each
        lo = 0
        while lo < len(rows):
            hi = int(np.searchsorted(starts, starts[lo] + HOST_SLICE_FRAMES, side="right")) - 1
            hi = min(max(hi, lo + 1), len(rows))
            # store position p of row i reads frame offsets[i] + (p - starts[i])
            frames = np.repeat(offsets[rows[lo:hi]] - starts[lo:hi], lens[lo:hi]) + np.arange(starts[lo], starts[hi])
            block = np.ascontiguousarray(poses_mm[frames], dtype=np.float32)
            finite = np.isfinite(block).reshape(len(block), -1).all(axis=1)
            if not finite.all():  # name the first sequence with a NaN/inf frame
                p = starts[lo] + int(np.flatnonzero(~finite)[0])
                raise bad_row_error(int(rows[np.searchsorted(starts, p, side="right") - 1]))
            self.poses[starts[lo] : starts[hi]].copy_(torch.from_numpy(block))
            lo = hi
        self.where = torch.from_numpy(where).to(device)
        self.nbytes = self.poses.numel() * self.poses.element_size()


class DeviceBatches:
    """Lightning's ``train_dataloader``: an iterable of training batch dicts already on ``device``.

    ``sampler`` is the plan's ``PlanSampler``: Lightning calls its ``set_epoch`` (as for a DataLoader).
    ``bad_row_error(row)``: the exception for a sequence with NaN/inf poses (checked as they are loaded).
    """

    def __init__(self, plan: BatchPlan, dataset, sequence_length: int, flip_sequence_p: float, shuffle: bool,
                 device, bad_row_error: Callable[[int], Exception], budget_bytes: int | None = None):
        self.plan, self.sampler = plan, PlanSampler(plan)
        self.device = torch.device(device)
        self.flip_sequence_p, self.shuffle = flip_sequence_p, shuffle
        self.bad_row_error = bad_row_error
        table = dataset.sequences
        self._poses_mm = dataset.poses  # (F, V, 3) memory map, read only when a store is built
        self._offsets = table["offset"].to_numpy(np.int64)
        self._lengths = table["length"].to_numpy(np.int64)
        if int(self._lengths[plan.rows].min()) < 1:
            raise ValueError("every training sequence needs at least one frame")
        self.lengths = torch.from_numpy(self._lengths).to(self.device)
        self.subjects = torch.from_numpy(table["subject"].to_numpy(np.int64)).to(self.device)
        self.pad = PadTable(sequence_length).to(self.device)
        self.frame_bytes = int(np.prod(self._poses_mm.shape[1:])) * 4
        self.budget = memory_budget(self.device) if budget_bytes is None else int(budget_bytes)
        self.resident = int(self._lengths[plan.rows].sum()) * self.frame_bytes <= self.budget
        self._store: _Store | None = None
        self.copies = 0  # host -> device copies of poses so far (one when resident)

    def __len__(self) -> int:
        return len(self.plan)

    def _load(self, rows: np.ndarray) -> _Store:
        self.copies += 1
        return _Store(self._poses_mm, self._offsets, self._lengths, rows, self.device, self.bad_row_error)

    def chunks(self, order: np.ndarray) -> list[range]:
        """Consecutive batches whose sequences fit the budget together (all of them when resident)."""
        n = len(self.plan)
        if self.resident:
            return [range(n)]
        out, first, used = [], 0, 0
        for b in range(n):
            need = int(self._lengths[order[self.plan.batch_slice(b)]].sum()) * self.frame_bytes
            if b > first and used + need > self.budget:
                out.append(range(first, b))
                first, used = b, 0
            used += need
        out.append(range(first, n))
        return out

    def _epoch_draws(self, epoch: int) -> dict[str, torch.Tensor]:
        """The frame-selection draws of every batch of the epoch (the plan's CPU generators), on the device."""
        per_batch = []
        for b in range(len(self.plan)):
            s = self.plan.batch_slice(b)
            g = self.plan.generator(epoch, b, FRAMES)
            per_batch.append(frame_draws(s.stop - s.start, self.pad.length, self.shuffle, generator=g))
        return {k: torch.cat([d[k] for d in per_batch]).to(self.device) for k in per_batch[0]}

    def __iter__(self):
        epoch = self.sampler.epoch
        order = self.plan.order(epoch)
        order_dev = torch.from_numpy(order).to(self.device)
        draws = self._epoch_draws(epoch)
        store = None
        for chunk in self.chunks(order):
            store = None  # a chunk's poses are freed before the next chunk is loaded
            if not self.resident:
                store = self._load(order[chunk.start * self.plan.batch_size : chunk.stop * self.plan.batch_size])
            elif self._store is None:
                self._store = store = self._load(self.plan.rows)
            else:
                store = self._store
            for b in chunk:
                s = self.plan.batch_slice(b)
                rows = order_dev[s]
                index = train_frame_index(self.lengths[rows], self.pad, self.flip_sequence_p, self.shuffle,
                                          draws={k: v[s] for k, v in draws.items()})
                poses = gather_frames(store.poses, store.where[rows], index)
                yield {"poses": poses, "subject": self.subjects[rows], "row": rows, "key": BatchKey(epoch, b)}
