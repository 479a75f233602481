"""Rank-1 over camera views: the engine of every ``ViewMatrix`` convention (``gaitgraph.datasets.spec``).

Matching follows the method's declared distance (``distance.py``): GaitGraph2's (``gaitgraph2.md`` §6:
every full embedding, 384-d with TTA, 128-d without, L2-normalised and compared by Euclidean distance,
which ranks as the dot product: ``metric="cos"``) or FastPoseGait's Euclidean distance of the raw parts
averaged over the parts (``metric="euc"``), one float32 matrix product (per part) per (gallery view,
probe view) block. A probe is a hit when the nearest gallery entry *of one gallery view* has its
subject: its best same-subject similarity is strictly larger than its best other-subject one (a tie
is a miss; the original's arg-min would pick whichever entry came first). There is no per-sample
Python loop.

One block serves both directions of matching: when one convention's gallery is another's only probe
set and the other way round (OUMVLP-Pose: sequence 00 and 01 swap roles between the GaitGraph2 and
the OpenGait conventions), the block ``A[view g] x B[view p]`` gives the first convention's cell
(gallery g, probe p) through its columns and the second's cell (gallery p, probe g) through its rows,
and conventions with the same gallery and probes (CASIA-B's two) share one matching.

``matrix[g][p]`` is the rank-1 (%) of the probes at ``views[p]`` against the gallery restricted to
``views[g]``; a cell is ``null`` when that gallery view or that probe view has no sequence, or when
the convention excludes it (identical views).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from gaitgraph.datasets.spec import Subset, ViewMatrix
from gaitgraph.evaluation.distance import METRIC_TEXT, block_hits, columns, default_backend, run_blocks


@dataclass
class _Set:
    """One side of the matching: embeddings, subjects, views and (probe side) condition codes."""

    emb: torch.Tensor  # (n, ...) float32 rows prepared for the distance (distance.prepare)
    subject: np.ndarray  # (n,) int64
    view: np.ndarray  # (n,) int64
    cond: np.ndarray  # (n,) int64 index into a condition list (0 for a gallery)


@dataclass
class _Counts:
    """Hit counts of one matching direction: ``correct[c, g, p]``, ``total[c, p]``, gallery size per view."""

    correct: np.ndarray  # (C, V, V) int64, gallery view x probe view
    total: np.ndarray  # (C, V) int64 probes per condition and probe view
    gallery: np.ndarray  # (V,) int64 gallery sequences per view
    no_match: np.ndarray  # (C, V, V) probes whose subject has no gallery entry at that gallery view


def _match(gallery: _Set, probe: _Set, views: np.ndarray, n_cond: tuple[int, int], workers: int | None = None,
           backend: str | None = None):
    """Hit counts of probe-vs-gallery (columns) and of gallery-vs-probe (rows, roles swapped).

    ``n_cond`` = number of conditions of (probe, gallery); the swapped direction uses the gallery's
    condition codes for its probes. One similarity block per (gallery view, probe view) serves both
    (``distance.block_hits``); blocks go to ``workers`` single-threaded threads.
    Returns ``(forward _Counts, reverse _Counts)``.
    """
    backend = backend or default_backend()
    V = len(views)
    fwd = _empty_counts(n_cond[0], V)
    rev = _empty_counts(n_cond[1], V)
    g_idx = [np.flatnonzero(gallery.view == v) for v in views]
    p_idx = [np.flatnonzero(probe.view == v) for v in views]
    for gi, rows in enumerate(g_idx):
        fwd.gallery[gi] = len(rows)
        rev.total[:, gi] = np.bincount(gallery.cond[rows], minlength=n_cond[1])
    for pi, cols in enumerate(p_idx):
        rev.gallery[pi] = len(cols)
        fwd.total[:, pi] = np.bincount(probe.cond[cols], minlength=n_cond[0])

    g_all, p_all = (gallery.emb.numpy(), probe.emb.numpy()) if backend == "numpy" else (gallery.emb, probe.emb)
    g_emb = [g_all[rows] for rows in g_idx]
    p_emb_t = [columns(p_all[cols]) for cols in p_idx]  # (D, n_p) or (P, C, n_p) per view
    tasks = [(gi, pi) for gi in range(V) for pi in range(V) if len(g_idx[gi]) and len(p_idx[pi])]

    def block(task):
        gi, pi = task
        return block_hits(g_emb[gi], p_emb_t[pi], gallery.subject[g_idx[gi]], probe.subject[p_idx[pi]])

    for (gi, pi), (col_hit, row_hit, col_alone, row_alone) in zip(tasks, run_blocks(block, tasks, workers, backend)):
        p_cond, g_cond = probe.cond[p_idx[pi]], gallery.cond[g_idx[gi]]
        fwd.correct[:, gi, pi] = np.bincount(p_cond, weights=col_hit, minlength=n_cond[0])
        rev.correct[:, pi, gi] = np.bincount(g_cond, weights=row_hit, minlength=n_cond[1])
        fwd.no_match[:, gi, pi] = np.bincount(p_cond, weights=col_alone, minlength=n_cond[0])
        rev.no_match[:, pi, gi] = np.bincount(g_cond, weights=row_alone, minlength=n_cond[1])
    return fwd, rev


def _empty_counts(C: int, V: int) -> _Counts:
    return _Counts(
        correct=np.zeros((C, V, V), np.int64),
        total=np.zeros((C, V), np.int64),
        gallery=np.zeros(V, np.int64),
        no_match=np.zeros((C, V, V), np.int64),
    )


def _rates(counts: _Counts, c: int) -> np.ndarray:
    """(V, V) rank-1 in % for condition ``c``; NaN where the gallery view or the probe view is empty."""
    valid = (counts.gallery[:, None] > 0) & (counts.total[c][None, :] > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = 100.0 * counts.correct[c] / counts.total[c][None, :]
    return np.where(valid, acc, np.nan)


def _nanmean(x: np.ndarray, axis=None):
    """Mean ignoring NaN; NaN (not a warning) where everything is NaN."""
    x = np.asarray(x, dtype=float)
    n = np.sum(~np.isnan(x), axis=axis)
    s = np.nansum(x, axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, s / np.maximum(n, 1), np.nan)


def _num(x) -> float | None:
    x = float(x)
    return None if np.isnan(x) else round(x, 4)


def _by_view(views: np.ndarray, values) -> dict[str, float | int | None]:
    return {str(int(v)): (_num(x) if isinstance(x, (float, np.floating)) else int(x)) for v, x in zip(views, values)}


def _condition_block(counts: _Counts, c: int, views: np.ndarray, exclude_identical: bool, cell_mean: bool) -> dict:
    """One condition's entry: matrix, per-probe-view rank-1, mean, and the counts behind them.

    ``cell_mean``: the condition mean is the mean over all valid cells (GaitGraph2's OUMVLP
    ``test/accuracy``) instead of the mean of the per-probe-view values.
    """
    acc = _rates(counts, c)
    if exclude_identical:
        np.fill_diagonal(acc, np.nan)
    per_probe = _nanmean(acc, axis=0)
    mean = _nanmean(acc) if cell_mean else _nanmean(per_probe)
    no_match = [[None if np.isnan(a) else int(n) for a, n in zip(ra, rn)] for ra, rn in zip(acc, counts.no_match[c])]
    return {
        "matrix": [[_num(x) for x in row] for row in acc],
        "per_probe_view": _by_view(views, per_probe),
        "per_gallery_view": _by_view(views, _nanmean(acc, axis=1)),
        "mean": _num(mean),
        "num_probe": int(counts.total[c].sum()),
        "num_probe_per_view": _by_view(views, counts.total[c]),
        # probes of cell [g][p] whose subject has no gallery entry at view g: misses by construction
        "no_gallery_match": no_match,
    }


def _convention(counts: _Counts, conv: ViewMatrix, views: np.ndarray, metric: str) -> dict:
    """One convention's ``metrics.json`` entry from the hit counts of its matching direction."""
    conds = {p.label: _condition_block(counts, c, views, conv.exclude_identical, conv.cell_mean)
             for c, p in enumerate(conv.probes)}
    n, others = len(views), max(len(views) - 1, 0)
    return {
        "description": conv.description.format(views=n, others=others, views_s=_s(n), others_s=_s(others)),
        "gallery": conv.gallery.label,
        "probe": conv.probe_label,
        "exclude_identical": conv.exclude_identical,
        "distance": METRIC_TEXT[metric],
        "views": [int(v) for v in views],
        "num_gallery": int(counts.gallery.sum()),
        "num_gallery_per_view": _by_view(views, counts.gallery),
        "num_probe": int(counts.total.sum()),
        "conditions": conds,
        "mean": _num(_nanmean([d["mean"] if d["mean"] is not None else np.nan for d in conds.values()])),
        **conv.extra,
    }


