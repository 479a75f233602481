"""Embeddings from raw pose sequences with the original GaitGraph2 test pipeline (``gaitgraph2.md`` §3, §6).

Per sequence: [fill_missing_joints (openpose18)] -> pad_sequence(L) -> center_crop(L). Then, per
batch: build_input -> model (eval). With TTA the batch also holds the time-reversed sequences and the
left/right joint-swapped ones (labels swapped, coordinates not mirrored), each rebuilt from raw
(x, y, conf), and the three embeddings are concatenated: 3 x 128 = 384-d.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from gaitgraph.checkpoints import LoadedModel, ModelSpec, load_model
from gaitgraph.skeleton import get_skeleton
from gaitgraph.transforms.features import build_input
from gaitgraph.transforms.sequence import fill_missing_joints, to_length


def model_input(spec: ModelSpec, x: torch.Tensor) -> torch.Tensor:
    """(N, L, V, 3) raw poses -> the (N, I, C, L, V) input the checkpoint's network expects."""
    if spec.multi_input and spec.num_branches == 1 and spec.in_channels == 15:
        # the original single-branch CASIA-B default: the three branches concatenated as 15 channels
        feats = build_input(x, spec.skeleton, multi_branch=True, mode=spec.features)
        return feats.flatten(1, 2).unsqueeze(1)
    return build_input(x, spec.skeleton, multi_branch=spec.multi_input, mode=spec.features)


def tta_embedding(forward, poses: torch.Tensor, flip_idx) -> torch.Tensor:
    """GaitGraph2's test-time augmentation: ``forward`` ((N, L, V, 3) -> (N, D)) of the plain, time-reversed
    and left/right joint-swapped sequences (labels swapped, coordinates not mirrored), concatenated (N, 3D).

    The three variants run as one forward pass of 3N sequences; with the network in eval mode BatchNorm
    uses running statistics, so batching does not change any embedding. The training module's
    evaluation (``GaitGraph2.embed``) and checkpoint embedding (:func:`embed_batch`) both call this.
    """
    flip = torch.as_tensor(flip_idx, device=poses.device)
    variants = torch.cat([poses, poses.flip(1), poses[:, :, flip]])  # (3N, L, V, 3)
    return torch.cat(forward(variants).chunk(3), dim=1)


def embed_batch(model: nn.Module, spec: ModelSpec, x: torch.Tensor, tta: bool = True) -> torch.Tensor:
    """(N, L, V, 3) poses already cropped to length and on the model's device -> (N, D) or (N, 3D)."""
    if not tta:
        return model(model_input(spec, x))
    return tta_embedding(lambda poses: model(model_input(spec, poses)), x, get_skeleton(spec.skeleton).flip_idx)


def check_sequences(sequences: Sequence, skeleton: str, keep_float64: bool = False) -> list[torch.Tensor]:
    """Raw (T, V, 3) arrays or tensors -> CPU float32 tensor copies (float64 kept if asked); a bad one raises a
    one-line ``ValueError`` naming its index (wrong shape for ``skeleton``, no frames, NaN or inf)."""
    skel = get_skeleton(skeleton)
    joints = skel.num_joints
    out = []
    for i, seq in enumerate(sequences):
        try:
            seq = seq.detach() if isinstance(seq, torch.Tensor) else torch.tensor(np.asarray(seq))
        except (TypeError, ValueError, RuntimeError) as e:
            raise ValueError(f"sequence {i}: not a numeric array ({str(e).splitlines()[0]})") from None
        dtype = torch.float64 if keep_float64 and seq.dtype == torch.float64 else torch.float32
        seq = seq.to("cpu", dtype, copy=True)  # a copy: read-only arrays (memory maps) are fine too
        if seq.dim() != 3 or seq.shape[1:] != (joints, 3):
            raise ValueError(f"sequence {i}: expected shape (T, {joints}, 3) for {skel.name}, got {tuple(seq.shape)}")
        if seq.shape[0] == 0:
            raise ValueError(f"sequence {i}: has no frames (T = 0)")
        if not torch.isfinite(seq).all():
            raise ValueError(f"sequence {i}: contains NaN or inf")
        out.append(seq)
    return out


def prepare_sequences(sequences: Sequence, spec: ModelSpec) -> torch.Tensor:
    """Raw (T, V, 3) sequences -> (N, L, V, 3): the original test pipeline up to the features."""
    seqs = check_sequences(sequences, spec.skeleton)
    if spec.skeleton == "openpose18":  # the original NormalizeEmpty, test/val only
        seqs = [fill_missing_joints(s) for s in seqs]
    length = spec.sequence_length
    return torch.stack([to_length(s, length) for s in seqs]) if seqs else torch.empty(0, length, 0, 3)


def embed_windows(loaded: LoadedModel, x: torch.Tensor, tta: bool = True, *, batch_size: int = 256, device=None,
                  progress: bool = False) -> np.ndarray:
    """Embeddings of windows already prepared (:func:`prepare_sequences`, (N, L, V, 3)), in batches."""
    model, spec = loaded.model, loaded.spec
    if device is not None:
        model = model.to(device)
    device = next(model.parameters()).device
    model.eval()
    dim = spec.embedding_dim * (3 if tta else 1)
    starts = range(0, len(x), batch_size)
    if progress:
        from tqdm import tqdm

        starts = tqdm(starts, desc="embed", unit="batch")
    out = [np.empty((0, dim), dtype=np.float32)]
    with torch.inference_mode():
        for s in starts:
            batch = x[s : s + batch_size].to(device)
            out.append(embed_batch(model, spec, batch, tta).float().cpu().numpy())
    return np.concatenate(out)


def embed(
    checkpoint: str | Path | LoadedModel, sequences: Sequence, tta: bool = True, *,
    batch_size: int = 256, device=None, progress: bool = False,
) -> np.ndarray:
    """One embedding per raw (T, V, 3) pose sequence (pixel x, y, conf): (N, 384) with TTA, (N, 128) without.

    ``checkpoint`` is a path or a :class:`LoadedModel`; the variant, skeleton and sequence length come
    from it. ``device`` defaults to where the model already is (CPU for a path).
    """
    loaded = checkpoint if isinstance(checkpoint, LoadedModel) else load_model(checkpoint)
    x = prepare_sequences(sequences, loaded.spec)
    return embed_windows(loaded, x, tta, batch_size=batch_size, device=device, progress=progress)
