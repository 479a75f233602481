"""Training batches as a function of (seed, epoch, rank, world size): one plan, two producers (issue 14).

A ``BatchPlan`` decides what batch ``b`` of epoch ``e`` on rank ``r`` holds and which random numbers
it uses, without touching data:

* the sequence order is ``torch.utils.data.DistributedSampler``'s, the sampler Lightning puts under
  DDP: a permutation drawn with ``seed + epoch``, padded to a multiple of the world size, rank ``r``
  taking every world-th entry from ``r`` on (one process: the whole permutation); batches are
  consecutive slices of it, the last one short;
* batch ``b`` draws its frame selection (``augment.frame_draws``) from a CPU generator and its value
  noise (``augment.BatchAugment``) from a generator on the training device, both seeded with
  (seed, epoch, rank, b, stream).

Two producers follow the plan and so give the same batches: the loader path here (``PlanSampler`` +
``PlannedBatches`` in a ``DataLoader``, frame selection and gather on the host, with or without
workers: the batches do not depend on ``num_workers``) and the device path
(``gaitgraph.training.device_batches``, the dataset held on the training device). Both leave the value
noise to ``augment_batch``, on the training device, after Lightning moved the batch there.
"""

from __future__ import annotations

import math
import os
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import Dataset, DistributedSampler

FRAMES, NOISE = 0, 1  # generator streams of a batch


class BatchKey(NamedTuple):
    """Which planned batch a batch dict holds (``batch["key"]``); a namedtuple survives collation."""

    epoch: int
    batch: int


def plan_seed(world: int = 1) -> int:
    """The seed Lightning gives its distributed sampler: ``PL_GLOBAL_SEED`` (``seed_everything``). Without
    it, one process uses torch's initial seed; several ranks use 0, as Lightning, so that they agree."""
    seed = os.environ.get("PL_GLOBAL_SEED")
    if seed is not None:
        return int(seed)
    return torch.initial_seed() if world == 1 else 0


class BatchPlan:
    """Rows and generators of every training batch of rank ``rank`` among ``world`` (no data held; picklable).

    ``rows``: the training rows of the sequence table, in table order.
    """

    def __init__(self, rows, batch_size: int, seed: int, rank: int = 0, world: int = 1):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.rows = np.asarray(rows, dtype=np.int64)
        if len(self.rows) == 0:
            raise ValueError("no training rows to plan batches from")
        self.batch_size, self.seed, self.rank, self.world = int(batch_size), int(seed), int(rank), int(world)
        self._sampler = DistributedSampler(range(len(self.rows)), num_replicas=self.world, rank=self.rank,
                                           shuffle=True, seed=self.seed, drop_last=False)
        self._order: tuple[int, np.ndarray] | None = None

    @property
    def num_samples(self) -> int:
        """Samples per epoch on this rank (DistributedSampler's: ceil(rows / world))."""
        return self._sampler.num_samples

    def __len__(self) -> int:
        """Batches per epoch on this rank."""
        return math.ceil(self.num_samples / self.batch_size)

    def order(self, epoch: int) -> np.ndarray:
        """(num_samples,) table rows of this rank's epoch, in batch order."""
        if self._order is None or self._order[0] != epoch:
            self._sampler.set_epoch(epoch)
            self._order = (epoch, self.rows[np.fromiter(iter(self._sampler), dtype=np.int64)])
        return self._order[1]

    def batch_slice(self, b: int) -> slice:
        """Batch ``b``'s positions in ``order(epoch)``."""
        if not 0 <= b < len(self):
            raise IndexError(f"batch {b} out of range: {len(self)} batches per epoch")
        return slice(b * self.batch_size, min((b + 1) * self.batch_size, self.num_samples))

    def batch_rows(self, epoch: int, b: int) -> np.ndarray:
        return self.order(epoch)[self.batch_slice(b)]

    def generator(self, epoch: int, b: int, stream: int, device="cpu") -> torch.Generator:
        """A generator on ``device`` seeded with (seed, epoch, rank, batch, stream), independent of the others."""
        words = np.random.SeedSequence([self.seed % (1 << 64), epoch, self.rank, b, stream]).generate_state(2)
        g = torch.Generator(device=device)
        g.manual_seed(int(words[0]) << 32 | int(words[1]))
        return g


class PlanSampler(DistributedSampler):
    """The keys ``BatchKey(epoch, b)`` of the current epoch's batches, for a ``DataLoader(batch_size=None)``.

    A ``DistributedSampler`` (of the plan's rows, with the plan's rank, world and seed) so that Lightning
    keeps it under DDP (it wraps only samplers that are not distributed) and calls ``set_epoch`` on it at
    every epoch, which is what the keys need.
    """

    def __init__(self, plan: BatchPlan):
        super().__init__(range(len(plan.rows)), num_replicas=plan.world, rank=plan.rank, shuffle=True,
                         seed=plan.seed, drop_last=False)
        self.plan = plan

    def __iter__(self):
        epoch = self.epoch
        return iter([BatchKey(epoch, b) for b in range(len(self.plan))])

    def __len__(self) -> int:
        return len(self.plan)


class PlannedBatches(Dataset):
    """Item ``BatchKey(e, b)`` = the batch dict of the plan's batch, read by ``collate(rows, generator)``
    (the DataModule's collate function: frame selection with that generator, gather, checks)."""

    def __init__(self, plan: BatchPlan, collate):
        self.plan, self.collate = plan, collate

    def __len__(self) -> int:
        return len(self.plan)

    def __getitem__(self, key: BatchKey) -> dict:
        epoch, b = key
        batch = self.collate(self.plan.batch_rows(epoch, b), generator=self.plan.generator(epoch, b, FRAMES))
        batch["key"] = BatchKey(epoch, b)
        return batch


def augment_batch(batch: dict, augment, plan: BatchPlan | None) -> dict:
    """The value noise of a planned batch on its device (with its NOISE generator); ``key`` is dropped."""
    key = batch.pop("key", None)
    if key is not None and plan is not None:
        poses = batch["poses"]
        batch["poses"] = augment(poses, generator=plan.generator(key.epoch, key.batch, NOISE, poses.device))
    return batch
