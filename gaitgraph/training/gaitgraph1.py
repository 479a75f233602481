"""GaitGraph (v1, Teepe et al., ICIP 2021) as a second method: model, two-view SupCon, augmentations, CLI.

The recipe (``gaitgraph2.md`` §1.3, §3 "G1 differences", §4, §5 "G1", §6):

* network ``resgcn-n39-r8``, ONE input branch of raw (x, y, conf) (1 x 3), 128-d embedding,
  L2-normalised inside the model (319,530 parameters on COCO-17);
* training batches hold TWO independently augmented views of every sequence (``TwoNoiseTransform``);
  per view, in the original's order: MirrorPoses (p 0.5, per frame ``x' = 2 mean_x - x``, joint labels
  NOT swapped), FlipSequence (p 0.5), RandomSelectSequence(L), PointNoise (Gaussian, sigma 0.05, on x,
  y and conf, no clamp), JointNoise (Gaussian, sigma 0.25 hard-coded, one x, y offset per joint,
  constant over time). Frame selection (flip + window) is index arithmetic in the loader, drawn
  independently for the two views; mirroring and noise run vectorised on the training device;
* loss: the HobbitLong ``SupConLoss`` on features ``[bsz, 2, 128]`` (contrast_mode ``all``,
  temperature 0.01, base temperature 0.07, loss scaled by tau / tau_base, dot products of the
  L2-normalised embeddings): :func:`supcon_two_view`;
* ``Adam(lr, weight_decay=1e-5)`` with a one-cycle schedule stepped per batch;
* two phases: 300 epochs at lr 1e-2 (``config/train/gaitgraph1.yaml``), then 100 epochs at lr 1e-5
  starting from the phase-1 weights (``config/train/gaitgraph1_finetune.yaml`` + ``--model.init_from``);
* the original drops sequences with <= 60 frames (no padding): ``GaitGraph1DataModule(min_length=61)``
  in training, and from its validation/test sets as well (``test_set="gaitgraph1"``, the default here;
  ``gaitgraph evaluate`` does the same for v1 checkpoints unless ``--test-set all``);
* evaluation: the original's "flip TTA" flips dimension 1 (branches) of a one-branch input, a no-op, so
  the G1-faithful evaluation is the plain 128-d embedding (``tta: false``; :func:`flip_tta_embedding`).

The module subclasses :class:`~gaitgraph.training.module.GaitGraph2`, so hyper-parameter names, the
``backbone.`` weight names and evaluation/test/predict are shared, and
``gaitgraph.checkpoints.load_model`` reads its checkpoints (``l2_normalize: true`` in the hyper-parameters).

Command line (the ``gaitgraph`` CLI is bound to ``GaitGraph2``; this is the same CLI bound to v1)::

    python -m gaitgraph.training.gaitgraph1 fit --config config/train/gaitgraph1.yaml \\
        --data.data_path DATA --trainer.default_root_dir RUN1
    python -m gaitgraph.training.gaitgraph1 fit --config config/train/gaitgraph1.yaml \\
        --config config/train/gaitgraph1_finetune.yaml --model.init_from RUN1/checkpoints/last.ckpt \\
        --data.data_path DATA --trainer.default_root_dir RUN2
"""

from __future__ import annotations

import sys
from typing import Literal

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from gaitgraph.models import create_model
from gaitgraph.runtime import keep_freed_memory
from gaitgraph.skeleton import get_skeleton
from gaitgraph.training.datamodule import PoseDataModule, _Collate, _Rows
from gaitgraph.training.losses import gather_with_local_grad
from gaitgraph.training.module import GaitGraph2, input_shape
from gaitgraph.transforms.augment import gather_frames, train_frame_index

G1_MIN_LENGTH = 61  # the original keeps only sequences with MORE than 60 frames


# ---------------------------------------------------------------- loss


