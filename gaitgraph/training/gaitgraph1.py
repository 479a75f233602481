"""``GaitGraph1``: the LightningModule of GaitGraph v1 training (Teepe et al., ICIP 2021; ``gaitgraph2.md``
§1.3, §3 "G1 differences", §4, §5 "G1", §6).

* network ``resgcn-n39-r8``, ONE input branch of raw (x, y, conf) (1 x 3), 128-d embedding, L2-normalised
  inside the model (319,530 parameters on COCO-17);
* training batches hold TWO independently augmented views of every sequence (``TwoViewDataModule``,
  ``gaitgraph.training.two_view_datamodule``), embedded in one forward pass;
* loss: the reference's two-view SupCon (``gaitgraph.training.losses.TwoViewSupCon``);
* ``Adam(lr, weight_decay=1e-5)`` with a one-cycle schedule stepped per batch;
* two phases: 300 epochs at lr 1e-2 (recipe ``gaitgraph1/casia-b``), then 100 epochs at lr 1e-5 from the
  phase-1 weights (recipe ``gaitgraph1/casia-b-finetune`` + ``--model.init_from``);
* evaluation: v1's "flip TTA" flips dimension 1 (branches) of a one-branch input, a no-op, so the faithful
  evaluation is the plain 128-d embedding (``tta: false``; ``gaitgraph.methods.gaitgraph1.flip_tta_embedding``).

Validation, test, predict and checkpoints are ``EmbeddingModule``'s; checkpoints hold ``l2_normalize: true`` in
their hyper-parameters, so ``gaitgraph.checkpoints.load_model`` rebuilds the L2-normalising network.

    gaitgraph fit --recipe gaitgraph1/casia-b --data.data_path DATA --trainer.default_root_dir RUN1
    gaitgraph fit --recipe gaitgraph1/casia-b --recipe gaitgraph1/casia-b-finetune \\
        --model.init_from RUN1/checkpoints/last.ckpt --data.data_path DATA --trainer.default_root_dir RUN2
"""

from __future__ import annotations

from typing import Literal

import torch

from gaitgraph.models import create_model
from gaitgraph.skeleton import get_skeleton
from gaitgraph.training.embedding_module import EmbeddingModule, input_shape
from gaitgraph.training.gaitgraph2 import ARCH_KEYS
from gaitgraph.training.losses import TwoViewSupCon
from gaitgraph.transforms.features import build_input


class GaitGraph1(EmbeddingModule):
    """GaitGraph v1 training (see the module docstring). Hyper-parameters use ``GaitGraph2``'s names."""

    method = "gaitgraph1"
    arch_keys = (*ARCH_KEYS, "l2_normalize")

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
            Other arguments: as ``GaitGraph2``'s.
        """
        super().__init__()
        self.save_hyperparameters()
        num_branches, in_channels = input_shape(multi_input, multi_branch)
        network = create_model(
            backend_name, skeleton=get_skeleton(skeleton).name, num_branches=num_branches, in_channels=in_channels,
            embedding_dim=embedding_layer_size, l2_normalize=l2_normalize,
        )
        self.use_network(network, compile)
        self.loss = TwoViewSupCon(loss_temperature, base_temperature)

    def features(self, poses: torch.Tensor) -> torch.Tensor:
        """(N, L, V, 3) raw poses -> (N, I, C, L, V): by default one branch of raw x, y, confidence (1 x 3)."""
        return build_input(poses, self.skeleton, multi_branch=self.hparams.multi_input, mode=self.hparams.features)

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
                             "use TwoViewDataModule")
        n, views = poses.shape[:2]
        emb = self(poses.flatten(0, 1)).unflatten(0, (n, views))  # one forward pass for both views
        loss = self.loss(emb.float(), batch["subject"])
        self.log_training(loss, n, self.loss.last_batch_size)
        return loss
