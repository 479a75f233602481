"""Rank gallery identities for probe embeddings (GaitGraph2's matching, ``gaitgraph2.md`` §6).

Each embedding (384-d with TTA, 128-d without) is L2-normalised, then compared by Euclidean distance,
as pytorch-metric-learning's ``LpDistance`` does in the original; this ranks like cosine similarity.
Distances come in blocks of probes (bounded memory); a probe's distance to an identity is its
smallest distance to any gallery sequence of that identity, and identities are ranked by it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def l2_normalise(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), eps)


def distances(probe: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    """(P, D), (G, D) -> (P, G) Euclidean distances between the L2-normalised rows."""
    p, g = l2_normalise(probe), l2_normalise(gallery)
    return np.sqrt(np.maximum(2.0 - 2.0 * (p @ g.T), 0.0))


@dataclass
class Ranking:
    """Top-k gallery identities of every probe, best first."""

    identities: np.ndarray  # (P, k) gallery identity
    distances: np.ndarray  # (P, k) distance to that identity (its closest gallery sequence)
    gallery_index: np.ndarray  # (P, k) row of that closest gallery sequence


def rank_identities(probe: np.ndarray, gallery: np.ndarray, gallery_ids, top_k: int = 5,
                    block: int = 2048) -> Ranking:
    """Rank the gallery's identities for every probe by the best distance per identity."""
    gallery_ids = np.asarray(gallery_ids)
    if len(gallery_ids) != len(gallery):
        raise ValueError(f"{len(gallery)} gallery embeddings but {len(gallery_ids)} identities")
    if len(gallery) == 0:
        raise ValueError("the gallery is empty")
    order = np.argsort(gallery_ids, kind="stable")  # gallery grouped by identity
    ids, starts = np.unique(gallery_ids[order], return_index=True)
    k = min(top_k, len(ids))
    g_sorted = gallery[order]
    columns = np.arange(len(order))
    out_ids, out_d, out_g = [], [], []
    for s in range(0, len(probe), block):
        d = distances(probe[s : s + block], g_sorted)  # (B, G), columns grouped by identity
        best = np.minimum.reduceat(d, starts, axis=1)  # (B, K) best distance per identity
        # column of each identity's best sequence: first column in the group reaching the minimum
        at_min = d == np.repeat(best, np.diff(np.append(starts, len(order))), axis=1)
        col = np.minimum.reduceat(np.where(at_min, columns, len(order)), starts, axis=1)
        top = np.argsort(best, axis=1, kind="stable")[:, :k]
        out_ids.append(ids[top])
        out_d.append(np.take_along_axis(best, top, axis=1))
        out_g.append(order[np.take_along_axis(col, top, axis=1)])
    if not out_ids:
        return Ranking(np.empty((0, k), gallery_ids.dtype), np.empty((0, k)), np.empty((0, k), np.int64))
    return Ranking(np.concatenate(out_ids), np.concatenate(out_d), np.concatenate(out_g))


def rank_accuracy(ranking: Ranking, probe_ids, ks=(1, 5)) -> dict[str, float]:
    """Rank-k identification rates in percent (probes whose identity is not in the gallery count as misses)."""
    probe_ids = np.asarray(probe_ids)
    hits = ranking.identities == probe_ids[:, None]
    return {f"rank{k}": float(100.0 * hits[:, :k].any(axis=1).mean()) if len(probe_ids) else float("nan")
            for k in ks if k <= ranking.identities.shape[1]}
