"""``GaitGraph2``: the LightningModule of GaitGraph2 training (``gaitgraph2.md`` §5, §6).

The network (a registry ResGCN or ST-GCN, ``gaitgraph.models``), its input (multi-branch joint/velocity/bone
features, ``gaitgraph.transforms.features.build_input``) and its loss (SupCon, temperature 0.01, over
L2-normalised Euclidean distances, on the global batch under DDP). Validation, test, predict, the optimizer
and checkpoints are ``EmbeddingModule``'s (``gaitgraph.training.embedding_module``). Hyper-parameters keep
the original names (``backend_name``, ``embedding_layer_size``, ``multi_input``, ``multi_branch``, ``tta``,
``learning_rate``, ``loss_temperature``) plus ours (``skeleton``, ``sequence_length``, ``features``, ...), so
the original checkpoints' ``hyper_parameters`` read as ours.
"""

from __future__ import annotations

from typing import Literal

import torch

from gaitgraph.models import create_model
from gaitgraph.skeleton import get_skeleton
from gaitgraph.training.embedding_module import EmbeddingModule, input_shape
from gaitgraph.training.losses import supcon_loss
from gaitgraph.transforms.features import build_input

# the network's shape: `gaitgraph test --ckpt_path` takes these from the checkpoint, loading checks them
ARCH_KEYS = ("backend_name", "embedding_layer_size", "multi_input", "multi_branch", "features")


class GaitGraph2(EmbeddingModule):
    method = "gaitgraph2"
    arch_keys = ARCH_KEYS

    def __init__(
        self,
        backend_name: str = "resgcn-n21-r8",
        embedding_layer_size: int = 128,
        learning_rate: float = 0.005,
        weight_decay: float = 1e-5,
        optimizer: Literal["adamw", "adam"] = "adamw",
        loss_temperature: float = 0.01,
        multi_input: bool = True,
        multi_branch: bool = True,
        features: Literal["reference", "corrected"] = "reference",
        tta: bool = True,
        sequence_length: int = 60,
        skeleton: str = "coco17",
        compile: bool = False,
        metrics_path: str | None = None,
        predict_output: str | None = None,
        stgcn_init: Literal["pytorch", "kaiming"] = "pytorch",
    ):
        """
        Args:
            backend_name: registry name of the network (``resgcn-n21-r8``, ``resgcn-n51-r4``, ``stgcn``).
            embedding_layer_size: embedding dimension.
            learning_rate: maximum learning rate of the one-cycle schedule.
            weight_decay: weight decay (AdamW: decoupled; Adam: L2).
            optimizer: ``adamw`` (CASIA-B) or ``adam`` (OUMVLP-Pose).
            loss_temperature: SupCon temperature.
            multi_input: joint/velocity/bone features (True) or raw x, y, conf (False).
            multi_branch: one input branch per feature group (must be True with multi_input).
            features: ``reference`` (the original's channels, quirks included) or ``corrected``.
            tta: test-time augmentation (time flip + left/right swap, 3 embeddings concatenated).
            sequence_length: frames per sample (linked from ``--data.sequence_length`` by the CLI).
            skeleton: joint layout (linked from the dataset by the CLI).
            compile: run the network through ``torch.compile``.
            metrics_path: ``test`` writes its evaluation here (the record ``gaitgraph evaluate`` writes).
            predict_output: ``predict`` writes embeddings + sequence table here (``.npz`` or ``.parquet``).
            stgcn_init: initialisation of the ``stgcn`` backbone: ``pytorch`` (the original's: PyTorch's
                defaults) or ``kaiming`` (the ResGCN-style scheme); ResGCN backbones ignore it (they always
                use the original ResGCN initialisation).
        """
        super().__init__()
        self.save_hyperparameters()
        num_branches, in_channels = input_shape(multi_input, multi_branch)
        network = create_model(
            backend_name, skeleton=get_skeleton(skeleton).name, num_branches=num_branches, in_channels=in_channels,
            embedding_dim=embedding_layer_size, init=stgcn_init if backend_name == "stgcn" else None,
        )
        self.use_network(network, compile)
        self.loss = supcon_loss(loss_temperature)

    # ---- forward --------------------------------------------------------------------------------
    def features(self, poses: torch.Tensor) -> torch.Tensor:
        """(N, L, V, 3) raw poses -> (N, I, C, L, V) network input."""
        return build_input(poses, self.skeleton, multi_branch=self.hparams.multi_input, mode=self.hparams.features)

    # ---- training -------------------------------------------------------------------------------
    def training_step(self, batch, batch_idx):
        emb = self(batch["poses"])
        loss = self.loss(emb.float(), batch["subject"])
        n = batch["poses"].shape[0]
        self.log_training(loss, n, self.loss.last_batch_size)
        return loss
