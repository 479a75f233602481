"""``metrics.json``, the record of one evaluation (``docs/design.md``), written by one function.

Every path that evaluates — ``gaitgraph evaluate`` (:mod:`gaitgraph.evaluation.evaluate_checkpoint`), Lightning's
``gaitgraph test`` (``training.embedding_module``) and the ablation rows (``gaitgraph.ablation.rows``) —
builds its record with :func:`metrics_record` and writes it with :func:`write_metrics`, so every
``metrics.json`` carries the full contract: where the data and the checkpoint came from, the
configuration hash, method, experiment and seed, TTA, the test set, both software environments, and
the protocol's conventions.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from gaitgraph.environment import describe
from gaitgraph.outputs import write_json


def load_checkpoint_dict(checkpoint: str | os.PathLike) -> dict | None:
    """The checkpoint as a dict when it loads without pickle (GaitGraph v1 files may not)."""
    import torch

    try:
        ckpt = torch.load(Path(checkpoint), map_location="cpu", weights_only=True)
    except Exception:
        return None
    return ckpt if isinstance(ckpt, dict) else None


def config_hash(checkpoint: str | os.PathLike | None, ckpt: dict | None = None,
                hyper_parameters: dict | None = None) -> tuple[str, str]:
    """SHA-256 of the ``hyper_parameters`` (canonical JSON) or, without them, of the checkpoint file.

    Returns ``(hex digest, "hyper_parameters" | "file")``: two checkpoints of one configuration share the
    first kind of hash whatever their weights. ``ckpt``: the checkpoint already loaded;
    ``hyper_parameters``: those of a model in memory (no file needed).
    """
    hp = hyper_parameters
    if hp is None:
        ckpt = load_checkpoint_dict(checkpoint) if ckpt is None and checkpoint is not None else ckpt
        hp = ckpt.get("hyper_parameters") if isinstance(ckpt, dict) else None
    if isinstance(hp, dict) and hp:
        text = json.dumps(dict(hp), sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest(), "hyper_parameters"
    if checkpoint is None:
        return "", "none"
    digest = hashlib.sha256()
    with open(checkpoint, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest(), "file"


def metrics_record(
    *,
    meta: dict,
    data,
    split: str,
    checkpoint,
    result: dict,
    backbone: str | None,
    tta: bool,
    metric: str,
    embedding_dim: int,
    method: str,
    experiment: str,
    seed: int | None,
    num_sequences: int,
    test_set: dict | None,
    ckpt: dict | None = None,
    hyper_parameters: dict | None = None,
    extra: dict | None = None,
) -> dict:
    """The ``metrics.json`` record of one evaluation, keys in the contract's order.

    ``meta``: the evaluated dataset's ``meta.json``; ``metric``: the distance the protocol ranked by
    (``gaitgraph.evaluation.distance``); ``result``: ``gaitgraph.evaluation.protocols.evaluate``'s
    dict; ``ckpt`` / ``hyper_parameters``: what the configuration hash and the training environment are read
    from (the loaded checkpoint, or the hyper-parameters of a model in memory); ``extra``: keys of one kind of
    evaluation (e.g. an ablation row's ``test_shuffle``), placed before the protocol's.
    """
    digest, hash_source = config_hash(checkpoint, ckpt, hyper_parameters)
    return {
        "dataset": meta.get("dataset"),
        "keypoints": meta.get("keypoints"),
        "skeleton": meta.get("skeleton"),
        "synthetic": bool(meta.get("synthetic", False)),
        "normalization": meta.get("normalization"),
        "data": str(data),
        "split": split,
        "checkpoint": None if checkpoint is None else str(checkpoint),
        "config_hash": digest,
        "config_hash_source": hash_source,
        "backbone": backbone,
        "tta": bool(tta),
        "metric": metric,
        "embedding_dim": int(embedding_dim),
        "method": method,
        "experiment": experiment,
        "seed": seed,
        "num_sequences": int(num_sequences),
        "test_set": test_set,
        "environment": describe(),  # what evaluated
        "training_environment": (ckpt or {}).get("environment"),  # what trained (our checkpoints carry it)
        **(extra or {}),
        **result,
    }


def write_metrics(path: str | os.PathLike, record: dict, *, tables: bool = True) -> Path:
    """``record`` to ``path`` (atomic JSON) and, with ``tables``, its Markdown and LaTeX tables beside it
    (same name, ``.md`` / ``.tex``)."""
    from gaitgraph.evaluation.report import write_tables

    path = Path(path)
    write_json(path, record)
    if tables:
        write_tables(record, path.with_suffix(".md"), path.with_suffix(".tex"))
    return path
