"""GaitTR at test time, as FastPoseGait runs it (``configs/gaittr/gaittr.yaml`` ``evaluator_cfg``;
``docs/methods.md``). Interface: ``gaitgraph.methods`` (``NAME``, ``TITLE``, ``CITATION``, ``is_checkpoint``,
``load_checkpoint``, ``embed``).

* **Checkpoint**: the file FastPoseGait's ``BaseModel.save_ckpt`` writes, ``{"model": state_dict,
  "optimizer", "scheduler", "iteration"}``; only ``model`` is used (names as ``gaitgraph.models.gaittr``).
  Or one of ours (``gaitgraph fit``, ``gaitgraph.training.gaittr``): ``backbone.`` + the same names, the
  feature mode and skeleton in its hyper-parameters. The input width, skeleton (from V), block widths and
  embedding size are read from the weights.
* **Test pipeline**: every whole sequence (no cropping, no padding, no normalisation, missing (0, 0, 0)
  joints kept as they are) -> ``gaittr_input`` (10 channels, pixels) -> network in eval mode -> the
  embedding as ``(N, 128, 1)`` (FastPoseGait's ``inference_feat['embeddings']``: 128 channels x 1 part).
* **One sequence per forward**, as the reference's test config (``InferenceSampler`` batch = number of GPUs).
  ``batch_size > 1`` stacks sequences *of equal length* into one forward: in eval mode nothing mixes
  across a stacked batch, so the embeddings are the same (checked against the fixture's
  ``output_batched``). The reference's own multi-sequence batch is different: its ``all_ordered`` collate
  *concatenates* the sequences of a batch along time and GaitTR ignores ``seqL``, so a GPU holding k > 1
  sequences returns one embedding of their concatenation. That mixing is not reproduced
  (``docs/fidelity.md``, GaitTR). No sequence is ever dropped (T >= 1 works).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from gaitgraph.methods.spec import MethodSpec

if TYPE_CHECKING:
    from gaitgraph.methods.common import LoadedMethodModel
# torch and the network are imported where they are used: the registry reads SPEC without them (workflow parsing)

NAME = "gaittr"
TITLE = "GaitTR"
CITATION = (
    "C. Zhang, X.-P. Chen, G.-Q. Han, X.-J. Liu: Spatial transformer network on skeleton-based gait recognition, "
    "arXiv 2204.03873 (2022); implementation: BNU-IVC/FastPoseGait @ 94da9c8, configs/gaittr/gaittr.yaml"
)
_SIGNATURE = ("data_bn.weight", "backbone.0.tcn.conv.weight", "backbone.0.st.attention_conv.qkv_conv.weight", "fcn.weight")


def _weights(ckpt: dict) -> dict | None:
    import torch

    from gaitgraph.methods.common import lightning_weights

    ours = lightning_weights(ckpt, NAME)
    state = ours[0] if ours else ckpt.get("model") if isinstance(ckpt, dict) else None
    ok = isinstance(state, dict) and all(isinstance(state.get(k), torch.Tensor) for k in _SIGNATURE)
    return state if ok else None


def is_checkpoint(ckpt: dict) -> bool:
    """A FastPoseGait checkpoint (``model`` key), or one of ours, holding GaitTR weights (Conv1d ``fcn``, attention
    blocks)."""
    state = _weights(ckpt)
    return state is not None and state["fcn.weight"].dim() == 3 and state["backbone.0.tcn.conv.weight"].dim() == 4


def _arguments(state: dict, name: str, skeleton: str | None) -> dict:
    """The network's constructor arguments, read from the weights."""
    from gaitgraph.checkpoints import CheckpointError
    from gaitgraph.methods.common import weights_skeleton

    c0, _, kernel, _ = state["backbone.0.tcn.conv.weight"].shape
    joints, rest = divmod(state["data_bn.weight"].shape[0], c0)
    if rest:
        raise CheckpointError(f"{name}: data_bn has {state['data_bn.weight'].shape[0]} channels, not a multiple of {c0}")
    blocks = sorted({int(m.group(1)) for k in state if (m := re.match(r"backbone\.(\d+)\.st\.bn\.weight$", k))})
    skel = weights_skeleton(joints, skeleton, name)
    return dict(
        skeleton=skel.name, in_channels=int(c0), kernel_size=int(kernel), embedding_dim=int(state["fcn.weight"].shape[0]),
        channels=tuple(int(state[f"backbone.{i}.st.bn.weight"].shape[0]) for i in blocks),
    )


