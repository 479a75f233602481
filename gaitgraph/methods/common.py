"""What the method modules share: the loaded model, our Lightning checkpoints, input checks, the dropped-row
convention."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch
from torch import nn

from gaitgraph.checkpoints import CheckpointError
from gaitgraph.inference import check_sequences
from gaitgraph.skeleton import Skeleton, get_skeleton, skeleton_for_joints


@dataclass
class LoadedMethodModel:
    """A reference checkpoint rebuilt: ``network`` (eval mode) plus what its test pipeline needs."""

    method: str  # the method module's NAME
    network: nn.Module
    skeleton: str
    options: dict = field(default_factory=dict)  # pipeline settings (e.g. num_frames, min_length, features mode)
    source: str = "<checkpoint dict>"  # the file it came from
    info: dict = field(default_factory=dict)  # extra checkpoint fields (e.g. FastPoseGait's iteration)


def lightning_weights(ckpt, method: str) -> tuple[dict, dict] | None:
    """``(network state dict, hyper-parameters)`` of one of our Lightning checkpoints of ``method`` (``gaitgraph
    fit`` writes the network as ``backbone.<the reference's names>`` and tags the file with ``gaitgraph_method``);
    None for anything else."""
    if not isinstance(ckpt, dict) or ckpt.get("gaitgraph_method") != method or not isinstance(ckpt.get("state_dict"), dict):
        return None
    state = {k[len("backbone."):]: v for k, v in ckpt["state_dict"].items() if k.startswith("backbone.")}
    hp = ckpt.get("hyper_parameters")
    return (state, dict(hp) if isinstance(hp, dict) else {}) if state else None


def weights_skeleton(joints: int, skeleton: str | None, name: str) -> Skeleton:
    """The skeleton of weights made for ``joints`` joints: ``skeleton`` if given (checked), else the layout with
    that many joints; ``CheckpointError`` naming the file (``name``) otherwise."""
    try:
        skel = get_skeleton(skeleton) if skeleton else skeleton_for_joints(joints)
    except ValueError as e:
        raise CheckpointError(f"{name}: {e}") from None
    if skel.num_joints != joints:
        raise CheckpointError(f"{name}: skeleton {skel.name} has {skel.num_joints} joints, the weights {joints}")
    return skel


def prepare(loaded: LoadedMethodModel, raw_sequences: Sequence, method: str, device) -> tuple[list[torch.Tensor], torch.device]:
    """Check the loaded model's method and the raw sequences; move the network to ``device``."""
    if not isinstance(loaded, LoadedMethodModel) or loaded.method != method:
        got = loaded.method if isinstance(loaded, LoadedMethodModel) else type(loaded).__name__
        raise ValueError(f"expected a {method} model from {method}.load_checkpoint, got {got}")
    seqs = check_sequences(raw_sequences, loaded.skeleton)
    if device is not None:
        loaded.network.to(device)
    loaded.network.eval()
    return seqs, next(loaded.network.parameters()).device


def dropped_rows(embeddings: np.ndarray) -> np.ndarray:
    """(N,) bool: rows that the reference's test protocol dropped (all NaN). Evaluation excludes and counts them."""
    return np.isnan(embeddings.reshape(len(embeddings), -1)).all(axis=1)
