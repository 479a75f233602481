"""Evaluate a checkpoint on a converted dataset: embeddings -> the dataset's protocol -> ``metrics.json`` + tables.

``evaluate_checkpoint`` loads the dataset and the checkpoint (any registered method,
``gaitgraph.evaluation.embed``), embeds every sequence of one split through the method's own test
pipeline (GaitGraph2: TTA by default), runs the dataset's protocol (``gaitgraph.evaluation.protocols``)
under the method's distance (``MethodSpec.metric``) and writes ``metrics.json`` with the full contract
(``gaitgraph.evaluation.metrics_file``) plus ``metrics.md`` and ``metrics.tex`` beside it.
``embed_split`` is its first half (dataset + checkpoint -> the kept sequences and their embeddings),
shared with the GREW submission (``gaitgraph.evaluation.grew``); :func:`score_embeddings` is the step from
embeddings to the protocol's result that Lightning's ``gaitgraph test`` (``training.embedding_module``) shares.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gaitgraph.data.format import load_dataset
from gaitgraph.datasets import list_datasets
from gaitgraph.evaluation.metrics_file import metrics_record, write_metrics
from gaitgraph.evaluation.protocols import evaluate
from gaitgraph.evaluation.selection import Selection


class EvaluationError(ValueError):
    """An evaluation that cannot run as asked (wrong dataset, split, skeleton); the message says why."""


@dataclass
class EmbeddedSplit:
    """The sequences of one split that a method's protocol keeps, and their embeddings (row by row)."""

    meta: dict  # the dataset's meta.json
    table: pd.DataFrame  # the kept sequences' rows of the sequence table
    embeddings: np.ndarray  # (N, D), or (N, C, P) for part-based methods
    embedder: Any  # gaitgraph.evaluation.embed.Embedder
    tta: bool  # whether a switchable test-time augmentation was applied
    test_set: dict  # the selection's metrics.json record (gaitgraph.evaluation.selection)


def embed_split(
    checkpoint: str | os.PathLike,
    data_dir: str | os.PathLike,
    *,
    split: str = "test",
    tta: bool | None = True,
    batch_size: int | None = None,
    device=None,
    progress: bool = True,
    test_set: str = "auto",
    checkpoint_method: str | None = None,
) -> EmbeddedSplit:
    """Embed the sequences of ``split`` of the converted dataset ``data_dir`` with ``checkpoint`` through the
    method's own test pipeline (see :func:`evaluate_checkpoint` for the options). Sequences the test set
    leaves out are not embedded; those the method's protocol drops (GaitMixer: too short) are left out and
    counted (``test_set["num_dropped_by_method"]``)."""
    from gaitgraph.evaluation.embed import load_embedder  # the model stack is only needed here
    from gaitgraph.evaluation.selection import selection

    ds = load_dataset(data_dir)
    dataset = ds.meta.get("dataset")
    if dataset not in list_datasets(with_protocol=True):
        raise EvaluationError(
            f"{data_dir}: dataset is {dataset!r}; protocols exist for {', '.join(list_datasets(with_protocol=True))} only"
        )
    table = ds.sequences
    mask = (table["split"] == split).to_numpy()
    if not mask.any():
        found = ", ".join(sorted(table["split"].astype(str).unique()))
        raise EvaluationError(f"{data_dir}: no sequence in split {split!r} (splits present: {found or 'none'})")
    embedder = load_embedder(checkpoint, checkpoint_method)
    if embedder.skeleton != ds.meta.get("skeleton"):
        raise EvaluationError(
            f"{checkpoint} was trained on skeleton {embedder.skeleton}, but {data_dir} holds "
            f"{ds.meta.get('skeleton')} poses"
        )
    chosen = selection(test_set, embedder.sequence_length, embedder.method.test_set)
    num_total = int(mask.sum())
    mask &= chosen.keep(table["length"].to_numpy())
    if not mask.any():
        raise EvaluationError(f"{data_dir}: no sequence of split {split!r} has at least {chosen.min_length} frames "
                              f"(test set {chosen.name!r}; --test-set all keeps every sequence)")
    table = table[mask].reset_index(drop=True)
    offsets, lengths = table["offset"].to_numpy(), table["length"].to_numpy()
    sequences = [np.array(ds.poses[o : o + n]) for o, n in zip(offsets, lengths)]  # copies: the map is read-only
    use_tta = embedder.resolve_tta(tta)  # None: a fixed protocol (the peers') with its own windows
    embeddings = embedder.embed(sequences, tta=use_tta, batch_size=batch_size, device=device, progress=progress)
    embeddings, table, record = drop_method_rows(embeddings, table, chosen, num_total)
    return EmbeddedSplit(ds.meta, table, embeddings, embedder, bool(use_tta), record)


