"""Rank-1 evaluation protocols: CASIA-B and OUMVLP-Pose, each under two labelled conventions.

Matching follows GaitGraph2 (``gaitgraph2.md`` §6): every full embedding (384-d with TTA, 128-d
without) is L2-normalised, then compared by Euclidean distance. On unit vectors
``|a - b|^2 = 2 - 2 a.b``, so the nearest gallery entry is the one with the largest dot product; we
rank by the dot product, one float32 matrix product per (gallery view, probe view) block
(``distance.py``). A probe is a hit when the nearest gallery entry *of one gallery view* has its
subject: its best same-subject similarity is strictly larger than its best other-subject one (a tie
is a miss; the original's arg-min would pick whichever entry came first). There is no per-sample
Python loop.

One block serves both directions of matching: the OUMVLP conventions swap the roles of sequence 00
and sequence 01, so the block ``seq00[view g] x seq01[view p]`` gives the GaitGraph2 convention's
cell (gallery g, probe p) through its columns and the OpenGait convention's cell (gallery p,
probe g) through its rows.

``evaluate(embeddings, sequences, dataset)`` returns ``{"num_probe", "num_gallery", "conventions"}``
in the ``metrics.json`` shape of ``docs/design.md``. ``matrix[g][p]`` is the rank-1 (%) of the probes
at ``views[p]`` against the gallery restricted to ``views[g]``; a cell is ``null`` when that gallery
view or that probe view has no sequence, or when the convention excludes it (identical views).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from gaitgraph.evaluation.distance import block_hits, default_backend, l2_normalize, run_blocks

DATASETS = ("casia-b", "oumvlp-pose", "gait3d", "grew")
CASIA_B_CONDITIONS = ("NM#5-6", "BG#1-2", "CL#1-2")
OUMVLP_CONDITION = "NM"

# What the original GaitGraph2 code logged for the OUMVLP matrix: the names are swapped.
GAITGRAPH2_LOG_NAMES = {
    "test/probe_{view}": "row mean = mean over probe views for one gallery view (our per_gallery_view)",
    "test/gallery_{view}": "column mean = mean over gallery views for one probe view (our per_probe_view)",
    "test/accuracy": "mean over all cells (our mean)",
}


@dataclass
class _Set:
    """One side of the matching: embeddings, subjects, views and (probe side) condition codes."""

    emb: torch.Tensor  # (n, D) float32, L2-normalised
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
    p_emb_t = [p_all[cols].T.contiguous() if backend == "torch" else np.ascontiguousarray(p_all[cols].T)
               for cols in p_idx]  # (D, n_p) per view
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


def _convention(
    counts: _Counts,
    conditions: tuple[str, ...],
    views: np.ndarray,
    *,
    description: str,
    gallery: str,
    probe: str,
    exclude_identical: bool,
    cell_mean: bool = False,
) -> dict:
    conds = {name: _condition_block(counts, c, views, exclude_identical, cell_mean) for c, name in enumerate(conditions)}
    return {
        "description": description,
        "gallery": gallery,
        "probe": probe,
        "exclude_identical": exclude_identical,
        "views": [int(v) for v in views],
        "num_gallery": int(counts.gallery.sum()),
        "num_gallery_per_view": _by_view(views, counts.gallery),
        "num_probe": int(counts.total.sum()),
        "conditions": conds,
        "mean": _num(_nanmean([d["mean"] if d["mean"] is not None else np.nan for d in conds.values()])),
    }


def _check_inputs(embeddings, sequences: pd.DataFrame) -> torch.Tensor:
    emb = l2_normalize(embeddings)
    if len(sequences) != emb.shape[0]:
        raise ValueError(f"{emb.shape[0]} embeddings but {len(sequences)} sequence rows; they must correspond row by row")
    missing = {"subject", "condition", "sequence", "view"} - set(sequences.columns)
    if missing:
        raise ValueError(f"sequence table lacks columns: {', '.join(sorted(missing))}")
    return emb


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


def evaluate_casia_b(embeddings, sequences: pd.DataFrame, *, workers: int | None = None, backend: str | None = None) -> dict:
    """CASIA-B: gallery NM#1-4; probes NM#5-6, BG#1-2, CL#1-2; conventions exclude/include identical views."""
    emb = _check_inputs(embeddings, sequences)
    cond = sequences["condition"].astype(str).str.lower().to_numpy()
    seqn = sequences["sequence"].to_numpy(np.int64)
    gal_mask = (cond == "nm") & (seqn >= 1) & (seqn <= 4)
    code = np.full(len(sequences), -1, np.int64)
    code[(cond == "nm") & ((seqn == 5) | (seqn == 6))] = 0
    code[(cond == "bg") & ((seqn == 1) | (seqn == 2))] = 1
    code[(cond == "cl") & ((seqn == 1) | (seqn == 2))] = 2
    views = np.unique(sequences["view"].to_numpy(np.int64)[gal_mask | (code >= 0)])
    gallery = _subset(emb, sequences, gal_mask)
    probe = _subset(emb, sequences, code >= 0, code)
    counts, _ = _match(gallery, probe, views, (3, 1), workers, backend)
    n_other = max(len(views) - 1, 0)
    base = "CASIA-B: gallery NM#1-4, probes NM#5-6 / BG#1-2 / CL#1-2; rank-1 of each probe view against the gallery restricted to one view"
    common = dict(gallery="NM#1-4", probe="NM#5-6, BG#1-2, CL#1-2")
    conventions = {
        "exclude_identical": _convention(
            counts, CASIA_B_CONDITIONS, views, exclude_identical=True, **common,
            description=f"{base}; identical views excluded: each probe view is the mean over the {n_other} other gallery view{_s(n_other)}"
            " (the GaitGraph2 paper's table); condition mean = mean over probe views; overall = mean over the 3 conditions",
        ),
        "include_identical": _convention(
            counts, CASIA_B_CONDITIONS, views, exclude_identical=False, **common,
            description=f"{base}; identical views included: each probe view is the mean over all {len(views)} gallery view{_s(len(views))}"
            "; condition mean = mean over probe views; overall = mean over the 3 conditions",
        ),
    }
    return {"num_probe": int(counts.total.sum()), "num_gallery": int(counts.gallery.sum()), "conventions": conventions}


