"""``PeerMethodModule``: what the LightningModules of GaitTR, GPGait and GaitMixer share, on ``EmbeddingModule``.

* **Optimizer**: Adam (L2 weight decay) with ``OneCycleLR`` stepped every batch over the run's steps, with the
  reference's schedule arguments (``pct_start``, ``div_factor``, ``final_div_factor``, ``three_phase``).
* **Training step**: the batch of ``PKDataModule`` (``poses`` (N, L, V, 3), or (N, views, L, V, 3); ``label``
  the class index) -> the method's augmentations and input on the device (:meth:`training_input`) -> its
  loss(es) (:meth:`training_loss`); logs as every method (``train_loss``, ``train_global_batch``, ``lr``).
* **Evaluation = the reference's test pipeline**: validation, test and predict batches hold whole sequences,
  and :meth:`embed` hands them to the method's own test side (``gaitgraph.methods.<method>.embed``) with this
  network in it (:meth:`test_model`): the same code ``gaitgraph evaluate`` runs on the saved checkpoint, so
  ``gaitgraph test`` and ``gaitgraph evaluate`` give the same numbers. The protocol ranks by the method's
  distance (``MethodSpec.metric``); sequences the method drops (GaitMixer: T <= 60) are NaN rows, left out
  and counted. No test-time augmentation beyond the method's own protocol (``tta`` false in metrics.json).
* **Checkpoints**: ``backbone.<the reference's names>`` plus the ``gaitgraph_method`` tag, which the test
  side reads (``gaitgraph.methods.common.lightning_weights``), so ``gaitgraph evaluate`` and
  ``gaitgraph.embed`` take them as they take the reference's files.
"""

from __future__ import annotations

from typing import ClassVar

import torch

from gaitgraph.training.embedding_module import EmbeddingModule, one_cycle


class PeerMethodModule(EmbeddingModule):
    """Base of ``GaitTR``, ``GPGait``, ``GaitMixer`` (see the module docstring). Hyper-parameters must include
    ``optimizer``, ``learning_rate``, ``weight_decay``, ``pct_start``, ``div_factor``, ``final_div_factor``,
    ``three_phase``, ``skeleton``, ``metrics_path``, ``predict_output``."""

    arch_keys: ClassVar[tuple[str, ...]] = ()

    @property
    def uses_tta(self) -> bool:
        return False

    @property
    def backbone_name(self) -> str:
        return self.method

    def plain_embedding(self, emb: torch.Tensor) -> torch.Tensor:
        return emb.flatten(1)

    def configure_optimizers(self):
        hp = self.hparams
        return one_cycle(self.parameters(), self.trainer, hp.optimizer, hp.learning_rate, hp.weight_decay,
                         pct_start=hp.pct_start, div_factor=hp.div_factor, final_div_factor=hp.final_div_factor,
                         three_phase=hp.three_phase)

    # ---- the method's pieces --------------------------------------------------------------------
    def training_input(self, poses: torch.Tensor) -> torch.Tensor:
        """(N, L, V, 3) training frames -> augmented network input, on the device."""
        raise NotImplementedError

    def training_loss(self, x: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, int]:
        """(loss, number of embeddings it saw over all ranks) of the network input ``x``."""
        raise NotImplementedError

    def test_model(self):
        """This network as the method's test side takes it (what its ``load_checkpoint`` returns)."""
        raise NotImplementedError

    # ---- training and evaluation -------------------------------------------------------------------
    def training_step(self, batch, batch_idx):
        poses, labels = batch["poses"], batch["label"]
        n = poses.shape[0]
        if poses.ndim == 5:  # (N, views, L, V, 3): every view a sample of its sequence's label
            labels = labels.repeat_interleave(poses.shape[1])
            poses = poses.flatten(0, 1)
        loss, global_batch = self.training_loss(self.training_input(poses), labels)
        self.log_training(loss, n, global_batch)
        return loss

    def embed(self, poses, tta: bool | None = None) -> torch.Tensor:
        """The reference's test-time embeddings of whole raw (T, V, 3) sequences (a list), on this device."""
        from gaitgraph.methods import get_method

        out = get_method(self.method).test_side().embed(self.test_model(), list(poses))
        return torch.from_numpy(out).to(self.device)
