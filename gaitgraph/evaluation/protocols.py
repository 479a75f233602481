"""Every convention of a dataset's protocol, as its dataset module declares it (``gaitgraph.datasets``).

``evaluate(embeddings, sequences, dataset)`` asks the registry for the dataset's conventions and runs
each with the engine of its kind: ``ViewMatrix`` conventions (rank-1 per gallery view x probe view:
CASIA-B, OUMVLP-Pose) with :mod:`gaitgraph.evaluation.view_matrix`, ``Retrieval`` conventions (rank-k,
mAP, mINP of a probe set against a gallery: Gait3D, GREW) with :mod:`gaitgraph.evaluation.retrieval`.
The result has the ``metrics.json`` shape of ``docs/design.md``: ``{"num_probe", "num_gallery",
"conventions"}``, conventions in the dataset's order (the first is the one papers report).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gaitgraph.datasets import get_dataset, list_datasets
from gaitgraph.datasets.spec import DatasetSpec, Retrieval, ViewMatrix
from gaitgraph.evaluation.distance import METRICS, prepare

VIEW_COLUMNS = ("subject", "condition", "sequence", "view")
SPLIT_NAMES = {"test": "test", "heldout": "held-out", "train": "train"}  # in messages


def _check_inputs(embeddings, sequences: pd.DataFrame, columns) -> None:
    n = len(embeddings)
    if len(sequences) != n:
        raise ValueError(f"{n} embeddings but {len(sequences)} sequence rows; they must correspond row by row")
    missing = set(columns) - set(sequences.columns)
    if missing:
        raise ValueError(f"sequence table lacks columns: {', '.join(sorted(missing))}")


def _retrieval(embeddings, sequences: pd.DataFrame, spec: DatasetSpec, conv: Retrieval, metric: str) -> dict | None:
    """One retrieval convention on the rows of its split; None when the rows hold none of that split."""
    from gaitgraph.evaluation.retrieval import retrieval_convention, table_metrics

    if conv.split is None:
        split = np.ones(len(sequences), bool)
    else:
        split = sequences["split"].astype(str).to_numpy() == conv.split
        if not split.any():
            return None
    probe, gallery = split & conv.probe.mask(sequences), split & conv.gallery.mask(sequences)
    if conv.scored:
        if not probe.any() or not gallery.any():
            raise ValueError(f"{spec.title}'s {conv.name} protocol needs probe and gallery rows of the "
                             f"{SPLIT_NAMES.get(conv.split, 'test')} split; got {int(probe.sum())} probes and "
                             f"{int(gallery.sum())} gallery sequences")
        result = table_metrics(embeddings, sequences, probe, gallery, ranks=conv.ranks, metric=metric)
    else:  # counted only: the probes' identities are withheld
        result = {"num_gallery": int(gallery.sum()), "num_probe": int(probe.sum()), "num_probe_scored": 0}
    return retrieval_convention(result, metric=metric, official=conv.official, gallery=conv.gallery.label,
                                probe=conv.probe.label, description=conv.description)


def evaluate(embeddings, sequences: pd.DataFrame, dataset: str, *, workers: int | None = None,
             backend: str | None = None, metric: str = "cos") -> dict:
    """Every convention of ``dataset``'s protocol, ``metrics.json`` shape.

    ``embeddings`` (N, D) or (N, C, P) and ``sequences`` (N rows: subject, condition, sequence, view, split,
    role as the dataset needs) correspond row by row; pass the evaluated split. Top-level ``num_probe`` /
    ``num_gallery`` are those of the first convention evaluated. ``workers`` / ``backend``: threads and
    kernel of the view-matrix engine (neither changes the result); ``metric``: the distance of every
    convention, ``cos`` or ``euc`` (``gaitgraph.evaluation.distance``; a method's ``MethodSpec.metric``).
    """
    if metric not in METRICS:
        raise ValueError(f"unknown distance {metric!r}; known: {', '.join(METRICS)}")
    spec = get_dataset(dataset) if str(dataset).lower() in list_datasets() or str(dataset).lower() == "oumvlp" else None
    if spec is None or not spec.conventions:
        raise ValueError(f"no evaluation protocol for dataset {dataset!r}; known: "
                         f"{', '.join(list_datasets(with_protocol=True))}")
    views = [c for c in spec.conventions if isinstance(c, ViewMatrix)]
    _check_inputs(embeddings, sequences, VIEW_COLUMNS if views else ("subject",))
    entries, first = {}, None
    if views:
        from gaitgraph.evaluation.view_matrix import view_matrix_conventions

        entries, first = view_matrix_conventions(prepare(embeddings, metric), sequences, views, metric=metric,
                                                 workers=workers, backend=backend)
    for conv in spec.conventions:
        if isinstance(conv, Retrieval) and (entry := _retrieval(embeddings, sequences, spec, conv, metric)) is not None:
            entries[conv.name] = entry
            first = first or {"num_probe": entry["num_probe"], "num_gallery": entry["num_gallery"]}
    if not entries:
        splits = dict.fromkeys(SPLIT_NAMES.get(c.split, c.split) for c in spec.conventions if isinstance(c, Retrieval))
        raise ValueError(f"{spec.title}'s protocols need rows of the " + " or of the ".join(f"{s} split" for s in splits))
    conventions = {c.name: entries[c.name] for c in spec.conventions if c.name in entries}
    return {**first, "conventions": conventions}