def evaluate_oumvlp(embeddings, sequences: pd.DataFrame, *, workers: int | None = None, backend: str | None = None) -> dict:
    """OUMVLP-Pose: conventions ``gaitgraph2`` (gallery 00, probe 01, identical included) and ``opengait``."""
    emb = _check_inputs(embeddings, sequences)
    seqn = sequences["sequence"].to_numpy(np.int64)
    s00, s01 = seqn == 0, seqn == 1
    views = np.unique(sequences["view"].to_numpy(np.int64)[s00 | s01])
    set00 = _subset(emb, sequences, s00)
    set01 = _subset(emb, sequences, s01)
    gg2, og = _match(set00, set01, views, (1, 1), workers, backend)  # gg2: gallery 00 / probe 01; og: gallery 01 / probe 00
    V = len(views)
    gg2_conv = _convention(
        gg2, (OUMVLP_CONDITION,), views, exclude_identical=False, cell_mean=True,
        gallery="seq 00", probe="seq 01",
        description=f"OUMVLP-Pose, GaitGraph2 code's convention: gallery seq 00, probe seq 01; {V}x{V} gallery x probe views,"
        " identical views INCLUDED; mean over all cells; probes whose subject has no gallery entry at a view count as"
        " misses. Not comparable with OpenGait/FastPoseGait numbers",
    )
    gg2_conv["original_log_names"] = GAITGRAPH2_LOG_NAMES
    og_conv = _convention(
        og, (OUMVLP_CONDITION,), views, exclude_identical=True,
        gallery="seq 01", probe="seq 00",
        description=f"OUMVLP-Pose, OpenGait/FastPoseGait convention: gallery seq 01, probe seq 00; identical views EXCLUDED:"
        f" each probe view is the mean over the {max(V - 1, 0)} other gallery view{_s(V - 1)}; probes whose subject has no gallery"
        " entry at a view count as misses; mean over probe views",
    )
    return {
        "num_probe": int(gg2.total.sum()),
        "num_gallery": int(gg2.gallery.sum()),
        "conventions": {"gaitgraph2": gg2_conv, "opengait": og_conv},
    }


def evaluate(embeddings, sequences: pd.DataFrame, dataset: str, *, workers: int | None = None,
             backend: str | None = None) -> dict:
    """Every convention of ``dataset`` (``casia-b`` | ``oumvlp-pose`` rank-1; ``gait3d`` | ``grew``
    retrieval metrics, ``gaitgraph.evaluation.retrieval``), metrics.json shape.

    ``embeddings`` (N, D) and ``sequences`` (N rows: subject, condition, sequence, view) correspond row
    by row; pass only the evaluation split. Top-level ``num_probe``/``num_gallery`` are those of the
    first convention (the paper's); each convention also carries its own. ``workers``: threads that
    share out the view-pair blocks (default: ``torch.get_num_threads()``); ``backend``: ``numpy`` or
    ``torch`` kernel (default: ``distance.default_backend()``). Neither changes the result.
    """
    key = str(dataset).lower()
    if key == "casia-b":
        return evaluate_casia_b(embeddings, sequences, workers=workers, backend=backend)
    if key in ("oumvlp-pose", "oumvlp"):
        return evaluate_oumvlp(embeddings, sequences, workers=workers, backend=backend)
    if key == "gait3d":  # the retrieval protocols live with their datasets
        from gaitgraph.data.gait3d import evaluate_gait3d

        return evaluate_gait3d(embeddings, sequences)
    if key == "grew":
        from gaitgraph.data.grew import evaluate_grew

        return evaluate_grew(embeddings, sequences)
    raise ValueError(f"no evaluation protocol for dataset {dataset!r}; known: {', '.join(DATASETS)}")
