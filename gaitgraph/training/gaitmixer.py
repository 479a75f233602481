"""``GaitMixer``: the LightningModule of GaitMixer training, as its authors' code trains it (exitudio/GaitMixer
@ 695fd35 ``src/train.py``, ``src/common.py``; ``docs/methods.md``).

* network ``create_model("gaitmixer")`` (``gaitgraph.models.gaitmixer``), exactly ``sequence_length`` (60)
  frames of (x, y), 128-d unit embedding;
* training input, on the device: mirror x about the frame's mean x (p 0.5, labels not swapped) ->
  ``PointNoise(0.05)`` -> ``JointNoise(0.25)`` (``gaitgraph.transforms.gaitmixer.GaitMixerAugment``) -> x, y
  / 320 (``network_input``); the time reversal and the random 60-frame window are ``PKDataModule``'s
  (``frames: flip_window``), with every training identity x 4 sequences per batch;
* loss (``loss``): ``triplet`` (the reference's default: multi-similarity-mined triplets, margin 0.01) or
  ``supcon`` (temperature 0.004 on two augmented views per sequence: ``--data.views 2``), global batch
  (``gaitgraph.training.triplet_losses``);
* evaluation: ``gaitgraph.methods.gaitmixer.embed`` (three 60-frame windows and their time reversals, the six
  embeddings averaged; sequences of T <= 60 dropped), ranked by cosine distance (``metric: cos``).

    gaitgraph fit --recipe gaitmixer/casia-b --data.data_path DATA --trainer.default_root_dir RUN
"""

from __future__ import annotations

from typing import Literal

import torch

from gaitgraph.methods.common import LoadedMethodModel
from gaitgraph.models import create_model
from gaitgraph.models.gaitmixer import TEMPORAL_CHANNELS
from gaitgraph.skeleton import get_skeleton
from gaitgraph.training.peer_module import PeerMethodModule
from gaitgraph.training.triplet_losses import multi_similarity_triplet, supcon
from gaitgraph.transforms.gaitmixer import GaitMixerAugment, network_input


class GaitMixer(PeerMethodModule):
    method = "gaitmixer"
    arch_keys = ("embedding_dim", "spatial_dim", "depth", "num_heads", "mlp_ratio", "kernel_frames", "temporal_channels")

    def __init__(
        self,
        embedding_dim: int = 128,
        spatial_dim: int = 32,
        depth: int = 4,
        num_heads: int = 8,
        mlp_ratio: float = 2.0,
        kernel_frames: int = 31,
        temporal_channels: tuple[int, ...] = TEMPORAL_CHANNELS,
        loss: Literal["triplet", "supcon"] = "triplet",
        margin: float = 0.01,
        miner_epsilon: float = 0.1,
        temperature: float = 0.004,
        mirror_p: float = 0.5,
        point_noise_std: float = 0.05,
        joint_noise_std: float = 0.25,
        optimizer: Literal["adam", "adamw"] = "adam",
        learning_rate: float = 6e-3,
        weight_decay: float = 1e-5,
        pct_start: float = 0.3,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        sequence_length: int = 60,
        skeleton: str = "coco17",
        compile: bool = False,
        metrics_path: str | None = None,
        predict_output: str | None = None,
    ):
        """
        Args:
            embedding_dim: embedding width (``embedding_layer_size``).
            spatial_dim: width of the spatial mixer (``embedding_spatial_size``).
            depth: spatial transformer blocks.
            num_heads: attention heads.
            mlp_ratio: MLP width over ``spatial_dim``.
            kernel_frames: temporal kernel (``kernel_frame``).
            temporal_channels: output widths of the temporal blocks.
            loss: ``triplet`` (the reference's default) or ``supcon`` (needs ``--data.views 2``).
            margin: triplet margin.
            miner_epsilon: ``MultiSimilarityMiner`` epsilon.
            temperature: SupCon temperature.
            mirror_p: ``MirrorPoses`` probability.
            point_noise_std: ``PointNoise`` sigma (pixels, every value).
            joint_noise_std: ``JointNoise`` sigma (pixels; the reference applies 0.25 whatever its option says).
            optimizer: ``adam`` (the reference's, L2 weight decay) or ``adamw``.
            learning_rate: the one-cycle maximum.
            weight_decay: weight decay.
            pct_start, div_factor, final_div_factor, three_phase: ``OneCycleLR`` arguments (PyTorch's defaults,
                as the reference).
            sequence_length: frames the network takes (linked from ``--data.sequence_length``; 60).
            skeleton: joint layout (linked from the dataset).
            compile: run the network through ``torch.compile``.
            metrics_path: ``test`` writes its evaluation here (the record ``gaitgraph evaluate`` writes).
            predict_output: ``predict`` writes embeddings + sequence table here (``.npz`` or ``.parquet``).
        """
        super().__init__()
        self.save_hyperparameters()
        network = create_model(
            "gaitmixer", skeleton=get_skeleton(skeleton).name, embedding_dim=embedding_dim, num_frames=sequence_length,
            spatial_dim=spatial_dim, depth=depth, num_heads=num_heads, mlp_ratio=mlp_ratio, kernel_frames=kernel_frames,
            temporal_channels=tuple(temporal_channels),
        )
        self.use_network(network, compile)
        self.augment = GaitMixerAugment(mirror_p, point_noise_std, joint_noise_std)
        self.loss = multi_similarity_triplet(margin, miner_epsilon) if loss == "triplet" else supcon(temperature)

    def setup(self, stage: str) -> None:
        super().setup(stage)
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        views = getattr(dm, "views", 1)
        if stage == "fit" and (views == 2) != (self.hparams.loss == "supcon"):
            raise ValueError(f"GaitMixer's {self.hparams.loss} loss trains on {2 if self.hparams.loss == 'supcon' else 1} "
                             f"view(s) per sequence, the data gives {views}; set --data.views accordingly")

    def features(self, poses: torch.Tensor) -> torch.Tensor:
        """(N, 60, V, 3) raw poses -> (N, 1, 2, 60, V): x, y / 320."""
        return network_input(poses)

    def training_input(self, poses: torch.Tensor) -> torch.Tensor:
        return network_input(self.augment(poses))

    def training_loss(self, x: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, int]:
        loss = self.loss(self._net(x).float(), labels)
        return loss, self.loss.last_batch_size

    def test_model(self) -> LoadedMethodModel:
        length = self.hparams.sequence_length
        return LoadedMethodModel(self.method, self.backbone, self.skeleton.name,
                                 {"num_frames": length, "min_length": length + 1, "keep_conf": False})
