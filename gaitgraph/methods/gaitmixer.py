"""GaitMixer at test time, as its authors' code runs it (exitudio/GaitMixer @ 695fd35: ``src/train.py``
``val_transform`` + ``ThreeCenterSequenceTransform``, ``src/evaluate.py:evaluate``; ``docs/methods.md``).
Interface: ``gaitgraph.methods`` (``NAME``, ``TITLE``, ``CITATION``, ``is_checkpoint``, ``load_checkpoint``,
``embed``).

* **Checkpoint**: a plain state dict (``UnifyLog.save_model``: ``torch.save(model.state_dict(), ...)``;
  a ``module.`` prefix from ``nn.DataParallel`` is accepted), or one of ours (``gaitgraph fit``,
  ``gaitgraph.training.gaitmixer``: ``backbone.`` + the same names). Input width, skeleton (from V), depth,
  kernel, widths and embedding size are read from the weights; the head count (8) and the frame count (60)
  are not in the weights: arguments, or our checkpoint's hyper-parameters.
* **Test pipeline**, per sequence of T frames: three 60-frame windows (``three_window_index``) and their
  time reversals -> x, y / 320 (confidence dropped) -> network (eval; unit-length embeddings) -> the mean
  of the six embeddings, ``(N, 128)``, *not* re-normalised (the reference ranks by cosine distance).
* **Dropped sequences**: the reference's dataset keeps only sequences of more than 60 frames
  (``CasiaBPose``: ``len(sequence) < sequence_length + 1`` is deleted), so by default (``min_length`` =
  61) a sequence of T <= 60 frames gets a row of NaN (``gaitgraph.methods.common.dropped_rows`` marks
  them; evaluation excludes and counts them), or ``on_dropped="error"`` raises. ``min_length=60`` also
  embeds T = 60 (its three windows are the whole sequence); below 60 frames the network cannot run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from gaitgraph.methods.spec import MethodSpec

if TYPE_CHECKING:
    from gaitgraph.methods.common import LoadedMethodModel
# torch and the network are imported where they are used: the registry reads SPEC without them (workflow parsing)

NAME = "gaitmixer"
TITLE = "GaitMixer"
CITATION = (
    "E. Pinyoanuntapong, A. Ali, P. Wang, M. Lee, C. Chen: GaitMixer: Skeleton-based Gait Representation "
    "Learning via Wide-spectrum Multi-axial Mixer, ICASSP 2023 (arXiv 2210.15491); implementation: "
    "exitudio/GaitMixer @ 695fd35"
)
_SIGNATURE = ("spatial_joint_to_embedding.weight", "spatial_pos_embed", "conv1.conv.depthwise.weight", "head.1.weight")


def _state(ckpt: dict) -> dict | None:
    import torch

    from gaitgraph.methods.common import lightning_weights

    if not isinstance(ckpt, dict) or not ckpt:
        return None
    ours = lightning_weights(ckpt, NAME)
    if ours:
        ckpt = ours[0]
    if all(isinstance(k, str) and k.startswith("module.") for k in ckpt):
        ckpt = {k[len("module."):]: v for k, v in ckpt.items()}
    if not all(k in ckpt and isinstance(ckpt[k], torch.Tensor) for k in _SIGNATURE):
        return None
    return None if "temporal_cls_token" in ckpt else ckpt  # the repository's other model (GaitFormer)


def is_checkpoint(ckpt: dict) -> bool:
    """A plain GaitMixer state dict, or one of our checkpoints, (spatial transformer + depthwise temporal
    convolutions + head)."""
    state = _state(ckpt)
    return state is not None and state["spatial_pos_embed"].dim() == 3 and state["conv1.conv.depthwise.weight"].dim() == 4


def _arguments(state: dict, name: str, skeleton: str | None, num_frames: int, num_heads: int) -> dict:
    from gaitgraph.methods.common import weights_skeleton

    spatial_dim, in_channels = state["spatial_joint_to_embedding.weight"].shape
    joints = state["spatial_pos_embed"].shape[1]
    depth = len({int(m.group(1)) for k in state if (m := re.match(r"spatial_blocks\.(\d+)\.norm1\.weight$", k))})
    convs = sorted({int(m.group(1)) for k in state if (m := re.match(r"conv(\d+)\.bn\.weight$", k))})
    skel = weights_skeleton(joints, skeleton, name)
    hidden = state["spatial_blocks.0.mlp.fc1.weight"].shape[0] if depth else 2 * spatial_dim
    return dict(
        skeleton=skel.name, in_channels=int(in_channels), embedding_dim=int(state["head.1.weight"].shape[0]),
        num_frames=num_frames, spatial_dim=int(spatial_dim), depth=depth, num_heads=num_heads,
        mlp_ratio=hidden / spatial_dim, kernel_frames=int(state["conv1.conv.depthwise.weight"].shape[2]),
        temporal_channels=tuple(int(state[f"conv{i}.bn.weight"].shape[0]) for i in convs),
    )


def load_checkpoint(path_or_dict: str | Path | dict, map_location="cpu", *, skeleton: str | None = None,
                    num_frames: int | None = None, num_heads: int | None = None,
                    min_length: int | None = None) -> LoadedMethodModel:
    """Rebuild GaitMixer from its plain state dict or one of our checkpoints (path or loaded dict) -> network in
    eval mode.

    ``num_frames`` / ``num_heads``: default our checkpoint's hyper-parameters, else the reference's 60 / 8.
    ``min_length`` (default ``num_frames + 1``, the reference's dataset) is the fewest frames a sequence
    needs to be embedded; it cannot be below ``num_frames``.
    """
    from gaitgraph.checkpoints import CheckpointError, load_weights, read_checkpoint
    from gaitgraph.methods.common import LoadedMethodModel, lightning_weights
    from gaitgraph.models import create_model
    from gaitgraph.transforms.gaitmixer import NUM_FRAMES

    ckpt, name = read_checkpoint(path_or_dict, map_location)
    ours = lightning_weights(ckpt, NAME)
    hp = ours[1] if ours else {}
    num_frames = int(num_frames or hp.get("sequence_length", NUM_FRAMES))
    num_heads = int(num_heads or hp.get("num_heads", 8))
    skeleton = skeleton or hp.get("skeleton")
    min_length = num_frames + 1 if min_length is None else int(min_length)
    if min_length < num_frames:
        raise ValueError(f"min_length {min_length} is below the {num_frames} frames GaitMixer takes")
    if not is_checkpoint(ckpt):
        keys = ", ".join(map(str, list(ckpt)[:8])) if isinstance(ckpt, dict) else type(ckpt).__name__
        raise CheckpointError(
            f"{name}: not a GaitMixer checkpoint (expected a plain state dict with {', '.join(_SIGNATURE)}; keys: {keys})"
        )
    state = _state(ckpt)
    args = _arguments(state, name, skeleton, num_frames, num_heads)
    network = load_weights(create_model(NAME, **args), state, name, "GaitMixer")
    options = {"num_frames": num_frames, "min_length": min_length, "keep_conf": args["in_channels"] == 3}
    return LoadedMethodModel(NAME, network.eval(), args["skeleton"], options, name)


def embed(loaded: LoadedMethodModel, raw_sequences: Sequence, *, batch_size: int = 256, device=None,
          on_dropped: str = "nan") -> np.ndarray:
    """(N, embedding_dim) float32: the mean of the six window embeddings of each raw (T, V, 3) sequence.

    ``batch_size`` sequences (6 x as many windows) go through one forward. Sequences with fewer than
    ``min_length`` frames get NaN rows (``on_dropped="nan"``) or raise a ``ValueError`` (``"error"``).
    """
    import torch

    from gaitgraph.methods.common import prepare
    from gaitgraph.transforms.augment import gather_frames
    from gaitgraph.transforms.gaitmixer import network_input, three_window_index

    if on_dropped not in ("nan", "error"):
        raise ValueError(f"on_dropped must be 'nan' or 'error', got {on_dropped!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    seqs, device = prepare(loaded, raw_sequences, NAME, device)
    opts = loaded.options
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    kept = torch.nonzero(lengths >= opts["min_length"]).flatten().tolist()
    if on_dropped == "error" and len(kept) < len(seqs):
        short = [i for i in range(len(seqs)) if lengths[i] < opts["min_length"]]
        raise ValueError(f"{len(short)} sequences have fewer than {opts['min_length']} frames "
                         f"(GaitMixer drops them): indices {short[:10]}")
    out = np.full((len(seqs), loaded.network.head[1].out_features), np.nan, dtype=np.float32)
    with torch.inference_mode():
        for s in range(0, len(kept), batch_size):
            rows = kept[s : s + batch_size]
            flat = torch.cat([seqs[i] for i in rows]).to(device)
            offsets = np.cumsum([0] + [len(seqs[i]) for i in rows[:-1]])
            index = three_window_index(lengths[rows], opts["num_frames"]).to(device)  # (B, 3, L)
            b, _, length = index.shape
            windows = gather_frames(flat, offsets, index.reshape(b, -1)).reshape(b, 3, length, *flat.shape[1:])
            # the reference's batch order: w0, reversed w0, w1, reversed w1, w2, reversed w2
            variants = torch.stack([w for k in range(3) for w in (windows[:, k], windows[:, k].flip(1))])
            x = network_input(variants.flatten(0, 1), opts["keep_conf"])  # (6B, 1, C, L, V)
            emb = loaded.network(x).reshape(6, b, -1).mean(dim=0)
            out[rows] = emb.float().cpu().numpy()
    return out


SPEC = MethodSpec(
    name=NAME,
    title=TITLE,
    citation=CITATION,
    network="GaitMixer (gaitgraph.models.gaitmixer): spatial transformer + causal temporal convolutions, 60 frames",
    features="gaitgraph.transforms.gaitmixer.network_input",
    loss="gaitgraph.training.triplet_losses.multi_similarity_triplet",
    checkpoints="gaitgraph.methods.gaitmixer",
    module="gaitgraph.training.gaitmixer.GaitMixer",
    datamodule="gaitgraph.training.pk_datamodule.PKDataModule",
    # min_length: the network's 60 frames (gaitgraph.transforms.gaitmixer.NUM_FRAMES) + 1, as the reference's dataset
    data_defaults={"identities": None, "per_identity": 4, "frames": "flip_window", "min_length": 61,
                   "repeat_conditions": {"bg": 3, "cl": 3}},
    recipes={"casia-b": "gaitmixer/casia-b"},
    metric="cos",
)
