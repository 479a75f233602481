"""Retrieval metrics of a probe set against a gallery: rank-k (CMC), mAP and mINP, vectorised.

The definitions are those of OpenGait's ``evaluate_Gait3D`` (``opengait/evaluation/evaluator.py``)
and the ``evaluate_rank`` it calls (``opengait/evaluation/metric.py``, taken from Gait3D-Benchmark's
``lib/utils/rank.py``):

* distance: ``cos`` = 1 - a.b of L2-normalised embeddings (``cuda_dist(..., 'cos')``; the metric of
  the GaitGraph2 configs for Gait3D and GREW), or ``euc`` = Euclidean distance of the raw embeddings
  (``cuda_dist(..., 'euc')``; GaitGraph v1, GaitTR and GPGait configs); (N, C, P) embeddings part by part,
  averaged over the parts, as ``cuda_dist`` (``gaitgraph.evaluation.distance``). The gallery is sorted by
  distance for every probe.
* a probe whose subject has no gallery sequence is left out of every metric (``num_probe_scored``
  counts the others);
* rank-k: fraction of probes with a sequence of their subject among the k nearest;
* AP: mean, over the positions of the probe's correct matches, of the precision at that position;
  mAP = mean AP;
* INP: (number of correct matches) / (1-based position of the last one); mINP = mean INP.

All values are percentages. Equal distances: OpenGait's ``np.argsort`` leaves their order to
quicksort; here the wrong subject comes first among equal distances (a tie counts against the
probe, as in the rank-1 protocols of ``protocols.py``). With real-valued embeddings ties only occur
for identical embeddings.

Everything is whole-array numpy: probes are processed in chunks of at most ``CHUNK_ELEMENTS``
probe x gallery entries, never one probe at a time.
"""

from __future__ import annotations

import numpy as np
import torch

from gaitgraph.evaluation.distance import METRIC_TEXT, METRICS, columns, prepare, similarity

CHUNK_ELEMENTS = 4_000_000  # probe x gallery entries per chunk (~16 MB of float32 distances)
def to_numpy(embeddings) -> np.ndarray:
    """(N, D) float32 numpy array of a tensor or array-like."""
    if isinstance(embeddings, torch.Tensor):
        embeddings = embeddings.detach().cpu().numpy()
    return np.asarray(embeddings, dtype=np.float32)


def _prepare(embeddings, metric: str) -> np.ndarray:
    """Rows for :func:`distances` (``distance.prepare``: unit parts for ``cos``, raw parts for ``euc``), checked finite."""
    if metric not in METRICS:
        raise ValueError(f"unknown distance {metric!r}; known: {', '.join(METRICS)}")
    return prepare(embeddings, metric).numpy()


def distances(probe: np.ndarray, gallery: np.ndarray, metric: str) -> np.ndarray:
    """(P, G) float32 distances between prepared rows (see ``_prepare``)."""
    sim = similarity(probe, columns(gallery))
    return 1.0 - sim if metric == "cos" else -sim