def evaluate_checkpoint(
    checkpoint: str | os.PathLike,
    data_dir: str | os.PathLike,
    output_json: str | os.PathLike,
    *,
    tta: bool | None = True,
    batch_size: int | None = None,
    device=None,
    split: str = "test",
    method: str | None = None,
    experiment: str | None = None,
    seed: int | None = None,
    progress: bool = True,
    test_set: str = "auto",
    checkpoint_method: str | None = None,
    metric: str | None = None,
) -> dict:
    """Embed ``split`` of the converted dataset ``data_dir`` with ``checkpoint``, evaluate every convention
    of the dataset's protocol, write ``output_json`` (+ the same name with ``.md``/``.tex`` beside it) and
    return the metrics dict.

    ``checkpoint_method``: the registered method of the checkpoint (default: recognised from the file);
    ``method`` / ``experiment``: the labels recorded in metrics.json (default: the method's title / name).
    ``tta``: the method's switchable test-time augmentation (None: its default; a method with a fixed
    protocol ignores it). ``test_set`` (``gaitgraph.evaluation.selection``): ``all`` sequences, ``gaitgraph1``
    (GaitGraph v1's protocol: sequences of at most the checkpoint's window length left out of gallery and
    probes) or ``auto`` = the method's own. Sequences the method's protocol drops (GaitMixer: too short)
    are left out and counted (``test_set.num_dropped_by_method``). ``metric``: the distance (``cos``, ``euc``;
    default: the method's own, ``MethodSpec.metric``)."""
    part = embed_split(checkpoint, data_dir, split=split, tta=tta, batch_size=batch_size, device=device,
                       progress=progress, test_set=test_set, checkpoint_method=checkpoint_method)
    metric = metric or part.embedder.method.metric
    result = evaluate(part.embeddings, part.table, part.meta.get("dataset"), metric=metric)
    metrics = metrics_record(
        meta=part.meta, data=data_dir, split=split, checkpoint=checkpoint, result=result,
        backbone=part.embedder.backbone, tta=part.tta, metric=metric,
        embedding_dim=int(np.prod(part.embeddings.shape[1:])), method=method or part.embedder.method.title,
        experiment=experiment or part.embedder.method.name, seed=seed, num_sequences=len(part.table),
        test_set=part.test_set, ckpt=part.embedder.ckpt,
    )
    write_metrics(output_json, metrics)
    return metrics


def drop_method_rows(embeddings, table: pd.DataFrame, chosen: Selection, num_total: int):
    """Leave out the rows the method's own protocol dropped (all NaN, ``gaitgraph.methods.common.dropped_rows``).

    Returns ``(embeddings, table, test_set record)`` of the kept rows; the record counts the ``num_total``
    sequences of the split, those left out by ``chosen`` or by the method (``num_dropped_by_method``, where any).
    """
    from gaitgraph.methods.common import dropped_rows

    embeddings = np.asarray(embeddings)
    kept = ~dropped_rows(embeddings)
    record = chosen.record(num_total, int(kept.sum()))
    if not kept.all():
        record["num_dropped_by_method"] = int((~kept).sum())
        embeddings, table = embeddings[kept], table[kept].reset_index(drop=True)
    return embeddings, table, record


def score_embeddings(embeddings, table, dataset: str, chosen: Selection, num_total: int,
                     metric: str = "cos") -> tuple[dict, dict, int]:
    """The dataset's protocol on the embeddings (N, D) or (N, C, P) of the selected sequences ``table``, except
    the rows the method's own protocol dropped (:func:`drop_method_rows`).

    Returns ``(result, test_set record, number of sequences scored)``.
    """
    embeddings, table, record = drop_method_rows(embeddings, table, chosen, num_total)
    return evaluate(embeddings, table, dataset, metric=metric), record, len(table)
