"""Nearest-neighbour hits between two sets of embeddings, computed block by block, under one of two distances.

The distance (``metric``) is a declared part of every method's test protocol (``MethodSpec.metric``;
OpenGait's and FastPoseGait's ``evaluator_cfg.metric``, whose names we use). Embeddings are (N, D) or
(N, C, P): P parts of C channels each (GPGait: 19 parts of 256; a flat (N, D) embedding is one part),
and both distances work part by part, averaged over the parts (OpenGait's ``cuda_dist``):

* ``cos`` -- every part L2-normalised, similarity = the mean over parts of the parts' dot products, i.e.
  the cosine. For one part this is GaitGraph2's matching with pytorch-metric-learning's ``LpDistance``
  (L2-normalised vectors, Euclidean distance): on unit vectors ``|a - b|^2 = 2 - 2 a.b``, so the nearest
  entry is the one with the largest dot product. It is computed as one float32 matrix product of the
  flattened rows, each part scaled by ``1 / sqrt(P)`` (:func:`prepare`), never a loop over samples.
* ``euc`` -- the Euclidean distance of the raw (not normalised) parts, averaged over the parts
  (FastPoseGait's GaitTR and GPGait: ``metric: euc``): one matrix product per part,
  ``sqrt(max(|a|^2 + |b|^2 - 2 a.b, 0))``. An (N, C, P) embedding is never flattened for it.

A block ``rows x cols`` is built a chunk of rows at a time (:func:`similarity`, larger = nearer). Each
chunk's same-subject entries are read and then blanked, and the chunk is max-reduced along both axes
while it is still in cache; the block as a whole is never written out (an arg-max along the columns of a
whole 5k x 5k block costs a third of its product again). One block answers both directions: columns as
probes against the rows, and rows as probes against the columns.

Two interchangeable kernels: numpy (OpenBLAS in numpy's pip wheels; the fastest here, about 20 %
less CPU time per block than torch's MKL on the AMD development machine) and torch. Blocks are
shared out to single-threaded workers (threads; the BLAS releases the GIL), so small operations
never wait at thread barriers, which matters most on a busy machine.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import math
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
import torch

# rows of one similarity chunk: ~4 MB of float32 at most, reduced while it is in cache (measured:
# 0.5-1 M elements per chunk make a whole block cheaper than one product writing its 100 MB result)
CHUNK_ELEMENTS = 1_000_000
BACKENDS = ("numpy", "torch")
METRICS = ("cos", "euc")
METRIC_TEXT = {
    "cos": "cosine distance 1 - a.b of the L2-normalised embeddings, per part and averaged over the parts "
           "(OpenGait metric 'cos'; for a flat embedding the ranking of GaitGraph2's normalised Euclidean distance)",
    "euc": "Euclidean distance of the raw embeddings, per part and averaged over the parts (OpenGait/FastPoseGait "
           "metric 'euc')",
}


def as_parts(embeddings) -> torch.Tensor:
    """(N, C, P) float32 CPU tensor of (N, D) [one part] or (N, C, P) embeddings, checked finite."""
    if isinstance(embeddings, torch.Tensor):
        x = embeddings.detach().to("cpu", torch.float32)
    else:
        x = torch.as_tensor(np.asarray(embeddings), dtype=torch.float32)
    if x.ndim == 2:
        x = x.unsqueeze(2)
    if x.ndim != 3:
        raise ValueError(f"embeddings must be (N, D) or (N, C, P), got shape {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).flatten(1).any(dim=1).sum())
        raise ValueError(f"embeddings contain NaN or infinite values ({bad} rows)")
    return x


def l2_normalize(embeddings) -> torch.Tensor:
    """Float32 CPU tensor (N, D) of the rows scaled to unit length (an all-zero row stays zero)."""
    x = as_parts(embeddings)
    if x.shape[2] != 1:
        raise ValueError(f"embeddings must be (N, D), got shape {tuple(x.shape)}")
    return prepare(x, "cos")


def prepare(embeddings, metric: str = "cos") -> torch.Tensor:
    """The rows :func:`similarity` compares: ``cos`` -> (N, P * C), each part L2-normalised and scaled by
    1 / sqrt(P), so that a dot product is the mean of the parts' cosines; ``euc`` -> (N, P, C), raw."""
    if metric not in METRICS:
        raise ValueError(f"unknown distance {metric!r}; known: {', '.join(METRICS)}")
    x = as_parts(embeddings).transpose(1, 2)  # (N, P, C)
    if metric == "euc":
        return x.contiguous()
    norm = torch.linalg.vector_norm(x, dim=2, keepdim=True).clamp_min(1e-12)
    x = x / norm if x.shape[1] == 1 else x / (norm * math.sqrt(x.shape[1]))
    return x.flatten(1).contiguous()