def _chunks(n_probe: int, n_gallery: int):
    step = max(1, CHUNK_ELEMENTS // max(n_gallery, 1))
    return [(i, min(i + step, n_probe)) for i in range(0, n_probe, step)]


def retrieval_metrics(probe_emb, probe_subject, gallery_emb, gallery_subject, *, ranks=(1, 5, 10),
                      metric: str = "cos") -> dict:
    """Rank-k, mAP and mINP (%) of every probe against the whole gallery (module docstring).

    Returns ``{"rank<k>": ..., "mAP": ..., "mINP": ..., "num_probe", "num_probe_scored", "num_gallery"}``.
    A rank k larger than the gallery counts every scored probe as found. Raises ``ValueError`` when
    no probe has its subject in the gallery (OpenGait asserts the same).
    """
    p = _prepare(probe_emb, metric)
    g = _prepare(gallery_emb, metric)
    p_subj = np.asarray(probe_subject, dtype=np.int64)
    g_subj = np.asarray(gallery_subject, dtype=np.int64)
    if len(p) != len(p_subj) or len(g) != len(g_subj):
        raise ValueError("embeddings and subject ids must have the same number of rows")
    if len(g) == 0:
        raise ValueError("the gallery is empty")
    ranks = tuple(int(k) for k in ranks)
    first_hit, ap, inp = [], [], []
    for a, b in _chunks(len(p), len(g)):
        dist = distances(p[a:b], g, metric)  # (c, G)
        match = g_subj[None, :] == p_subj[a:b, None]
        # sort by distance; among equal distances the wrong subject first (lexsort: last key is primary)
        order = np.lexsort((match, dist), axis=-1)
        hits = np.take_along_axis(match, order, axis=1)  # (c, G) correct matches in ranked order
        n_rel = hits.sum(1)
        found = n_rel > 0
        hits, n_rel = hits[found], n_rel[found]
        position = np.arange(1, len(g) + 1)
        cum = np.cumsum(hits, axis=1)
        first_hit.append(hits.argmax(1))  # 0-based position of the first correct match
        ap.append((cum / position * hits).sum(1) / n_rel)
        last = len(g) - 1 - hits[:, ::-1].argmax(1)  # 0-based position of the last correct match
        inp.append(n_rel / (last + 1.0))
    first = np.concatenate(first_hit) if first_hit else np.zeros(0, np.int64)
    if len(first) == 0:
        raise ValueError(f"no probe's subject appears in the gallery ({len(p)} probes, {len(g)} gallery sequences)")
    out = {f"rank{k}": _pct(np.mean(first < k)) for k in ranks}
    out["mAP"] = _pct(np.mean(np.concatenate(ap)))
    out["mINP"] = _pct(np.mean(np.concatenate(inp)))
    out.update(num_probe=int(len(p)), num_probe_scored=int(len(first)), num_gallery=int(len(g)))
    return out


def table_metrics(embeddings, sequences, probe: np.ndarray, gallery: np.ndarray, *, ranks=(1, 5, 10),
                  metric: str = "cos") -> dict:
    """:func:`retrieval_metrics` of the rows ``probe`` against the rows ``gallery`` (boolean masks) of
    ``embeddings`` (N, D) and the sequence table (N rows, column ``subject``)."""
    emb = to_numpy(embeddings)
    if len(sequences) != len(emb):
        raise ValueError(f"{len(emb)} embeddings but {len(sequences)} sequence rows; they must correspond row by row")
    subject = sequences["subject"].to_numpy(np.int64)
    return retrieval_metrics(emb[probe], subject[probe], emb[gallery], subject[gallery], ranks=ranks, metric=metric)


def _top_k(dist: np.ndarray, k: int) -> np.ndarray:
    """(c, k) column indices of the k smallest entries of every row, smallest first; ties by column."""
    return np.argsort(dist, axis=1, kind="stable")[:, :k]


def nearest(probe_emb, gallery_emb, k: int, *, metric: str = "cos", gallery_subject=None) -> np.ndarray:
    """(P, k) ranking of every probe, nearest first: gallery row indices, or with ``gallery_subject``
    the subject ids of the k nearest distinct subjects (a subject's distance = its nearest sequence).

    Equal distances keep gallery order (subject order). Raises ``ValueError`` when there are fewer than
    ``k`` gallery rows (distinct subjects).
    """
    p = _prepare(probe_emb, metric)
    g = _prepare(gallery_emb, metric)
    if gallery_subject is not None:
        subjects, inverse = np.unique(np.asarray(gallery_subject, dtype=np.int64), return_inverse=True)
        by_subject = np.argsort(inverse, kind="stable")
        starts = np.r_[0, np.flatnonzero(np.diff(inverse[by_subject])) + 1]
    available = len(g) if gallery_subject is None else len(subjects)
    if available < k:
        what = "sequences" if gallery_subject is None else "distinct subjects"
        raise ValueError(f"the gallery has {available} {what}, fewer than the {k} ranks asked for")
    out = np.zeros((len(p), k), np.int64)
    for a, b in _chunks(len(p), len(g)):
        dist = distances(p[a:b], g, metric)
        if gallery_subject is None:
            out[a:b] = _top_k(dist, k)
        else:  # nearest sequence of every subject, then the k nearest subjects
            out[a:b] = subjects[_top_k(np.minimum.reduceat(dist[:, by_subject], starts, axis=1), k)]
    return out


def _pct(x) -> float:
    return round(100.0 * float(x), 4)


def retrieval_convention(result: dict, *, description: str, gallery: str, probe: str, metric: str,
                         official: bool) -> dict:
    """One convention of ``metrics.json`` for a retrieval protocol (``docs/evaluation.md``).

    ``result`` is :func:`retrieval_metrics`'s dict, or only its ``num_*`` counts for a protocol that
    cannot be scored here (GREW's withheld probes: ``metrics`` and ``mean`` are then null). ``mean``
    is rank-1, the number tables show; ``conditions`` is empty: there is no view matrix, so the
    consumers of the rank-1 shape find nothing to draw.
    """
    values = {k: v for k, v in result.items() if not k.startswith("num_")}
    return {
        "description": description,
        "kind": "retrieval",
        "official": bool(official),
        "gallery": gallery,
        "probe": probe,
        "distance": METRIC_TEXT[metric],
        **{k: result.get(k) for k in ("num_gallery", "num_probe", "num_probe_scored")},
        "metrics": values or None,
        "conditions": {},
        "mean": values.get("rank1"),
    }
