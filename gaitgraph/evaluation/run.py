"""Evaluate a checkpoint on a converted dataset: TTA embeddings -> protocols -> ``metrics.json`` + tables.

``evaluate_checkpoint`` loads the dataset and the checkpoint, embeds every sequence of one split with
``gaitgraph.inference.embed`` (TTA by default), runs the dataset's protocols
(``gaitgraph.evaluation.protocols.evaluate``) and writes, atomically, ``metrics.json`` in the shape of
``docs/design.md`` plus ``metrics.md`` and ``metrics.tex`` beside it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch

from gaitgraph.data.format import load_dataset
from gaitgraph.environment import describe
from gaitgraph.datasets import list_datasets
from gaitgraph.evaluation.protocols import evaluate
from gaitgraph.evaluation.tables import write_tables
from gaitgraph.outputs import write_json


class EvaluationError(ValueError):
    """An evaluation that cannot run as asked (wrong dataset, split, skeleton); the message says why."""


def load_checkpoint_dict(checkpoint: str | os.PathLike) -> dict | None:
    """The checkpoint as a dict when it loads without pickle (GaitGraph v1 files may not)."""
    try:
        ckpt = torch.load(Path(checkpoint), map_location="cpu", weights_only=True)
    except Exception:
        return None
    return ckpt if isinstance(ckpt, dict) else None


def config_hash(checkpoint: str | os.PathLike, ckpt: dict | None = None) -> tuple[str, str]:
    """SHA-256 of the checkpoint's ``hyper_parameters`` (canonical JSON) or, without them, of the file.

    Returns ``(hex digest, "hyper_parameters" | "file")``: two checkpoints of one configuration share
    the first kind of hash whatever their weights. ``ckpt``: the checkpoint already loaded.
    """
    path = Path(checkpoint)
    ckpt = load_checkpoint_dict(path) if ckpt is None else ckpt
    hp = ckpt.get("hyper_parameters") if isinstance(ckpt, dict) else None
    if isinstance(hp, dict) and hp:
        text = json.dumps(hp, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest(), "hyper_parameters"
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest(), "file"


def evaluate_checkpoint(
    checkpoint: str | os.PathLike,
    data_dir: str | os.PathLike,
    output_json: str | os.PathLike,
    *,
    tta: bool = True,
    batch_size: int = 256,
    device=None,
    split: str = "test",
    method: str = "GaitGraph2",
    experiment: str = "gaitgraph2",
    seed: int | None = None,
    progress: bool = True,
    test_set: str = "auto",
) -> dict:
    """Embed ``split`` of the converted dataset ``data_dir`` with ``checkpoint``, evaluate every
    convention of the dataset, write ``output_json`` (+ the same name with ``.md``/``.tex`` beside it) and
    return the metrics dict.

    ``test_set`` (``gaitgraph.evaluation.selection``): ``all`` sequences, ``gaitgraph1`` (GaitGraph v1's
    protocol: sequences of at most the checkpoint's window length left out of gallery and probes) or
    ``auto`` = the method's own (``gaitgraph1`` for GaitGraph v1 checkpoints, else ``all``)."""
    from gaitgraph.checkpoints import load_model  # the model stack is only needed here
    from gaitgraph.evaluation.selection import selection
    from gaitgraph.inference import embed

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
    loaded = load_model(checkpoint)
    if loaded.spec.skeleton != ds.meta.get("skeleton"):
        raise EvaluationError(
            f"{checkpoint} was trained on skeleton {loaded.spec.skeleton}, but {data_dir} holds "
            f"{ds.meta.get('skeleton')} poses"
        )
    chosen = selection(test_set, loaded.spec.sequence_length, loaded.spec)
    num_total = int(mask.sum())
    mask &= chosen.keep(table["length"].to_numpy())
    if not mask.any():
        raise EvaluationError(f"{data_dir}: no sequence of split {split!r} has at least {chosen.min_length} frames "
                              f"(test set {chosen.name!r}; --test-set all keeps every sequence)")
    table = table[mask].reset_index(drop=True)
    offsets, lengths = table["offset"].to_numpy(), table["length"].to_numpy()
    sequences = [np.array(ds.poses[o : o + n]) for o, n in zip(offsets, lengths)]  # copies: the map is read-only
    embeddings = embed(loaded, sequences, tta=tta, batch_size=batch_size, device=device, progress=progress)
    result = evaluate(np.asarray(embeddings), table, dataset)

    ckpt = load_checkpoint_dict(checkpoint)
    digest, hash_source = config_hash(checkpoint, ckpt)
    metrics = {
        "dataset": dataset,
        "keypoints": ds.meta.get("keypoints"),
        "skeleton": ds.meta.get("skeleton"),
        "synthetic": bool(ds.meta.get("synthetic", False)),
        "normalization": ds.meta.get("normalization"),
        "data": str(data_dir),
        "split": split,
        "checkpoint": str(checkpoint),
        "config_hash": digest,
        "config_hash_source": hash_source,
        "backbone": loaded.spec.backbone,
        "tta": bool(tta),
        "embedding_dim": int(embeddings.shape[1]),
        "method": method,
        "experiment": experiment,
        "seed": seed,
        "num_sequences": int(len(table)),
        "test_set": chosen.record(num_total, len(table)),
        "environment": describe(),  # what evaluated
        "training_environment": (ckpt or {}).get("environment"),  # what trained (our checkpoints carry it)
        **result,
    }
    output_json = Path(output_json)
    write_json(output_json, metrics)
    write_tables(metrics, output_json.with_suffix(".md"), output_json.with_suffix(".tex"))
    return metrics