def columns(rows):
    """The right-hand operand of :func:`similarity` from prepared rows: (D, n) for ``cos``, (P, C, n) for ``euc``."""
    if rows.ndim == 2:
        return rows.T.contiguous() if isinstance(rows, torch.Tensor) else np.ascontiguousarray(rows.T)
    if isinstance(rows, torch.Tensor):
        return rows.permute(1, 2, 0).contiguous()
    return np.ascontiguousarray(rows.transpose(1, 2, 0))


def similarity(rows, cols):
    """(k, n) similarities, larger = nearer, of prepared ``rows`` against :func:`columns` ``cols`` (numpy arrays
    or torch tensors alike): the dot product (``cos``), or minus the mean over parts of the Euclidean distance
    (``euc``, recognised by its 3-D operands)."""
    if rows.ndim == 2:
        return rows @ cols
    total = 0.0
    for p in range(rows.shape[1]):
        a, b = rows[:, p], cols[p]  # (k, C), (C, n)
        sq = (a * a).sum(-1)[:, None] + (b * b).sum(0)[None, :] - 2 * (a @ b)
        total = total + sq.clip(min=0) ** 0.5
    return -total / rows.shape[1]


def same_subject_pairs(row_subj: np.ndarray, col_subj: np.ndarray):
    """All (row, column) index pairs with equal subjects, sorted by row, by a sorted join (no Python
    loop); also the number of partners of every row and of every column."""
    order = np.argsort(row_subj, kind="stable")
    sorted_subj = row_subj[order]
    lo = np.searchsorted(sorted_subj, col_subj, side="left")
    col_cnt = np.searchsorted(sorted_subj, col_subj, side="right") - lo
    total = int(col_cnt.sum())
    cols = np.repeat(np.arange(len(col_subj)), col_cnt)
    within = np.arange(total) - np.repeat(np.cumsum(col_cnt) - col_cnt, col_cnt)
    rows = order[np.repeat(lo, col_cnt) + within]
    by_row = np.argsort(rows, kind="stable")
    rows, cols = rows[by_row], cols[by_row]
    return rows, cols, np.bincount(rows, minlength=len(row_subj)), col_cnt