def _subset(emb: torch.Tensor, seq: pd.DataFrame, mask: np.ndarray, cond: np.ndarray | None = None) -> _Set:
    idx = np.flatnonzero(mask)
    return _Set(
        emb=emb[torch.from_numpy(idx)],
        subject=seq["subject"].to_numpy(np.int64)[idx],
        view=seq["view"].to_numpy(np.int64)[idx],
        cond=np.zeros(len(idx), np.int64) if cond is None else cond[idx],
    )


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _criteria(s: Subset) -> tuple:
    return (s.condition, s.sequences, s.role)


def view_matrix_conventions(emb: torch.Tensor, sequences: pd.DataFrame, conventions: list[ViewMatrix], *,
                            metric: str = "cos", workers: int | None = None,
                            backend: str | None = None) -> tuple[dict, dict]:
    """Evaluate ``conventions`` on embeddings ``emb`` prepared for the distance (``distance.prepare``) and their
    sequence table (``metric``: that distance, recorded in every entry).

    Returns ``(entries, first_counts)``: the ``metrics.json`` entry of every convention by name, and
    ``{"num_probe", "num_gallery"}`` of the first. Conventions that share a gallery and probes, or
    whose gallery and (single) probe set are another's swapped, share one matching (module docstring).
    """
    done: list[tuple[ViewMatrix, _Counts, _Counts, np.ndarray]] = []  # (convention, forward, reverse, views)
    entries, first = {}, None
    for conv in conventions:
        counts = views = None
        for other, fwd, rev, other_views in done:
            same = _criteria(other.gallery) == _criteria(conv.gallery) and \
                [_criteria(p) for p in other.probes] == [_criteria(p) for p in conv.probes]
            swapped = len(other.probes) == 1 and len(conv.probes) == 1 and \
                _criteria(other.gallery) == _criteria(conv.probes[0]) and _criteria(other.probes[0]) == _criteria(conv.gallery)
            if same or swapped:
                counts, views = (fwd if same else rev), other_views
                break
        if counts is None:
            gal_mask = conv.gallery.mask(sequences)
            code = np.full(len(sequences), -1, np.int64)
            for c, probe in enumerate(conv.probes):
                code[probe.mask(sequences)] = c
            views = np.unique(sequences["view"].to_numpy(np.int64)[gal_mask | (code >= 0)])
            gallery = _subset(emb, sequences, gal_mask)
            probe = _subset(emb, sequences, code >= 0, code)
            fwd, rev = _match(gallery, probe, views, (len(conv.probes), 1), workers, backend)
            done.append((conv, fwd, rev, views))
            counts = fwd
        entries[conv.name] = _convention(counts, conv, views, metric)
        if first is None:
            first = {"num_probe": int(counts.total.sum()), "num_gallery": int(counts.gallery.sum())}
    return entries, first
