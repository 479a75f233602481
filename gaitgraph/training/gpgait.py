"""``GPGait``: the LightningModule of GPGait training, as FastPoseGait trains it (``configs/gpgait/gpgait.yaml``,
``gpgait_OUMVLP.yaml``; ``docs/methods.md``).

* network ``create_model("gpgait")`` (``gaitgraph.models.gpgait``): three part-aware GCN branches on the
  Human-Oriented Descriptors, 19 part features, per-part FCs and a BNNeck classifier of ``num_classes``
  (default: the training identities of the data, resolved at ``setup`` and saved with the checkpoint);
* training input, on the device: [Affine] -> RescaleCenter(neck, 225) -> left/right label swap per frame
  (``flip_p``) -> ``JointNoise`` (``gaitgraph.transforms.gpgait_augment.GPGaitAugment``) -> HOD features;
  the unordered frames and the P x K batches are ``PKDataModule``'s (``frames: unordered``). Data in another
  layout than COCO-17 (OUMVLP-Pose's OpenPose-18) is reordered to COCO-17 by joint name first (the neck
  dropped), in training and at test time;
* losses: the batch-hard triplet loss per part on the head features (margin 0.3, global batch) x
  ``triplet_weight`` + the cross-entropy per part on the BNNeck's cosine logits (scale 16) x ``ce_weight``
  (``gaitgraph.training.part_losses.GPGaitLoss``);
* evaluation: ``gaitgraph.methods.gpgait.embed`` (every whole sequence, BNNeck part features (N, 256, 19)),
  ranked by the Euclidean distance per part averaged over the 19 parts (``metric: euc``).

    gaitgraph fit --recipe gpgait/casia-b --data.data_path DATA --trainer.default_root_dir RUN
"""

from __future__ import annotations

from typing import Literal

import torch

from gaitgraph.models import create_model
from gaitgraph.skeleton import joint_order
from gaitgraph.training.part_losses import GPGaitLoss
from gaitgraph.training.peer_module import PeerMethodModule
from gaitgraph.transforms.gpgait_augment import GPGaitAugment
from gaitgraph.transforms.hod import gpgait_input


class GPGait(PeerMethodModule):
    method = "gpgait"
    arch_keys = ("channels", "share_num", "embedding_dim", "num_classes", "affine")

    def __init__(
        self,
        channels: tuple[int, ...] = (2, 64, 64, 128, 256),
        share_num: int = 3,
        embedding_dim: int = 256,
        num_classes: int | None = None,
        affine: Literal["reference", "corrected"] | None = None,
        flip_p: float = 0.1,
        joint_noise: float = 0.3,
        margin: float = 0.3,
        hard_triplet: bool = True,
        triplet_weight: float = 1.0,
        ce_scale: float = 16.0,
        label_smoothing: float = 0.0,
        ce_weight: float = 1.0,
        optimizer: Literal["adam", "adamw"] = "adam",
        learning_rate: float = 1e-3,
        weight_decay: float = 2e-5,
        pct_start: float = 0.5,
        div_factor: float = 100.0,
        final_div_factor: float = 1e4,
        three_phase: bool = True,
        sequence_length: int = 60,
        skeleton: str = "coco17",
        compile: bool = False,
        metrics_path: str | None = None,
        predict_output: str | None = None,
    ):
        """
        Args:
            channels: input channels per branch (2), then every block's output (``in_channels``).
            share_num: blocks shared before the part streams.
            embedding_dim: width of every part feature.
            num_classes: classes of the BNNeck classifier (``num_class``); None: the data's training identities.
            affine: the Affine step before RescaleCenter: None (CASIA-B, OUMVLP-Pose), ``reference`` (GREW,
                Gait3D, CCPG configs, their bug included) or ``corrected``; train and test alike.
            flip_p: ``InversePosesPre`` probability, per frame.
            joint_noise: ``JointNoise`` sigma (units of the 225-high frame).
            margin: triplet margin.
            hard_triplet: batch-hard triplets (``is_hard_loss``) or all triplets.
            triplet_weight: weight of the triplet loss (``loss_term_weight``).
            ce_scale: scale of the cosine logits.
            label_smoothing: cross-entropy label smoothing.
            ce_weight: weight of the cross-entropy (``loss_term_weight``).
            optimizer: ``adam`` (the reference's, L2 weight decay) or ``adamw``.
            learning_rate: the one-cycle maximum.
            weight_decay: weight decay.
            pct_start, div_factor, final_div_factor, three_phase: ``OneCycleLR`` arguments (the reference's).
            sequence_length: training frames (linked from ``--data.sequence_length``).
            skeleton: joint layout of the data (linked from the dataset); reordered to COCO-17 by joint name.
            compile: run the network through ``torch.compile``.
            metrics_path: ``test`` writes its evaluation here (the record ``gaitgraph evaluate`` writes).
            predict_output: ``predict`` writes embeddings + sequence table here (``.npz``).
        """
        super().__init__()
        self.save_hyperparameters()
        self.register_buffer("coco_order", torch.tensor(joint_order(skeleton, "coco17")), persistent=False)
        self.augment = GPGaitAugment(affine=affine, flip_p=flip_p, joint_noise=joint_noise)
        self.loss = GPGaitLoss(margin, hard_triplet, triplet_weight, ce_scale, label_smoothing, ce_weight)
        if num_classes is not None:
            self._build(num_classes)

    def _build(self, num_classes: int) -> None:
        hp = self.hparams
        network = create_model("gpgait", channels=tuple(hp.channels), share_num=hp.share_num,
                               embedding_dim=hp.embedding_dim, num_classes=num_classes)
        self.use_network(network, hp.compile)

    def setup(self, stage: str) -> None:
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        needed = getattr(dm, "num_classes", None)
        if self.hparams.num_classes is None:
            if needed is None:
                raise ValueError("GPGait needs num_classes: give --model.num_classes, or data whose training "
                                 "identities it counts (PKDataModule)")
            self.hparams.num_classes = int(needed)  # saved with the checkpoint: the test side rebuilds from it
            self._build(int(needed))
        elif stage == "fit" and needed is not None and needed > self.hparams.num_classes:
            raise ValueError(f"the data has {needed} training identities, more than num_classes="
                             f"{self.hparams.num_classes}; raise --model.num_classes or leave it unset")
        super().setup(stage)

    def to_coco(self, poses: torch.Tensor) -> torch.Tensor:
        """(..., V, 3) poses of the data's layout -> COCO-17, by joint name."""
        return poses[..., self.coco_order, :]

    def features(self, poses: torch.Tensor) -> torch.Tensor:
        """(N, T, V, 3) raw poses -> (N, 6, T, 17): the reference's test transform."""
        return gpgait_input(self.to_coco(poses), self.hparams.affine)

    def training_input(self, poses: torch.Tensor) -> torch.Tensor:
        return self.augment(self.to_coco(poses))

    def training_loss(self, x: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, int]:
        feats, logits = self.backbone.forward_train(x)
        return self.loss(feats.float(), logits.float(), labels), self.loss.last_batch_size

    def test_model(self):
        from gaitgraph.methods.gpgait import LoadedGPGait

        hp = self.hparams
        network = dict(channels=tuple(hp.channels), share_num=hp.share_num, embedding_dim=hp.embedding_dim,
                       num_classes=hp.num_classes)
        return LoadedGPGait(self.backbone, None, hp.affine, network, source="<training module>",
                            skeleton=self.skeleton.name)