def block_hits(row_emb, col_emb_t, row_subj: np.ndarray, col_subj: np.ndarray):
    """Rank-1 hits of every column against the rows, and of every row against the columns.

    ``row_emb``: prepared rows (:func:`prepare`), ``col_emb_t``: :func:`columns` of others, both numpy arrays
    or both torch tensors (which picks the kernel). A hit: the best same-subject similarity is strictly larger
    than the best other-subject one, so the nearest entry has the probe's subject. A tie between
    subjects is a miss (the original's arg-min would pick whichever came first), and so is a probe
    whose subject is absent. Returns boolean arrays
    ``(col_hit, row_hit, col_has_no_partner, row_has_no_partner)``.
    """
    n_r, n_c = len(row_subj), len(col_subj)
    r, c, row_cnt, col_cnt = same_subject_pairs(row_subj, col_subj)
    step = max(1, min(n_r, CHUNK_ELEMENTS // max(n_c, 1)))
    bounds = np.searchsorted(r, np.arange(0, n_r + step, step))  # pairs are sorted by row
    kernel = _chunks_numpy if isinstance(row_emb, np.ndarray) else _chunks_torch
    col_hit, row_hit = kernel(row_emb, col_emb_t, r, c, step, bounds)
    return col_hit, row_hit, col_cnt == 0, row_cnt == 0


def _chunks_numpy(row_emb, col_emb_t, r, c, step, bounds):
    n_r, n_c = row_emb.shape[0], col_emb_t.shape[-1]
    same_col = np.full(n_c, -np.inf, np.float32)
    other_col = np.full(n_c, -np.inf, np.float32)
    same_row = np.full(n_r, -np.inf, np.float32)
    other_row = np.full(n_r, -np.inf, np.float32)
    for k, i in enumerate(range(0, n_r, step)):
        sim = similarity(row_emb[i : i + step], col_emb_t)  # (chunk, n_c); larger = nearer
        lo, hi = bounds[k], bounds[k + 1]
        if hi > lo:
            rr, cc = r[lo:hi] - i, c[lo:hi]
            vals = sim[rr, cc]
            np.maximum.at(same_col, cc, vals)
            np.maximum.at(same_row[i : i + step], rr, vals)
            sim[rr, cc] = -np.inf
        other_row[i : i + step] = sim.max(axis=1)
        np.maximum(other_col, sim.max(axis=0), out=other_col)
    return same_col > other_col, same_row > other_row


def _chunks_torch(row_emb, col_emb_t, r, c, step, bounds):
    n_r, n_c = row_emb.shape[0], col_emb_t.shape[-1]
    r_t, c_t = torch.from_numpy(r), torch.from_numpy(c)
    ninf = float("-inf")
    same_col = torch.full((n_c,), ninf)
    other_col = torch.full((n_c,), ninf)
    same_row = torch.full((n_r,), ninf)
    other_row = torch.full((n_r,), ninf)
    for k, i in enumerate(range(0, n_r, step)):
        sim = similarity(row_emb[i : i + step], col_emb_t)
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        if hi > lo:
            rr, cc = r_t[lo:hi] - i, c_t[lo:hi]
            vals = sim[rr, cc]
            same_col.scatter_reduce_(0, cc, vals, "amax")
            same_row[i : i + step].scatter_reduce_(0, rr, vals, "amax")
            sim[rr, cc] = ninf
        other_row[i : i + step] = sim.amax(dim=1)
        torch.maximum(other_col, sim.amax(dim=0), out=other_col)
    return (same_col > other_col).numpy(), (same_row > other_row).numpy()


# ---------------------------------------------------------------- backends and threads


@functools.lru_cache(maxsize=1)
def _numpy_openblas():
    """(get_num_threads, set_num_threads) of the OpenBLAS bundled in numpy's wheel, or None.

    Found as threadpoolctl finds it (no extra dependency): the library in ``numpy.libs`` (Linux) or
    ``numpy/.dylibs`` (macOS); dlopen returns the copy numpy already loaded. Other numpy builds
    (conda's, MKL) are not touched: the torch kernel is used there.
    """
    base = os.path.dirname(np.__file__)
    candidates = glob.glob(os.path.join(base, "..", "numpy.libs", "*openblas*")) + glob.glob(
        os.path.join(base, ".dylibs", "*openblas*"))
    for path in candidates:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas_", "openblas_"):
            for suffix in ("64_", ""):
                get = getattr(lib, f"{prefix}get_num_threads{suffix}", None)
                put = getattr(lib, f"{prefix}set_num_threads{suffix}", None)
                if get is not None and put is not None:
                    get.restype = ctypes.c_int
                    put.argtypes = [ctypes.c_int]
                    return get, put
    return None


def default_backend() -> str:
    """``GAITGRAPH_EVAL_BACKEND`` (numpy | torch) if set, else numpy where its OpenBLAS is controllable."""
    env = os.environ.get("GAITGRAPH_EVAL_BACKEND", "").strip().lower()
    if env:
        if env not in BACKENDS:
            raise ValueError(f"GAITGRAPH_EVAL_BACKEND={env!r}; known: {', '.join(BACKENDS)}")
        return env
    return "numpy" if _numpy_openblas() is not None else "torch"


@contextmanager
def _single_threaded(backend: str):
    """BLAS and torch run in the calling thread only, restored afterwards."""
    threads = torch.get_num_threads()
    blas = _numpy_openblas() if backend == "numpy" else None
    blas_threads = blas[0]() if blas else None
    torch.set_num_threads(1)
    if blas:
        blas[1](1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        if blas:
            blas[1](blas_threads)


def run_blocks(fn, tasks: list, workers: int | None, backend: str):
    """``[fn(t) for t in tasks]``, shared out to ``workers`` single-threaded threads (default: the
    number of torch threads); results in task order."""
    workers = min(workers or torch.get_num_threads(), len(tasks))
    if workers <= 1:
        return [fn(t) for t in tasks]
    with _single_threaded(backend):
        with ThreadPoolExecutor(workers, initializer=torch.set_num_threads, initargs=(1,)) as pool:
            return list(pool.map(fn, tasks))
