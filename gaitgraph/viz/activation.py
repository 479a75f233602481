"""Class activation maps on the skeleton, drawn as GIFs (``gaitgraph2.md`` §7, the original ``draw.yaml``).

For each sample the main-stream map ``F`` (C=256 x T' x V, before pooling; ``forward_features``) and
the embedding layer's weight ``W`` (K=128 x C; ``fcn.weight``) give one map per embedding dimension::

    R[k, t', v] = sum_c W[k, c] F[c, t', v]      ReLU, then divided by the sample's global max
    a[t, v]     = max_k R[k, t // stride, v]     stride = T / T' (4 for ResGCN and ST-GCN)

Each input frame ``t`` is drawn with its joints coloured (plasma, 0..1) and sized by ``a[t, v]`` and
the bones in grey (``gaitgraph.viz.animate``); one GIF per sequence, one GIF frame per input frame,
named ``{subject:03d}-{condition}-{sequence:02d}-{view:03d}.gif``. Unlike the original, the name holds
the walking condition (nm/bg/cl sequences with the same number no longer overwrite each other), the
folders are created and everything runs headless.

Three entries: ``activation_maps`` (the maths, batched), ``draw_activations`` (checkpoint + converted
dataset, no Lightning) and ``DrawActivationCallback`` (``gaitgraph predict --recipe gaitgraph2/draw``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.utilities import rank_zero_info

from gaitgraph.skeleton import Skeleton, get_skeleton
from gaitgraph.viz.animate import write_skeleton_gif

GIF_FRAME_SECONDS = 0.15  # the original's imageio duration


@torch.no_grad()
def activation_maps(model: torch.nn.Module, x_input: torch.Tensor, *, batch_size: int = 64) -> np.ndarray:
    """Per-frame, per-joint activation in [0, 1]: (N, I, C, T, V) network input -> (N, T, V).

    ``model`` has ``forward_features(x) -> (N, C', T', V)`` and ``fcn`` (``Linear(C', K)``). The model
    is run in eval mode (BatchNorm with running statistics) and its mode restored afterwards.
    """
    if x_input.dim() != 5:
        raise ValueError(f"expected the network input (N, I, C, T, V), got {tuple(x_input.shape)}")
    was_training = model.training
    model.eval()
    try:
        weight = model.fcn.weight  # (K, C')
        device = weight.device
        t_in = x_input.shape[3]
        out = []
        for chunk in x_input.split(batch_size):
            feat = model.forward_features(chunk.to(device=device, dtype=weight.dtype))  # (n, C', T', V)
            cam = torch.einsum("kc,nctv->nktv", weight, feat).relu()  # (n, K, T', V)
            peak = cam.flatten(1).amax(dim=1)
            cam = cam / torch.where(peak > 0, peak, torch.ones_like(peak))[:, None, None, None]
            per_joint = cam.amax(dim=1)  # (n, T', V): max over embedding dimensions
            t_feat = per_joint.shape[1]
            # input frame t -> feature frame t // stride with stride = T / T' (exact for T divisible by T')
            idx = torch.clamp(torch.arange(t_in, device=device) * t_feat // t_in, max=t_feat - 1)
            out.append(per_joint[:, idx].float().cpu())
        if not out:
            return np.zeros((0, t_in, x_input.shape[4]), dtype=np.float32)
        return torch.cat(out).numpy()
    finally:
        model.train(was_training)


def activation_filename(subject: int, condition: str, sequence: int, view: int, ext: str = "gif") -> str:
    """``{subject:03d}-{condition}-{sequence:02d}-{view:03d}.{ext}``, e.g. ``075-nm-05-090.gif``."""
    return f"{int(subject):03d}-{str(condition).lower()}-{int(sequence):02d}-{int(view):03d}.{ext}"


def draw_activation_gif(
    poses: np.ndarray,
    activation: np.ndarray,
    skeleton: str | Skeleton,
    out: str | os.PathLike,
    title: str,
    *,
    png_dir: str | os.PathLike | None = None,
    fps: float = 1 / GIF_FRAME_SECONDS,
) -> Path:
    """One GIF frame per input frame: (T, V, 3) poses with (T, V) activations; return the GIF path.

    ``title`` names the sample (subject, condition, sequence, view); the frame number is appended per
    frame. With ``png_dir`` every frame is also written as a PNG there.
    """
    poses = np.asarray(poses)
    t_len = len(poses)
    titles = [f"{title}\nframe {t + 1}/{t_len}" for t in range(t_len)]
    return write_skeleton_gif(poses, skeleton, out, titles, values=np.asarray(activation), fps=fps, png_dir=png_dir)


def _title(subject, condition, sequence, view) -> str:
    return f"subject {int(subject):03d}, {condition}-{int(sequence):02d}, view {int(view)}°"


def _write_all(poses, cams, meta: list[dict], skeleton, output_dir: Path, png: bool, fps: float) -> list[Path]:
    paths = []
    for p, a, m in zip(poses, cams, meta):
        name = activation_filename(m["subject"], m["condition"], m["sequence"], m["view"])
        png_dir = output_dir / "png" / Path(name).stem if png else None
        title = _title(m["subject"], m["condition"], m["sequence"], m["view"])
        paths.append(draw_activation_gif(p, a, skeleton, output_dir / name, title, png_dir=png_dir, fps=fps))
    return paths


def draw_activations(
    checkpoint: str | os.PathLike,
    data_dir: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    limit: int | None = 4,
    split: str = "test",
    png: bool = False,
    device: str | torch.device | None = None,
) -> list[Path]:
    """Activation GIFs of the first ``limit`` sequences of ``split`` (``train``/``test``/``all``).

    The sequences go through the checkpoint's own test pipeline (``gaitgraph.inference``: missing
    joints filled for openpose18, reflection-padded and centre-cropped to its sequence length), so each
    GIF shows exactly the frames the network saw.
    """
    from gaitgraph.checkpoints import load_model
    from gaitgraph.data.format import load_dataset
    from gaitgraph.inference import model_input, prepare_sequences

    loaded = load_model(checkpoint)
    model, spec = loaded.model, loaded.spec
    if device is not None:
        model = model.to(device)
    ds = load_dataset(data_dir)
    if ds.skeleton.name != get_skeleton(spec.skeleton).name:
        raise ValueError(f"{checkpoint}: model skeleton {spec.skeleton} but {data_dir} has {ds.skeleton.name}")
    table = ds.sequences
    if split != "all":
        splits = sorted(table["split"].astype(str).unique())
        if split not in splits:
            raise ValueError(f"{data_dir}: no {split!r} split (splits: {', '.join(splits)}, or 'all')")
    rows = np.arange(len(table)) if split == "all" else np.flatnonzero(table["split"].astype(str).to_numpy() == split)
    rows = rows[:limit] if limit is not None else rows
    x = prepare_sequences([np.array(ds.sequence(int(i)), dtype=np.float32) for i in rows], spec)  # (N, L, V, 3)
    cams = activation_maps(model, model_input(spec, x))  # moved to the model's device chunk by chunk
    meta = table.iloc[rows][["subject", "condition", "sequence", "view"]].to_dict("records")
    return _write_all(x.numpy(), cams, meta, spec.skeleton, Path(output_dir), png, 1 / GIF_FRAME_SECONDS)


class DrawActivationCallback(pl.Callback):
    """During ``predict``, draw activation GIFs of the predicted sequences (recipe ``gaitgraph2/draw``).

    Collects the raw poses of the predict batches (``batch["poses"]`` (N, L, V, 3), ``batch["row"]``
    = position in the data module's sequence table), and at the end of the epoch computes the class
    activation maps with the LightningModule's ``backbone`` and writes one GIF per sequence to
    ``output_dir`` (default ``<trainer.default_root_dir>/activations``), plus per-frame PNGs with
    ``png``. ``limit`` caps the number of sequences drawn.
    """

    def __init__(self, output_dir: str | None = None, png: bool = False, limit: int | None = None,
                 frame_seconds: float = GIF_FRAME_SECONDS):
        """
        Args:
            output_dir: folder of the GIFs (created); default ``<trainer.default_root_dir>/activations``.
            png: also write every frame as a PNG under ``output_dir/png/<gif name>/``.
            limit: draw at most this many sequences (all when None).
            frame_seconds: display time of one GIF frame (the original: 0.15 s).
        """
        super().__init__()
        self.output_dir = output_dir
        self.png = png
        self.limit = limit
        self.frame_seconds = frame_seconds
        self._poses: list[torch.Tensor] = []
        self._rows: list[torch.Tensor] = []
        self.written: list[Path] = []

    def _count(self) -> int:
        return sum(len(p) for p in self._poses)

    def on_predict_epoch_start(self, trainer, pl_module) -> None:
        self._poses, self._rows, self.written = [], [], []

    def on_predict_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        room = None if self.limit is None else self.limit - self._count()
        if room is not None and room <= 0:
            return
        if isinstance(batch, dict):
            poses, rows = batch["poses"], batch.get("row")
        else:  # (poses, ...) tuples from other data modules
            poses, rows = batch[0], None
        poses = poses.detach()[:room].cpu()
        if rows is None:
            start = self._count()
            rows = torch.arange(start, start + len(poses))
        self._poses.append(poses)
        self._rows.append(torch.as_tensor(rows).detach()[: len(poses)].cpu().long())

    def on_predict_epoch_end(self, trainer, pl_module) -> None:
        if not self._poses:
            return
        poses = torch.cat(self._poses)
        rows = torch.cat(self._rows).numpy()
        self._poses, self._rows = [], []
        skeleton = self._skeleton(trainer, pl_module)
        backbone = getattr(pl_module, "backbone", pl_module)
        x = self._input(pl_module, skeleton, poses.to(pl_module.device))
        cams = activation_maps(backbone, x)
        meta = self._meta(trainer, rows)
        out = Path(self.output_dir) if self.output_dir else Path(trainer.default_root_dir) / "activations"
        self.written = _write_all(poses.float().numpy(), cams, meta, skeleton, out, self.png, 1 / self.frame_seconds)
        rank_zero_info(f"DrawActivationCallback: {len(self.written)} activation GIFs in {out}")

    @staticmethod
    def _skeleton(trainer, pl_module) -> Skeleton:
        skel = getattr(pl_module, "skeleton", None)  # GaitGraph2 keeps its Skeleton here
        if skel is None:
            hparams = getattr(pl_module, "hparams", None) or {}
            dm = getattr(trainer, "datamodule", None)
            skel = hparams.get("skeleton") or getattr(dm, "skeleton", None)
        if skel is None:
            raise ValueError("DrawActivationCallback: cannot tell the skeleton layout (no pl_module.skeleton, "
                             "hparams['skeleton'] or datamodule.skeleton)")
        return get_skeleton(skel)

    @staticmethod
    def _input(pl_module, skeleton: Skeleton, poses: torch.Tensor) -> torch.Tensor:
        """(N, L, V, 3) raw poses -> the backbone's input, as the module builds it (or via build_input)."""
        if hasattr(pl_module, "features") and callable(pl_module.features):
            return pl_module.features(poses)
        from gaitgraph.transforms.features import build_input

        hp = getattr(pl_module, "hparams", {})
        return build_input(poses, skeleton, multi_branch=bool(hp.get("multi_input", True)),
                           mode=hp.get("features", "reference"))

    @staticmethod
    def _meta(trainer, rows: np.ndarray) -> list[dict]:
        dm = getattr(trainer, "datamodule", None)
        table = getattr(dm, "sequences", None) if dm is not None else None
        if table is not None and len(rows) and rows.max() < len(table):
            return table.iloc[rows][["subject", "condition", "sequence", "view"]].to_dict("records")
        # no sequence table: number the samples (subject = sample index)
        return [{"subject": int(r), "condition": "na", "sequence": 0, "view": 0} for r in rows]
