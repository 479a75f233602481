"""The triplet losses of GaitTR and GaitMixer, from pytorch-metric-learning, on the global batch under DDP.

* **GaitTR** (FastPoseGait ``TripletLoss``, ``is_hard_loss: true``, margin 0.3, ``configs/gaittr/gaittr.yaml``
  L29-33): Euclidean distances of the raw (not normalised) embeddings; for every anchor its farthest positive
  and nearest negative; ``relu(d(a, p) - d(a, n) + margin)`` averaged over the anchors whose loss is not zero.
  = pml ``BatchHardMiner`` + ``TripletMarginLoss`` with ``LpDistance(normalize_embeddings=False)`` (pml's
  default would normalise) and its default ``AvgNonZeroReducer``: :func:`batch_hard_triplet`.
* **GaitMixer** (exitudio/GaitMixer ``src/train.py`` L19, L190-193: the reference calls pml itself):
  ``MultiSimilarityMiner()`` pairs (epsilon 0.1, cosine similarity) -> ``TripletMarginLoss(margin=0.01)`` with
  pml's defaults (normalised ``LpDistance``): :func:`multi_similarity_triplet`. Its ``--loss_func supcon``
  option: :func:`supcon` (pml ``SupConLoss``; ``docs/fidelity.md`` says where it departs from the reference's).

Each is a ``gaitgraph.training.losses.GlobalBatchLoss``: under DDP it sees every rank's embeddings, as
FastPoseGait's ``gather_and_scale_wrapper`` does (GaitMixer's ``DataParallel`` runs one process: one batch).
"""

from __future__ import annotations

import torch
from pytorch_metric_learning import distances, losses, miners
from torch import nn

from gaitgraph.training.losses import GlobalBatchLoss


class MinedLoss(nn.Module):
    """A pml loss on the pairs or triplets its miner picks: ``loss(emb, labels, miner(emb, labels))``."""

    def __init__(self, loss: nn.Module, miner: nn.Module):
        super().__init__()
        self.loss, self.miner = loss, miner

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.loss(embeddings, labels, self.miner(embeddings, labels))


def batch_hard_triplet(margin: float = 0.3) -> GlobalBatchLoss:
    """FastPoseGait's batch-hard triplet loss on raw Euclidean distances (GaitTR)."""
    dist = distances.LpDistance(normalize_embeddings=False)
    return GlobalBatchLoss(MinedLoss(losses.TripletMarginLoss(margin=margin, distance=dist),
                                     miners.BatchHardMiner(distance=distances.LpDistance(normalize_embeddings=False))))


def multi_similarity_triplet(margin: float = 0.01, epsilon: float = 0.1) -> GlobalBatchLoss:
    """GaitMixer's default loss: multi-similarity-mined triplets, pml defaults otherwise."""
    return GlobalBatchLoss(MinedLoss(losses.TripletMarginLoss(margin=margin), miners.MultiSimilarityMiner(epsilon=epsilon)))


def supcon(temperature: float = 0.004) -> GlobalBatchLoss:
    """GaitMixer's SupCon option: both views of a sequence are samples of its label (pml ``SupConLoss``)."""
    return GlobalBatchLoss(losses.SupConLoss(temperature=temperature))
