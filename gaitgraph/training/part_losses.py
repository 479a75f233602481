"""Part-wise losses of FastPoseGait's GPGait recipe (``loss_cfg`` of ``configs/gpgait/*.yaml``), with
pytorch-metric-learning where it has the piece.

* **Triplet** (``TripletLoss``, margin 0.3) on the head features ``(N, D, P)``: for every part separately,
  Euclidean distances between the N features; the loss per triplet is ``relu(d(a, p) - d(a, n) + margin)``
  and a part's loss is the mean over the triplets with a non-zero loss; the parts' losses are averaged.
  ``hard=True`` (``is_hard_loss: true``, CASIA-B and OUMVLP): one triplet per anchor, its farthest positive
  and nearest negative = pml ``BatchHardMiner`` + ``TripletMarginLoss`` (``LpDistance`` without
  normalisation, ``AvgNonZeroReducer``). ``hard=False`` (GREW, Gait3D): every (a, p, n), where the
  reference's positives include the anchor itself (d = 0), so the indices are built here and passed to
  the same pml loss.
* **Cross-entropy** (``CrossEntropyLoss``, scale 16) on the BNNeck's cosine logits ``(N, classes, P)``:
  softmax over classes of ``scale * logits`` per part, optional label smoothing ``eps`` (the reference's
  ``(1 - eps) * nll + eps * mean over classes of -log p``, which is torch's ``label_smoothing``); the mean
  over samples and parts.

The recipe multiplies each by its ``loss_term_weight`` and sums them: :class:`GPGaitLoss`, whose triplet term sees
the global batch under DDP (``gaitgraph.training.losses.GlobalBatchLoss``, as FastPoseGait's
``gather_and_scale_wrapper``); the cross-entropy is a mean over samples, the same on every rank's share.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pytorch_metric_learning import distances, losses, miners, reducers
from torch import nn

from gaitgraph.training.losses import GlobalBatchLoss


def all_triplets(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Indices (a, p, n) of every triplet with label[p] == label[a] (p == a included) and label[n] != label[a]."""
    same = labels[:, None] == labels[None, :]
    ap = same.nonzero()  # (M, 2), includes a == p
    neg = ~same[ap[:, 0]]  # (M, N): the negatives of each (a, p)
    rows, n = neg.nonzero(as_tuple=True)
    return ap[rows, 0], ap[rows, 1], n


class PartTripletLoss(nn.Module):
    """Triplet loss per part on (N, D, P) features, averaged over parts (see the module docstring)."""

    def __init__(self, margin: float = 0.3, hard: bool = True):
        super().__init__()
        self.hard = hard
        dist = distances.LpDistance(normalize_embeddings=False, p=2, power=1)
        self.loss = losses.TripletMarginLoss(margin=margin, distance=dist, reducer=reducers.AvgNonZeroReducer())
        self.miner = miners.BatchHardMiner(distance=dist) if hard else None

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if embeddings.ndim != 3 or embeddings.shape[0] != labels.shape[0]:
            raise ValueError(f"expected (N, D, P) features and N labels, "
                             f"got {tuple(embeddings.shape)}, {tuple(labels.shape)}")
        triplets = None if self.hard else all_triplets(labels)
        per_part = []
        for p in range(embeddings.shape[2]):
            emb = embeddings[:, :, p].float()
            idx = self.miner(emb, labels) if self.hard else triplets
            per_part.append(self.loss(emb, labels, idx))
        return torch.stack(per_part).mean()


class PartCrossEntropy(nn.Module):
    """Cross-entropy per part on (N, classes, P) cosine logits, times ``scale``; mean over samples and parts."""

    def __init__(self, scale: float = 16.0, label_smoothing: float = 0.0):
        super().__init__()
        self.scale, self.label_smoothing = scale, label_smoothing

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        targets = labels[:, None].expand(-1, logits.shape[2])  # (N, P)
        return F.cross_entropy(self.scale * logits, targets, label_smoothing=self.label_smoothing)


class GPGaitLoss(nn.Module):
    """``triplet_weight`` x :class:`PartTripletLoss` (head features, global batch) + ``ce_weight`` x
    :class:`PartCrossEntropy` (BNNeck logits). ``last_batch_size``: the embeddings the triplet term saw."""

    def __init__(self, margin: float = 0.3, hard: bool = True, triplet_weight: float = 1.0, scale: float = 16.0,
                 label_smoothing: float = 0.0, ce_weight: float = 1.0):
        super().__init__()
        self.triplet = GlobalBatchLoss(PartTripletLoss(margin, hard))
        self.cross_entropy = PartCrossEntropy(scale, label_smoothing)
        self.triplet_weight, self.ce_weight = triplet_weight, ce_weight

    @property
    def last_batch_size(self) -> int:
        return self.triplet.last_batch_size

    def forward(self, features: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return (self.triplet_weight * self.triplet(features, labels)
                + self.ce_weight * self.cross_entropy(logits, labels))
