"""GREW's official submission file: for every withheld probe, the 20 gallery subject ids nearest first.

The layout is the one OpenGait's ``GREW_submission`` (``opengait/evaluation/evaluator.py``) writes::

    videoId,rank1,rank2,...,rank20
    01DdvEHX,1182,2448,2448,...

one row per probe in the dataset's probe order, ``videoId`` = the probe's video id, ``rankK`` = the
subject id (an integer, no zero padding) of the probe's K-th nearest gallery *sequence*: a subject
with two gallery sequences may appear twice, as in OpenGait's file. ``distinct=True`` lists 20
distinct subjects instead (each ranked by its nearest sequence), which can only raise rank-5/10/20.
Distances as in :mod:`gaitgraph.evaluation.retrieval` (``cos`` for GaitGraph2, as its OpenGait
config). The file is written atomically; the user uploads it to the GREW benchmark.
:func:`checkpoint_submission` (``gaitgraph submit``) writes it for a checkpoint of any registered
method on a converted GREW dataset, embedding every test sequence with the method's own test pipeline.

:func:`score_submission` computes rank-K accuracy (the true subject among the first K entries) of
a submission against known probe subjects; the real probes' subjects are withheld, so this serves
the synthetic twin (``ROOT/SYNTHETIC_probe_subjects.csv``) and tests.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np
import pandas as pd

from gaitgraph.evaluation.retrieval import nearest, to_numpy
from gaitgraph.outputs import write_text

NUM_RANKS = 20
HEADER = ["videoId"] + [f"rank{k}" for k in range(1, NUM_RANKS + 1)]


def submission_rows(embeddings, sequences: pd.DataFrame, *, metric: str = "cos", distinct: bool = False) -> pd.DataFrame:
    """The submission as a table (columns ``HEADER``) from the test rows of a converted GREW dataset.

    ``embeddings`` (N, D) and ``sequences`` (N rows with ``split``, ``role``, ``key``, ``subject``)
    correspond row by row; the gallery is ``split == test & role == gallery``, the probes
    ``split == test & role == probe``.
    """
    emb = to_numpy(embeddings)
    if len(emb) != len(sequences):
        raise ValueError(f"{len(emb)} embeddings but {len(sequences)} sequence rows; they must correspond row by row")
    if "role" not in sequences or "key" not in sequences:
        raise ValueError("the sequence table has no role/key column: convert the data with `gaitgraph-data convert grew`")
    test = sequences["split"].astype(str).to_numpy() == "test"
    role = sequences["role"].astype(str).to_numpy()
    gallery, probe = test & (role == "gallery"), test & (role == "probe")
    if not probe.any():
        raise ValueError("no GREW test probes (split test, role probe) among the rows given")
    g_subject = sequences["subject"].to_numpy(np.int64)[gallery]
    if distinct:
        ranks = nearest(emb[probe], emb[gallery], NUM_RANKS, metric=metric, gallery_subject=g_subject)
    else:
        ranks = g_subject[nearest(emb[probe], emb[gallery], NUM_RANKS, metric=metric)]
    out = pd.DataFrame(ranks, columns=HEADER[1:])
    out.insert(0, "videoId", sequences["key"].astype(str).to_numpy()[probe])
    return out


def write_submission(path: str | os.PathLike, embeddings, sequences: pd.DataFrame, *, metric: str = "cos",
                     distinct: bool = False) -> Path:
    """Write the submission CSV (``HEADER``, ``\\n`` line ends) atomically; returns its path."""
    return _write_rows(path, submission_rows(embeddings, sequences, metric=metric, distinct=distinct))


def _write_rows(path: str | os.PathLike, rows: pd.DataFrame) -> Path:
    buf = io.StringIO()
    rows.to_csv(buf, index=False, lineterminator="\n")
    return write_text(path, buf.getvalue())


def checkpoint_submission(checkpoint: str | os.PathLike, data_dir: str | os.PathLike, path: str | os.PathLike, *,
                          tta: bool | None = None, batch_size: int | None = None, device=None,
                          checkpoint_method: str | None = None, metric: str | None = None, distinct: bool = False,
                          progress: bool = True) -> pd.DataFrame:
    """Write the submission file of ``checkpoint`` on the converted dataset ``data_dir`` (a dataset whose
    test probes' identities are withheld: GREW) and return its rows. Every test sequence is embedded
    (``gaitgraph.evaluation.evaluate_checkpoint.embed_split``, test set ``all``): the server scores every
    probe. ``tta``: the method's switchable test-time augmentation (None: its own default); ``metric``: the
    distance (None: the method's own, ``MethodSpec.metric``)."""
    from gaitgraph.data.format import load_dataset
    from gaitgraph.datasets import get_dataset, list_datasets
    from gaitgraph.evaluation.evaluate_checkpoint import EvaluationError, embed_split

    dataset = load_dataset(data_dir).meta.get("dataset")  # before the embedding work
    if dataset not in list_datasets() or not get_dataset(dataset).withheld_probes:
        raise EvaluationError(f"{data_dir}: {dataset} has no withheld probe set; a submission file is GREW's "
                              "official test (score other datasets with `gaitgraph evaluate`)")
    part = embed_split(checkpoint, data_dir, split="test", tta=tta, batch_size=batch_size, device=device,
                       progress=progress, test_set="all", checkpoint_method=checkpoint_method)
    dropped = part.test_set.get("num_dropped_by_method", 0)
    if dropped:
        raise EvaluationError(f"{checkpoint}: {part.embedder.method.title}'s test protocol drops {dropped} test "
                              "sequence(s) (too short), but the submission needs every probe")
    rows = submission_rows(part.embeddings, part.table, metric=metric or part.embedder.method.metric,
                           distinct=distinct)
    _write_rows(path, rows)
    return rows


def read_submission(path: str | os.PathLike) -> pd.DataFrame:
    """Read and check a submission file: exactly ``HEADER``, unique video ids, integer ranks."""
    path = Path(path)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != HEADER:
        raise ValueError(f"{path}: the header must be {','.join(HEADER)}")
    for lineno, row in enumerate(rows[1:], start=2):
        if len(row) != len(HEADER) or not all(c.lstrip("-").isdigit() for c in row[1:]):
            raise ValueError(f"{path}:{lineno}: expected a video id and {NUM_RANKS} integer subject ids")
    table = pd.DataFrame(rows[1:], columns=HEADER).astype({c: "int64" for c in HEADER[1:]})
    if table["videoId"].duplicated().any():
        raise ValueError(f"{path}: video id {table['videoId'][table['videoId'].duplicated()].iloc[0]!r} appears twice")
    return table


def score_submission(path: str | os.PathLike, truth: dict[str, int] | str | os.PathLike, ranks=(1, 5, 10, 20)) -> dict:
    """Rank-K accuracy (%) of a submission: the probe's true subject among its first K entries.

    ``truth`` maps video ids to subject ids, or is a CSV with columns ``videoId,subject``. Every probe
    of the truth must be in the submission.
    """
    table = read_submission(path)
    if not isinstance(truth, dict):
        t = pd.read_csv(truth, dtype={"videoId": str})
        truth = dict(zip(t["videoId"], t["subject"].astype(int)))
    missing = set(truth) - set(table["videoId"])
    if missing:
        raise ValueError(f"{path}: {len(missing)} probes of the truth are missing, e.g. {sorted(missing)[0]!r}")
    table = table[table["videoId"].isin(list(truth))]
    true = table["videoId"].map(truth).to_numpy(np.int64)[:, None]
    hit = table[HEADER[1:]].to_numpy(np.int64) == true  # (P, 20)
    return {f"rank{k}": round(100.0 * float(hit[:, :k].any(axis=1).mean()), 4) for k in ranks}
