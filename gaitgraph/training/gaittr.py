"""``GaitTR``: the LightningModule of GaitTR training, as FastPoseGait trains it (``configs/gaittr/gaittr.yaml``;
``docs/methods.md``).

* network ``create_model("gaittr")`` (``gaitgraph.models.gaittr``), 10 input channels, 128-d embedding;
* training input, on the device: ``PointNoise(0.3)`` -> left/right label swap (p 0.1, per frame) ->
  ``JointNoise(0.3)`` (``gaitgraph.transforms.gaittr.GaitTRAugment``) -> ``gaittr_input`` (raw pixels);
  the 60-frame windows and the 4 x 64 batches are ``PKDataModule``'s (``frames: window``);
* loss: the batch-hard triplet loss alone (margin 0.3, raw Euclidean distances; no cross-entropy, no BNNeck),
  on the global batch (``gaitgraph.training.triplet_losses.batch_hard_triplet``);
* evaluation: ``gaitgraph.methods.gaittr.embed`` (every whole sequence, one per forward, (N, 128, 1)),
  ranked by the raw Euclidean distance (``metric: euc``).

    gaitgraph fit --recipe gaittr/casia-b --data.data_path DATA --trainer.default_root_dir RUN
"""

from __future__ import annotations

from typing import Literal

import torch

from gaitgraph.methods.common import LoadedMethodModel
from gaitgraph.models import create_model
from gaitgraph.models.gaittr import CHANNELS
from gaitgraph.skeleton import get_skeleton
from gaitgraph.training.peer_module import PeerMethodModule
from gaitgraph.training.triplet_losses import batch_hard_triplet
from gaitgraph.transforms.gaittr import GaitTRAugment, gaittr_input, training_input


class GaitTR(PeerMethodModule):
    method = "gaittr"
    arch_keys = ("embedding_dim", "channels", "features")

    def __init__(
        self,
        embedding_dim: int = 128,
        channels: tuple[int, ...] = CHANNELS,
        features: Literal["reference", "corrected"] = "reference",
        margin: float = 0.3,
        point_noise_std: float = 0.3,
        flip_lr_p: float = 0.1,
        per_frame_flip: bool = True,
        joint_noise_std: float = 0.3,
        optimizer: Literal["adam", "adamw"] = "adam",
        learning_rate: float = 1e-3,
        weight_decay: float = 2e-5,
        pct_start: float = 0.475,
        div_factor: float = 100.0,
        final_div_factor: float = 1000.0,
        three_phase: bool = True,
        sequence_length: int = 60,
        skeleton: str = "coco17",
        compile: bool = False,
        metrics_path: str | None = None,
        predict_output: str | None = None,
    ):
        """
        Args:
            embedding_dim: embedding width (the reference config's ``num_class``).
            channels: output widths of the four blocks (``in_channels[1:]``).
            features: ``reference`` input channels (the one-frame velocity of frame T - 2 is 0, as the
                reference) or ``corrected``.
            margin: triplet margin.
            point_noise_std: ``PointNoise`` sigma (pixels, every value).
            flip_lr_p: ``InversePosesPre`` probability of swapping left/right joint labels.
            per_frame_flip: decide the swap for every frame (the reference) or once per sequence.
            joint_noise_std: ``JointNoise`` sigma (pixels, one x, y offset per joint, constant in time).
            optimizer: ``adam`` (the reference's ``Adam``, L2 weight decay) or ``adamw``.
            learning_rate: the one-cycle maximum (``max_lr``).
            weight_decay: weight decay.
            pct_start, div_factor, final_div_factor, three_phase: ``OneCycleLR`` arguments (the reference's).
            sequence_length: training frames (linked from ``--data.sequence_length``).
            skeleton: joint layout (linked from the dataset).
            compile: run the network through ``torch.compile``.
            metrics_path: ``test`` writes its evaluation here (the record ``gaitgraph evaluate`` writes).
            predict_output: ``predict`` writes embeddings + sequence table here (``.npz`` or ``.parquet``).
        """
        super().__init__()
        self.save_hyperparameters()
        network = create_model("gaittr", skeleton=get_skeleton(skeleton).name, embedding_dim=embedding_dim,
                               channels=tuple(channels))
        self.use_network(network, compile)
        self.augment = GaitTRAugment(skeleton, point_noise_std, flip_lr_p, joint_noise_std, per_frame_flip)
        self.loss = batch_hard_triplet(margin)

    def features(self, poses: torch.Tensor) -> torch.Tensor:
        """(N, T, V, 3) raw poses -> (N, 1, 10, T, V)."""
        return gaittr_input(poses, self.skeleton, self.hparams.features).unsqueeze(1)

    def training_input(self, poses: torch.Tensor) -> torch.Tensor:
        return training_input(poses, self.augment, self.hparams.features)

    def training_loss(self, x: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, int]:
        loss = self.loss(self._net(x).float(), labels)
        return loss, self.loss.last_batch_size

    def test_model(self) -> LoadedMethodModel:
        return LoadedMethodModel(self.method, self.backbone, self.skeleton.name, {"features": self.hparams.features})