def supcon_two_view(features: torch.Tensor, labels: torch.Tensor, temperature: float = 0.01,
                    base_temperature: float = 0.07) -> torch.Tensor:
    """HobbitLong's SupConLoss, ``contrast_mode='all'``: ``features`` [bsz, n_views, D] (already
    L2-normalised), ``labels`` [bsz].

    Every one of the ``n_views * bsz`` rows is an anchor; its positives are all other rows with the same
    label (its own other views included), the denominator runs over all rows but itself. Logits are dot
    products over the temperature (row maximum subtracted); the per-anchor mean log-probability of the
    positives is scaled by ``-temperature / base_temperature`` and averaged over anchors.
    """
    if features.ndim != 3:
        raise ValueError(f"features must be [bsz, n_views, D], got {tuple(features.shape)}")
    bsz, n_views, _ = features.shape
    if labels.shape != (bsz,):
        raise ValueError(f"labels must be [{bsz}], got {tuple(labels.shape)}")
    contrast = torch.cat(torch.unbind(features, dim=1), dim=0)  # [n_views * bsz, D], view-major
    logits = contrast @ contrast.T / temperature
    logits = logits - logits.max(dim=1, keepdim=True).values.detach()
    lab = labels.repeat(n_views)
    not_self = ~torch.eye(len(lab), dtype=torch.bool, device=features.device)
    positive = (lab[:, None] == lab[None, :]) & not_self
    exp_logits = torch.exp(logits) * not_self
    log_prob = logits - torch.log(exp_logits.sum(dim=1, keepdim=True))
    mean_log_prob_pos = (positive * log_prob).sum(dim=1) / positive.sum(dim=1).clamp(min=1)
    return -(temperature / base_temperature) * mean_log_prob_pos.mean()


