"""Evaluate a checkpoint on a converted dataset: embeddings -> the dataset's protocol -> ``metrics.json`` + tables.

``evaluate_checkpoint`` loads the dataset and the checkpoint (any registered method,
``gaitgraph.evaluation.embed``), embeds every sequence of one split through the method's own test
pipeline (GaitGraph2: TTA by default), runs the dataset's protocol (``gaitgraph.evaluation.protocols``)
under the method's distance (``MethodSpec.metric``) and writes ``metrics.json`` with the full contract
(``gaitgraph.evaluation.metrics_file``) plus ``metrics.md`` and ``metrics.tex`` beside it.
:func:`score_embeddings` is the step from embeddings to the protocol's result that Lightning's
``gaitgraph test`` (``training.embedding_module``) shares.
"""

from __future__ import annotations

import os

import numpy as np

from gaitgraph.data.format import load_dataset
from gaitgraph.datasets import list_datasets
from gaitgraph.evaluation.metrics_file import metrics_record, write_metrics
from gaitgraph.evaluation.protocols import evaluate
from gaitgraph.evaluation.selection import Selection


class EvaluationError(ValueError):
    """An evaluation that cannot run as asked (wrong dataset, split, skeleton); the message says why."""


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
    use_tta = tta if embedder.has_tta else None  # a fixed protocol (the peers') has its own windows
    embeddings = embedder.embed(sequences, tta=use_tta, batch_size=batch_size, device=device, progress=progress)
    metric = metric or embedder.method.metric
    result, record, kept = score_embeddings(embeddings, table, dataset, chosen, num_total, metric)
    metrics = metrics_record(
        meta=ds.meta, data=data_dir, split=split, checkpoint=checkpoint, result=result, backbone=embedder.backbone,
        tta=bool(use_tta), metric=metric, embedding_dim=int(np.prod(embeddings.shape[1:])),
        method=method or embedder.method.title, experiment=experiment or embedder.method.name, seed=seed,
        num_sequences=int(kept.sum()), test_set=record,
        ckpt=embedder.ckpt,
    )
    write_metrics(output_json, metrics)
    return metrics


def score_embeddings(embeddings, table, dataset: str, chosen: Selection, num_total: int,
                     metric: str = "cos") -> tuple[dict, dict, np.ndarray]:
    """The dataset's protocol on the embeddings (N, D) or (N, C, P) of the selected sequences ``table``, except
    the rows the method's own protocol dropped (all NaN, ``gaitgraph.methods.common.dropped_rows``).

    Returns ``(result, test_set record, kept mask)``; the record counts the ``num_total`` sequences of the
    split, those left out by ``chosen`` or by the method (``num_dropped_by_method``, where any).
    """
    from gaitgraph.methods.common import dropped_rows

    embeddings = np.asarray(embeddings)
    kept = ~dropped_rows(embeddings)
    record = chosen.record(num_total, int(kept.sum()))
    if not kept.all():
        record["num_dropped_by_method"] = int((~kept).sum())
    result = evaluate(embeddings[kept], table[kept].reset_index(drop=True), dataset, metric=metric)
    return result, record, kept
