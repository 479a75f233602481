"""GPGait's part-wise losses (pml-based) against an oracle of FastPoseGait's TripletLoss and CrossEntropyLoss,
and pml's MPerClassSampler against the reference's P x K TripletSampler description."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from pytorch_metric_learning.samplers import MPerClassSampler

from gaitgraph.training.part_losses import PartCrossEntropy, PartTripletLoss, all_triplets


# ---------------------------------------------------------------- oracle (the reference's formulas)
def oracle_triplet(emb: torch.Tensor, labels: torch.Tensor, margin: float, hard: bool) -> torch.Tensor:
    x = emb.permute(2, 0, 1)  # (P, N, D)
    x2 = (x ** 2).sum(-1)
    dist = torch.sqrt(F.relu(x2[:, :, None] + x2[:, None, :] - 2 * x @ x.transpose(1, 2)))  # (P, N, N)
    same = labels[:, None] == labels[None, :]
    p, n = dist.shape[:2]
    ap = dist[:, same].view(p, n, -1, 1)  # positives include the anchor itself
    an = dist[:, ~same].view(p, n, 1, -1)
    if hard:
        loss = F.relu(ap.max(-2)[0].view(p, n) - an.min(-1)[0].view(p, n) + margin)
    else:
        loss = F.relu((ap - an).view(p, -1) + margin)
    num = (loss != 0).sum(-1).float()
    avg = loss.sum(-1) / (num + 1e-9)
    avg = torch.where(num == 0, torch.zeros_like(avg), avg)
    return avg.mean()


def oracle_ce(logits: torch.Tensor, labels: torch.Tensor, scale: float, eps: float) -> torch.Tensor:
    n, c, p = logits.shape
    logp = F.log_softmax(logits * scale, dim=1)
    onehot = torch.zeros(n, c).scatter(1, labels[:, None], 1)[:, :, None].repeat(1, 1, p)
    loss = -(onehot * logp).sum(1).mean(0)  # (P,)
    if eps:
        loss = -logp.mean(dim=1).mean(0) * eps + loss * (1 - eps)
    return loss.mean()


def batch(seed=0, ids=4, k=5, d=8, parts=3):
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(ids).repeat_interleave(k)
    centres = torch.randn(ids, d, parts, generator=g)
    emb = (centres[labels] + 0.9 * torch.randn(ids * k, d, parts, generator=g)).requires_grad_()
    return emb, labels


@pytest.mark.parametrize("hard", [True, False])
@pytest.mark.parametrize("seed", [0, 1])
def test_triplet_equals_the_reference_value_and_gradient(hard, seed):
    emb, labels = batch(seed)
    ours = PartTripletLoss(margin=0.3, hard=hard)(emb, labels)
    ref = oracle_triplet(emb, labels, 0.3, hard)
    assert ours.item() > 0.05  # neither trivial nor saturated
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-6)
    g_ours, = torch.autograd.grad(ours, emb)
    g_ref, = torch.autograd.grad(ref, emb)
    torch.testing.assert_close(g_ours, g_ref, rtol=1e-4, atol=1e-6)


def test_triplet_is_zero_for_separated_identities_and_checks_shapes():
    labels = torch.tensor([0, 0, 1, 1])
    emb = torch.tensor([[0.0], [0.1], [10.0], [10.1]])[:, :, None].repeat(1, 1, 2)
    assert PartTripletLoss(hard=True)(emb, labels).item() == 0 == PartTripletLoss(hard=False)(emb, labels).item()
    with pytest.raises(ValueError, match=r"\(N, D, P\)"):
        PartTripletLoss()(emb[:, :, 0], labels)


def test_all_triplets_include_the_anchor_as_positive():
    a, p, n = all_triplets(torch.tensor([0, 0, 1]))
    got = sorted(zip(a.tolist(), p.tolist(), n.tolist()))
    assert got == [(0, 0, 2), (0, 1, 2), (1, 0, 2), (1, 1, 2), (2, 2, 0), (2, 2, 1)]


@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_cross_entropy_equals_the_reference(eps):
    g = torch.Generator().manual_seed(3)
    logits = F.normalize(torch.randn(12, 7, 5, generator=g), dim=1).requires_grad_()
    labels = torch.randint(0, 7, (12,), generator=g)
    ours = PartCrossEntropy(scale=16, label_smoothing=eps)(logits, labels)
    ref = oracle_ce(logits, labels, 16, eps)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(torch.autograd.grad(ours, logits)[0], torch.autograd.grad(ref, logits)[0])


def test_pml_sampler_gives_p_identities_times_k_sequences():
    # TripletSampler: P distinct identities per batch, K sequences each, with replacement only where an
    # identity has fewer than K
    labels = np.repeat(np.arange(10), [12] * 9 + [3])
    sampler = MPerClassSampler(labels, m=4, batch_size=4 * 4, length_before_new_iter=16 * 50)
    idx = np.array(list(iter(sampler))).reshape(-1, 16)
    for b in idx:
        ids, counts = np.unique(labels[b], return_counts=True)
        assert len(ids) == 4 and (counts == 4).all()
        for i in ids:
            if i != 9:
                assert len(set(b[labels[b] == i])) == 4  # no repeats where there are enough