class TwoViewSupCon(nn.Module):
    """:func:`supcon_two_view` on the global batch under DDP (gathered as ``GaitGraph2``'s loss does)."""

    def __init__(self, temperature: float = 0.01, base_temperature: float = 0.07):
        super().__init__()
        self.temperature = temperature
        self.base_temperature = base_temperature
        self.last_batch_size = 0

    def forward(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        feats, lab, world = gather_with_local_grad(features, labels)
        self.last_batch_size = int(feats.shape[0])
        value = supcon_two_view(feats, lab, self.temperature, self.base_temperature)
        if world > 1:
            value = value + (world - 1) * (value - value.detach())
        return value


# ---------------------------------------------------------------- augmentation


class G1Augment:
    """G1's value augmentations of a (N, L, V, 3) batch, vectorised, on the batch's device:
    MirrorPoses (p), then PointNoise N(0, point_noise_std) on all 3 channels, then JointNoise
    N(0, joint_noise_std) per joint on x, y, constant over time. (Mirroring is per frame, so applying it
    after the frame selection is the same as the original's before.)"""

    def __init__(self, mirror_poses_p: float = 0.5, point_noise_std: float = 0.05, joint_noise_std: float = 0.25):
        self.mirror_poses_p = mirror_poses_p
        self.point_noise_std = point_noise_std
        self.joint_noise_std = joint_noise_std

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if x.ndim != 4 or x.shape[-1] != 3:
            raise ValueError(f"expected (N, L, V, 3) poses, got {tuple(x.shape)}")
        n, t, v, _ = x.shape
        out = x.clone()
        if self.mirror_poses_p > 0:
            mirror = torch.rand(n, generator=generator, device=x.device) < self.mirror_poses_p
            xs = out[..., 0]
            mirrored = 2 * xs.mean(dim=2, keepdim=True) - xs  # per frame, about the mean joint x
            out[..., 0] = torch.where(mirror[:, None, None], mirrored, xs)
        if self.point_noise_std > 0:
            out += torch.randn(out.shape, generator=generator, device=x.device, dtype=x.dtype) * self.point_noise_std
        if self.joint_noise_std > 0:
            offset = torch.randn((n, 1, v, 2), generator=generator, device=x.device, dtype=x.dtype)
            out[..., :2] += offset * self.joint_noise_std
        return out


class _TwoViewCollate(_Collate):
    """Training collate: two independent frame selections (time flip + random window) per sequence ->
    ``poses`` (N, 2, L, V, 3)."""

    def __call__(self, rows: list[int]) -> dict[str, torch.Tensor]:
        if not self.train:
            return super().__call__(rows)
        rows = np.asarray(rows, dtype=np.int64)
        lengths = torch.from_numpy(self.lengths[rows])
        views = [gather_frames(self.poses, self.offsets[rows],
                               train_frame_index(lengths, self.pad, self.flip_sequence_p, self.shuffle))
                 for _ in range(2)]
        poses = torch.stack(views, dim=1)
        if not bool(torch.isfinite(poses).all()):
            return super().__call__(rows.tolist())  # raises the named NonFinitePoseError
        return {"poses": poses, "subject": torch.from_numpy(self.subjects[rows]), "row": torch.from_numpy(rows)}


class GaitGraph1DataModule(PoseDataModule):
    """``PoseDataModule`` with G1's training batches: two augmented views per sequence.

    Arguments are ``PoseDataModule``'s (the G2 value noise -- ``flip_lr_p``, ``joint_noise``,
    ``point_noise``, ``random_move`` -- defaults to off) plus G1's ``mirror_poses_p``,
    ``point_noise_std``, ``joint_noise_std``. ``min_length`` defaults to 61: the original drops training
    sequences with <= 60 frames. ``multi_input``/``multi_branch`` default to False (one raw branch).
    """

    def __init__(
        self,
        data_path: str,
        keypoints: str | None = None,
        batch_size: int = 128,
        sequence_length: int = 60,
        num_workers: int = 0,
        multi_input: bool = False,
        multi_branch: bool = False,
        flip_sequence_p: float = 0.5,
        mirror_poses_p: float = 0.5,
        point_noise_std: float = 0.05,
        joint_noise_std: float = 0.25,
        flip_lr_p: float = 0.0,
        joint_noise: float = 0.0,
        point_noise: float = 0.0,
        random_move: tuple[float, float] = (0.0, 0.0),
        train_shuffle_sequence: bool = False,
        test_shuffle_sequence: bool = False,
        validation: Literal["heldout", "test-set", "none"] = "heldout",
        val_subjects: float | list[int] = 0.1,
        val_seed: int = 0,
        val_batch_size: int | None = None,
        min_length: int = G1_MIN_LENGTH,
        predict_split: Literal["test", "train", "all"] = "test",
        fill_missing: bool | None = None,
        test_set: Literal["all", "gaitgraph1"] = "gaitgraph1",
    ):
        """
        Args:
            mirror_poses_p: probability of mirroring a view (per frame, ``x' = 2 mean_x - x``).
            point_noise_std: sigma of the Gaussian point noise on x, y and conf (every frame and joint).
            joint_noise_std: sigma of the Gaussian joint noise on x, y (one offset per joint and view).
            min_length: training sequences shorter than this are left out (G1: 61, i.e. drop <= 60).
            test_set: ``gaitgraph1`` (default, v1's protocol: validation/test sequences of at most
                ``sequence_length`` frames left out, as v1's dataset class does) or ``all``.
            Other arguments: see ``PoseDataModule``.
        """
        super().__init__(
            data_path, keypoints=keypoints, batch_size=batch_size, sequence_length=sequence_length,
            num_workers=num_workers, multi_input=multi_input, multi_branch=multi_branch,
            flip_sequence_p=flip_sequence_p, flip_lr_p=flip_lr_p, joint_noise=joint_noise, point_noise=point_noise,
            random_move=random_move, train_shuffle_sequence=train_shuffle_sequence,
            test_shuffle_sequence=test_shuffle_sequence, validation=validation, val_subjects=val_subjects,
            val_seed=val_seed, val_batch_size=val_batch_size, min_length=min_length, predict_split=predict_split,
            fill_missing=fill_missing, test_set=test_set,
        )
        self.g1_augment = G1Augment(mirror_poses_p, point_noise_std, joint_noise_std)

    def train_dataloader(self) -> DataLoader:
        collate = _TwoViewCollate(self.dataset.path, self.sequences, self.sequence_length, True,
                                  self.flip_sequence_p, self.train_shuffle_sequence)
        return DataLoader(_Rows(self.rows["train"]), batch_size=self.batch_size, shuffle=True,
                          num_workers=self.num_workers, persistent_workers=self.num_workers > 0, collate_fn=collate)

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        trainer = self.trainer
        poses = batch["poses"]
        if trainer is not None and trainer.training and poses.ndim == 5:
            n, views = poses.shape[:2]
            flat = poses.flatten(0, 1)
            if self._augment is not None:  # G2 noise, off by default
                flat = self._augment(flat)
            batch["poses"] = self.g1_augment(flat).unflatten(0, (n, views))
        return batch


# ---------------------------------------------------------------- model


class GaitGraph1(GaitGraph2):
    """GaitGraph v1 training (see the module docstring). Hyper-parameters use ``GaitGraph2``'s names."""

    def __init__(
        self,
        backend_name: str = "resgcn-n39-r8",
        embedding_layer_size: int = 128,
        learning_rate: float = 1e-2,
        weight_decay: float = 1e-5,
        optimizer: Literal["adamw", "adam"] = "adam",
        loss_temperature: float = 0.01,
        base_temperature: float = 0.07,
        multi_input: bool = False,
        multi_branch: bool = False,
        features: Literal["reference", "corrected"] = "reference",
        tta: bool = False,
        l2_normalize: bool = True,
        init_from: str | None = None,
        sequence_length: int = 60,
        skeleton: str = "coco17",
        compile: bool = False,
        metrics_path: str | None = None,
        predict_output: str | None = None,
    ):
        """
        Args:
            optimizer: ``adam`` = the original ``Adam(lr, weight_decay)``.
            loss_temperature: SupCon temperature (0.01 in the paper runs).
            base_temperature: SupCon base temperature; the loss is scaled by temperature / base_temperature.
            tta: the G2 TTA (time flip + left/right swap, 3 x 128). G1's own "flip TTA" is a no-op on
                one branch, so ``false`` IS the original's evaluation.
            l2_normalize: L2-normalise the embedding inside the network (G1 does).
            init_from: phase 2: start from these weights (one of our checkpoints, or an original G1
                ``{"model": ...}`` file). Ignored when ``fit`` resumes from ``--ckpt_path``.
            Other arguments: see ``GaitGraph2``.
        """
        super().__init__(
            backend_name=backend_name, embedding_layer_size=embedding_layer_size, learning_rate=learning_rate,
            weight_decay=weight_decay, optimizer=optimizer, loss_temperature=loss_temperature,
            multi_input=multi_input, multi_branch=multi_branch, features=features, tta=tta,
            sequence_length=sequence_length, skeleton=skeleton, compile=False, metrics_path=metrics_path,
            predict_output=predict_output,
        )
        self.save_hyperparameters()
        num_branches, in_channels = input_shape(multi_input, multi_branch)
        self.backbone = create_model(
            backend_name, skeleton=get_skeleton(skeleton).name, num_branches=num_branches, in_channels=in_channels,
            embedding_dim=embedding_layer_size, l2_normalize=l2_normalize,
        )
        self._net = self.backbone
        if compile:
            object.__setattr__(self, "_net", torch.compile(self.backbone))
        self.loss = TwoViewSupCon(loss_temperature, base_temperature)

    def setup(self, stage: str) -> None:
        super().setup(stage)
        if stage == "fit" and self.hparams.init_from:
            # before Lightning restores a --ckpt_path (resume), which then overwrites these weights
            self.load_initial_weights(self.hparams.init_from)

    def load_initial_weights(self, path: str) -> None:
        from gaitgraph.checkpoints import load_model

        loaded = load_model(path, backbone=self.hparams.backend_name, skeleton=self.skeleton.name)
        self.backbone.load_state_dict(loaded.model.state_dict(), strict=True)

    def training_step(self, batch, batch_idx):
        poses = batch["poses"]  # (N, 2, L, V, 3)
        if poses.ndim != 5:
            raise ValueError(f"GaitGraph1 trains on two views per sample (N, 2, L, V, 3), got {tuple(poses.shape)}; "
                             "use GaitGraph1DataModule")
        n, views = poses.shape[:2]
        emb = self(poses.flatten(0, 1)).unflatten(0, (n, views))  # one forward pass for both views
        loss = self.loss(emb.float(), batch["subject"])
        self.log("train_loss", loss, on_step=True, on_epoch=False, prog_bar=True, batch_size=n)
        self.log("train_loss_epoch", loss, on_step=False, on_epoch=True, batch_size=n, sync_dist=True)
        self.log("train_global_batch", float(self.loss.last_batch_size), on_step=True, on_epoch=False, batch_size=n)
        self.log("lr", self.optimizers().param_groups[0]["lr"], on_step=True, on_epoch=False, batch_size=n)
        return loss


def flip_tta_embedding(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The original G1 evaluation's ``use_flip``: mean of the embeddings of ``x`` and of ``x`` flipped
    along dimension 1 of (N, I, C, T, V). With one branch (I = 1) the flip changes nothing, so this
    equals ``model(x)``: G1's TTA is a no-op and ``tta=False`` reproduces it."""
    return (model(x) + model(x.flip(1))) / 2


# ---------------------------------------------------------------- command line


def cli(args=None, run: bool = True):
    """``gaitgraph``'s LightningCLI (run folder, auto-resume, checkpoints) bound to ``GaitGraph1``."""
    from gaitgraph.cli.main import cli as gaitgraph_cli

    return gaitgraph_cli(args, run, model_class=GaitGraph1, datamodule_class=GaitGraph1DataModule)


def main(args=None) -> int:
    from gaitgraph.cli.boundary import guarded

    def body(argv):
        from gaitgraph.cli.main import run_cli

        keep_freed_memory()  # as `gaitgraph fit` (gaitgraph/runtime.py)
        run_cli(cli, argv)

    return guarded("python -m gaitgraph.training.gaitgraph1", body, args, subcommands=("fit", "validate", "test", "predict"))


if __name__ == "__main__":
    sys.exit(main())
