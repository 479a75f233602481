"""``PKSampler``: P identities x K sequences per batch, the triplet-style batches of GaitTR, GPGait and GaitMixer.

The references draw every batch as FastPoseGait's ``TripletSampler`` does (``data/sampler.py``): P identities
without replacement (with replacement only when there are fewer than P), then K sequences of each without
replacement (with replacement for an identity with fewer than K), batch after batch with no notion of an
epoch. GaitMixer's ``BalancedBatchSampler`` is the same draw with P = every training identity.

pytorch-metric-learning's ``MPerClassSampler`` draws the same kind of batch, but it cannot serve here: it
refuses fewer identities than P (GaitMixer's P = 74 with 8 subjects held out for validation) and draws from
numpy's global random state, so the ranks of a DDP run would have to keep that state in step. This sampler
draws from its own generator seeded with (seed, epoch), so every rank draws the same global batch and takes
its slice ``batch[rank::world]``, as ``TripletSampler`` does; it is a ``DistributedSampler`` so that Lightning
leaves it alone under DDP and hands it the epoch (``set_epoch``) also when a run resumes.

An epoch is ``num_batches`` global batches (the references count iterations: a recipe sets it, e.g. to the
1000 iterations between FastPoseGait's checkpoints); each rank's loader groups the indices it yields into
batches of ``P * K / world``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DistributedSampler


def draw(pool: np.ndarray, k: int, generator: torch.Generator) -> np.ndarray:
    """``k`` entries of ``pool``: without replacement, or with replacement when the pool is smaller than ``k``."""
    if len(pool) >= k:
        pick = torch.randperm(len(pool), generator=generator)[:k]
    else:
        pick = torch.randint(len(pool), (k,), generator=generator)
    return pool[pick.numpy()]


class PKSampler(DistributedSampler):
    """Indices into a training set whose item ``i`` has identity ``labels[i]``: ``num_batches`` global batches of
    ``identities`` x ``per_identity`` (see the module docstring), this rank's slice of each.

    ``identities=None`` puts every identity in every batch (GaitMixer). ``copies[i]`` (default 1) counts item
    ``i`` that many times in its identity's pool (GaitMixer's bg/cl sequences: 3). ``num_batches=None``: as many
    batches as fit into one pass over the items, at least one.
    """

    def __init__(self, labels, identities: int | None, per_identity: int, *, copies=None,
                 num_batches: int | None = None, num_replicas: int = 1, rank: int = 0, seed: int = 0):
        labels = np.asarray(labels)
        super().__init__(labels, num_replicas=num_replicas, rank=rank, shuffle=True, seed=seed)
        if len(labels) == 0:
            raise ValueError("no training sequences to sample batches from")
        copies = np.ones(len(labels), np.int64) if copies is None else np.asarray(copies, np.int64)
        if copies.shape != labels.shape or (copies < 1).any():
            raise ValueError(f"copies must be one count >= 1 per item, got shape {copies.shape} for {len(labels)} items")
        self.ids, inverse = np.unique(labels, return_inverse=True)
        items = np.repeat(np.arange(len(labels)), copies)  # an item with copies c is in its pool c times
        self.pools = [items[inverse[items] == i] for i in range(len(self.ids))]
        self.identities = len(self.ids) if identities is None else int(identities)
        self.per_identity = int(per_identity)
        if self.identities < 1 or self.per_identity < 1:
            raise ValueError(f"identities and per_identity must be >= 1, got {identities}, {per_identity}")
        self.batch_size = self.identities * self.per_identity  # the global batch
        if self.batch_size % num_replicas:
            raise ValueError(f"the batch of {self.identities} x {self.per_identity} = {self.batch_size} sequences does "
                             f"not divide among {num_replicas} processes")
        self.num_batches = max(1, len(items) // self.batch_size) if num_batches is None else int(num_batches)
        if self.num_batches < 1:
            raise ValueError(f"num_batches must be >= 1, got {num_batches}")

    def global_batches(self):
        """The epoch's global batches, (P * K,) index arrays: identity-major, K consecutive entries per identity."""
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        for _ in range(self.num_batches):
            chosen = draw(np.arange(len(self.ids)), self.identities, g)
            yield np.concatenate([draw(self.pools[i], self.per_identity, g) for i in chosen])

    def __iter__(self):
        for batch in self.global_batches():
            yield from batch[self.rank :: self.num_replicas].tolist()

    def __len__(self) -> int:
        return self.num_batches * (self.batch_size // self.num_replicas)