def load_checkpoint(path_or_dict: str | Path | dict, map_location="cpu", *, skeleton: str | None = None,
                    features: str | None = None) -> LoadedMethodModel:
    """Rebuild GaitTR from a FastPoseGait checkpoint or one of ours (path or loaded dict) -> network in eval mode.

    ``features``: the input mode; default the checkpoint's (ours record it; FastPoseGait's are ``reference``).
    ``"corrected"`` keeps the one-frame velocity of frame T - 2 (not for released checkpoints).
    """
    from gaitgraph.checkpoints import CheckpointError, load_weights, read_checkpoint
    from gaitgraph.methods.common import LoadedMethodModel, lightning_weights
    from gaitgraph.models import create_model
    from gaitgraph.transforms.gaittr import MODES

    ckpt, name = read_checkpoint(path_or_dict, map_location)
    ours = lightning_weights(ckpt, NAME)
    hp = ours[1] if ours else {}
    features = features or hp.get("features", "reference")
    skeleton = skeleton or hp.get("skeleton")
    if features not in MODES:
        raise ValueError(f"unknown GaitTR feature mode {features!r}; known: {', '.join(MODES)}")
    if not is_checkpoint(ckpt):
        raise CheckpointError(
            f"{name}: not a FastPoseGait GaitTR checkpoint (expected a dict whose 'model' holds GaitTR weights "
            f"{', '.join(_SIGNATURE)}; keys: {', '.join(map(str, list(ckpt)[:8]))})"
        )
    state = _weights(ckpt)
    args = _arguments(state, name, skeleton)
    network = load_weights(create_model(NAME, **args), state, name, "GaitTR")
    info = {k: ckpt[k] for k in ("iteration", "global_step") if k in ckpt}
    return LoadedMethodModel(NAME, network.eval(), args["skeleton"], {"features": features}, name, info)


def embed(loaded: LoadedMethodModel, raw_sequences: Sequence, *, batch_size: int = 1, device=None) -> np.ndarray:
    """(N, embedding_dim, 1) float32 test-time embeddings of raw (T, V, 3) pixel sequences.

    ``batch_size`` is the number of sequences of equal length stacked into one forward (1 = the reference).
    """
    import torch

    from gaitgraph.methods.common import prepare
    from gaitgraph.transforms.gaittr import gaittr_input

    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    seqs, device = prepare(loaded, raw_sequences, NAME, device)
    dim = loaded.network.fcn.out_channels
    out = np.zeros((len(seqs), dim, 1), dtype=np.float32)
    by_length = defaultdict(list)
    for i, s in enumerate(seqs):
        by_length[len(s)].append(i)
    with torch.inference_mode():
        for rows in by_length.values():
            for s in range(0, len(rows), batch_size):
                idx = rows[s : s + batch_size]
                x = torch.stack([seqs[i] for i in idx]).to(device)  # (B, T, V, 3)
                feats = gaittr_input(x, loaded.skeleton, loaded.options["features"]).unsqueeze(1)  # (B, 1, 10, T, V)
                out[idx, :, 0] = loaded.network(feats).float().cpu().numpy()
    return out


SPEC = MethodSpec(
    name=NAME,
    title=TITLE,
    citation=CITATION,
    network="GaitTR (gaitgraph.models.gaittr): TCN + spatial-transformer blocks on 10 input channels",
    features="gaitgraph.transforms.gaittr.gaittr_input",
    loss="gaitgraph.training.triplet_losses.batch_hard_triplet",
    checkpoints="gaitgraph.methods.gaittr",
    module="gaitgraph.training.gaittr.GaitTR",
    datamodule="gaitgraph.training.pk_datamodule.PKDataModule",
    data_defaults={"identities": 4, "per_identity": 64, "frames": "window", "min_length": 1},
    recipes={"casia-b": "gaittr/casia-b"},
    metric="euc",
)
