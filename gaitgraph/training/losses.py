"""Losses of GaitGraph2 and GaitGraph v1 (``gaitgraph2.md`` §5), with the global batch under DDP.

* GaitGraph2 training: pytorch-metric-learning ``SupConLoss(temperature, distance=LpDistance())``: embeddings are
  L2-normalised, logits are minus the Euclidean distance over the temperature (as the original).
* Validation loss: ``ContrastiveLoss(pos_margin=0, neg_margin=1, distance=LpDistance())`` (the
  original's ``val_loss``).
* GaitGraph v1 training: the two-view SupCon of its reference (HobbitLong's ``SupConLoss``,
  ``contrast_mode='all'``, base temperature 0.07, dot products of L2-normalised embeddings):
  :func:`supcon_two_view`, :class:`TwoViewSupCon`. pytorch-metric-learning has no two-view form with
  the ``temperature / base_temperature`` scale, so it is written out here (checked against a direct
  loop-by-loop computation in ``tests/test_gaitgraph1.py``).

Under DDP every rank gathers all ranks' embeddings and labels, so the loss sees the whole global batch
(SupCon's negatives and positives come from every rank). The gathered copies carry no gradient; the
local slice does. The loss is then ``L + (W - 1) * (L - L.detach())``: the value is the global-batch
loss, the gradient ``W * dL/dz_local``, and after DDP averages the parameter gradients over the W
ranks the update equals that of one process holding the whole batch.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from pytorch_metric_learning import distances, losses
from torch import nn


def _dist_world() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def gather_with_local_grad(emb: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int]:
    """All ranks' ``(emb, labels)`` concatenated in rank order; this rank's slice keeps its gradient.

    Batches of different sizes are padded for the collective and trimmed afterwards.
    Returns ``(embeddings, labels, world_size)``.
    """
    world = _dist_world()
    if world == 1:
        return emb, labels, 1
    rank = dist.get_rank()
    n = torch.tensor([emb.shape[0]], device=emb.device, dtype=torch.long)
    sizes = [torch.zeros_like(n) for _ in range(world)]
    dist.all_gather(sizes, n)
    sizes = [int(s.item()) for s in sizes]
    m = max(sizes)
    pad_e = emb.new_zeros((m - emb.shape[0], *emb.shape[1:]))
    pad_l = labels.new_zeros((m - labels.shape[0],))
    e_full = torch.cat([emb.detach(), pad_e])
    l_full = torch.cat([labels, pad_l])
    e_parts = [torch.empty_like(e_full) for _ in range(world)]
    l_parts = [torch.empty_like(l_full) for _ in range(world)]
    dist.all_gather(e_parts, e_full.contiguous())
    dist.all_gather(l_parts, l_full.contiguous())
    e_parts = [p[:s] for p, s in zip(e_parts, sizes)]
    l_parts = [p[:s] for p, s in zip(l_parts, sizes)]
    e_parts[rank] = emb  # the local slice with its gradient
    return torch.cat(e_parts), torch.cat(l_parts), world


class GlobalBatchLoss(nn.Module):
    """Wrap a pml loss so that under DDP it runs on the gathered global batch (see module docstring).

    ``last_batch_size`` records how many embeddings the last call saw (the global batch size).
    """

    def __init__(self, loss: nn.Module):
        super().__init__()
        self.loss = loss
        self.last_batch_size = 0

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        emb, lab, world = gather_with_local_grad(embeddings, labels)
        self.last_batch_size = int(emb.shape[0])
        value = self.loss(emb, lab)
        if world > 1:
            # same value; gradient scaled by W to undo DDP's averaging over ranks
            value = value + (world - 1) * (value - value.detach())
        return value


def supcon_loss(temperature: float = 0.01) -> GlobalBatchLoss:
    """The training loss: SupCon over L2-normalised Euclidean distances, global batch under DDP."""
    return GlobalBatchLoss(losses.SupConLoss(temperature=temperature, distance=distances.LpDistance()))


def contrastive_val_loss() -> nn.Module:
    """The original's validation loss (per rank; it is only logged)."""
    return losses.ContrastiveLoss(pos_margin=0, neg_margin=1, distance=distances.LpDistance())


def supcon_two_view(features: torch.Tensor, labels: torch.Tensor, temperature: float = 0.01,
                    base_temperature: float = 0.07) -> torch.Tensor:
    """HobbitLong's SupConLoss, ``contrast_mode='all'``: ``features`` [bsz, n_views, D] (already
    L2-normalised), ``labels`` [bsz].

    Every one of the ``n_views * bsz`` rows is an anchor; its positives are all other rows with the same
    label (its own other views included), the denominator runs over all rows but itself. Logits are dot
    products over the temperature (row maximum subtracted); the per-anchor mean log-probability of the
    positives is scaled by ``-temperature / base_temperature`` and averaged over anchors.
    """
    if features.ndim != 3:
        raise ValueError(f"features must be [bsz, n_views, D], got {tuple(features.shape)}")
    bsz, n_views, _ = features.shape
    if labels.shape != (bsz,):
        raise ValueError(f"labels must be [{bsz}], got {tuple(labels.shape)}")
    contrast = torch.cat(torch.unbind(features, dim=1), dim=0)  # [n_views * bsz, D], view-major
    logits = contrast @ contrast.T / temperature
    logits = logits - logits.max(dim=1, keepdim=True).values.detach()
    lab = labels.repeat(n_views)
    not_self = ~torch.eye(len(lab), dtype=torch.bool, device=features.device)
    positive = (lab[:, None] == lab[None, :]) & not_self
    exp_logits = torch.exp(logits) * not_self
    log_prob = logits - torch.log(exp_logits.sum(dim=1, keepdim=True))
    mean_log_prob_pos = (positive * log_prob).sum(dim=1) / positive.sum(dim=1).clamp(min=1)
    return -(temperature / base_temperature) * mean_log_prob_pos.mean()


class TwoViewSupCon(nn.Module):
    """:func:`supcon_two_view` on the global batch under DDP (gathered as :class:`GlobalBatchLoss` does)."""

    def __init__(self, temperature: float = 0.01, base_temperature: float = 0.07):
        super().__init__()
        self.temperature = temperature
        self.base_temperature = base_temperature
        self.last_batch_size = 0

    def forward(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        feats, lab, world = gather_with_local_grad(features, labels)
        self.last_batch_size = int(feats.shape[0])
        value = supcon_two_view(feats, lab, self.temperature, self.base_temperature)
        if world > 1:
            value = value + (world - 1) * (value - value.detach())
        return value
