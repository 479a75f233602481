"""``GaitGraph2``: the LightningModule of GaitGraph2 training (``gaitgraph2.md`` §5, §6).

A thin module around a registry network held as ``self.backbone`` (so checkpoint weights are named
``backbone.<original names>`` and ``gaitgraph.checkpoints.load_model`` reads them). Hyper-parameters
keep the original names (``backend_name``, ``embedding_layer_size``, ``multi_input``,
``multi_branch``, ``tta``, ``learning_rate``, ``loss_temperature``) plus ours (``skeleton``,
``sequence_length``, ``features``, ...).

* training: SupCon loss (temperature 0.01, L2-normalised Euclidean distance) on the global batch,
  AdamW or Adam, one-cycle learning rate stepped per batch (PyTorch defaults, total steps =
  ``trainer.estimated_stepping_batches``); logs ``train_loss``, ``train_loss_epoch``, ``lr``.
* validation: ``val_loss`` (the original's contrastive loss) and ``val_rank1`` (the dataset's
  protocol on the validation sequences with the TTA embeddings; nearest-neighbour rank-1 when the
  protocol has no cell, e.g. custom data); see ``docs/training.md``.
* test: TTA embeddings of the test split -> ``gaitgraph.evaluation.protocols.evaluate`` -> logged
  means, and ``metrics_path`` (JSON) when set.
* predict: embeddings of the predict split -> ``predict_output`` (``.npz`` or ``.parquet``, with the
  sequence table).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pytorch_lightning as pl
import torch
from pytorch_lightning.utilities import rank_zero_info

from gaitgraph.environment import describe
from gaitgraph.models import create_model
from gaitgraph.outputs import atomic_write, write_json
from gaitgraph.skeleton import get_skeleton
from gaitgraph.training.losses import contrastive_val_loss, supcon_loss
from gaitgraph.transforms.features import build_input


def input_shape(multi_input: bool, multi_branch: bool) -> tuple[int, int]:
    """(branches I, channels C) of the network input."""
    if not multi_input:
        return 1, 3
    if not multi_branch:
        raise ValueError(
            "multi_input=True with multi_branch=False is the original CASIA-B default that crashes "
            "(GaitGraph2 issues #6/#16/#24: 4-D input to ResGCN); set multi_branch: true in both --model and "
            "--data (3 branches x 5 channels, the paper's setting) or multi_input: false (raw x, y, conf)"
        )
    return 3, 5


def nearest_neighbour_rank1(emb: torch.Tensor, labels: torch.Tensor) -> float:
    """Leave-one-out rank-1 (%): each sequence against all others, L2-normalised Euclidean distance."""
    if len(emb) < 2:
        return float("nan")
    z = torch.nn.functional.normalize(emb.float(), dim=1)
    sim = z @ z.T
    sim.fill_diagonal_(-float("inf"))
    return 100.0 * float((labels[sim.argmax(dim=1)] == labels).float().mean())


class GaitGraph2(pl.LightningModule):
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
            metrics_path: ``test`` writes the evaluation (metrics.json shape) here.
            predict_output: ``predict`` writes embeddings + sequence table here (``.npz`` or ``.parquet``).
            stgcn_init: initialisation of the ``stgcn`` backbone: ``pytorch`` (the original's: PyTorch's
                defaults) or ``kaiming`` (the ResGCN-style scheme); ResGCN backbones ignore it (they always
                use the original ResGCN initialisation).
        """
        super().__init__()
        self.save_hyperparameters()
        num_branches, in_channels = input_shape(multi_input, multi_branch)
        self.skeleton = get_skeleton(skeleton)
        self.backbone = create_model(
            backend_name, skeleton=self.skeleton.name, num_branches=num_branches, in_channels=in_channels,
            embedding_dim=embedding_layer_size, init=stgcn_init if backend_name == "stgcn" else None,
        )
        self.loss = supcon_loss(loss_temperature)
        self.val_loss = contrastive_val_loss()
        self._net = self.backbone
        self._outputs: list[dict] = []
        if compile:
            # kept out of the module tree so checkpoints keep the plain ``backbone.`` names
            object.__setattr__(self, "_net", torch.compile(self.backbone))

    # ---- forward --------------------------------------------------------------------------------
    def features(self, poses: torch.Tensor) -> torch.Tensor:
        """(N, L, V, 3) raw poses -> (N, I, C, L, V) network input."""
        return build_input(poses, self.skeleton, multi_branch=self.hparams.multi_input, mode=self.hparams.features)

    def forward(self, poses: torch.Tensor) -> torch.Tensor:
        """(N, L, V, 3) -> (N, embedding_layer_size)."""
        return self._net(self.features(poses))

    def embed(self, poses: torch.Tensor, tta: bool | None = None) -> torch.Tensor:
        """Evaluation embedding; with TTA the concatenation of [plain, time-reversed, left/right-swapped]."""
        tta = self.hparams.tta if tta is None else tta
        if not tta:
            return self(poses)
        flip = torch.tensor(self.skeleton.flip_idx, device=poses.device)
        variants = torch.cat([poses, poses.flip(1), poses[:, :, flip]])
        return torch.cat(self(variants).chunk(3), dim=1)

    # ---- training -------------------------------------------------------------------------------
    def setup(self, stage: str) -> None:
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        if dm is not None and hasattr(dm, "check_model"):
            dm.check_model(self.hparams.skeleton, self.hparams.multi_input, self.hparams.multi_branch)
            if dm.sequence_length != self.hparams.sequence_length:
                rank_zero_info(f"model sequence_length {self.hparams.sequence_length} != data {dm.sequence_length}")

    def training_step(self, batch, batch_idx):
        emb = self(batch["poses"])
        loss = self.loss(emb.float(), batch["subject"])
        n = batch["poses"].shape[0]
        self.log("train_loss", loss, on_step=True, on_epoch=False, prog_bar=True, batch_size=n)
        self.log("train_loss_epoch", loss, on_step=False, on_epoch=True, batch_size=n, sync_dist=True)
        self.log("train_global_batch", float(self.loss.last_batch_size), on_step=True, on_epoch=False, batch_size=n)
        self.log("lr", self.optimizers().param_groups[0]["lr"], on_step=True, on_epoch=False, batch_size=n)
        return loss

    def configure_optimizers(self):
        hp = self.hparams
        cls = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam}[hp.optimizer]
        opt = cls(self.parameters(), lr=hp.learning_rate, weight_decay=hp.weight_decay)
        total = int(self.trainer.estimated_stepping_batches)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=hp.learning_rate, total_steps=max(total, 1))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step", "frequency": 1}}

    # ---- evaluation -----------------------------------------------------------------------------
    def _eval_step(self, batch, with_loss: bool):
        poses = batch["poses"]
        emb = self.embed(poses)
        out = {"emb": emb.float(), "row": batch["row"]}
        if with_loss:
            d = self.hparams.embedding_layer_size
            plain = emb[:, :d]  # the plain view is the first block of the TTA embedding
            loss = self.val_loss(plain.float(), batch["subject"])
            self.log("val_loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(poses),
                     sync_dist=True)
        self._outputs.append(out)

    def _collect(self) -> tuple[np.ndarray, np.ndarray]:
        """All ranks' (embeddings, table rows), duplicates from the distributed sampler removed."""
        emb = torch.cat([o["emb"] for o in self._outputs]) if self._outputs else torch.zeros(0, 1)
        row = torch.cat([o["row"] for o in self._outputs]) if self._outputs else torch.zeros(0, dtype=torch.long)
        self._outputs = []
        if self.trainer.world_size > 1:
            emb, row = self._gather_uneven(emb), self._gather_uneven(row)
        row, first = np.unique(row.cpu().numpy(), return_index=True)
        return emb.cpu().numpy()[first], row

    def _gather_uneven(self, t: torch.Tensor) -> torch.Tensor:
        """``all_gather`` of tensors whose first dimension differs between ranks."""
        n = self.all_gather(torch.tensor(len(t), device=self.device)).reshape(-1)
        m = int(n.max())
        padded = torch.cat([t.to(self.device), t.new_zeros((m - len(t), *t.shape[1:])).to(self.device)])
        parts = self.all_gather(padded)  # (W, m, ...)
        return torch.cat([parts[i, : int(k)] for i, k in enumerate(n)])

    def on_validation_epoch_start(self) -> None:
        self._outputs = []

    def validation_step(self, batch, batch_idx):
        self._eval_step(batch, with_loss=True)

    def on_validation_epoch_end(self) -> None:
        emb, rows = self._collect()
        if len(rows) == 0:
            return
        dm = self.trainer.datamodule
        table = dm.sequences.iloc[rows]
        rank1 = self._protocol_rank1(emb, table, dm.dataset_name)
        self.log("val_rank1", rank1, prog_bar=True, rank_zero_only=False)

    @staticmethod
    def _protocol_rank1(emb: np.ndarray, table: pd.DataFrame, dataset: str) -> float:
        """Mean rank-1 of the dataset's paper convention, or leave-one-out rank-1 when undefined."""
        try:
            from gaitgraph.evaluation.protocols import evaluate

            result = evaluate(emb, table.reset_index(drop=True), dataset)
            mean = next(iter(result["conventions"].values()))["mean"]
            if mean is not None and math.isfinite(mean):
                return float(mean)
        except (ImportError, ValueError):
            pass
        return nearest_neighbour_rank1(torch.from_numpy(emb), torch.from_numpy(table["subject"].to_numpy(np.int64)))

    def on_test_epoch_start(self) -> None:
        self._outputs = []

    def test_step(self, batch, batch_idx):
        self._eval_step(batch, with_loss=False)

    def on_test_epoch_end(self) -> None:
        from gaitgraph.evaluation.protocols import evaluate

        emb, rows = self._collect()
        dm = self.trainer.datamodule
        table = dm.sequences.iloc[rows].reset_index(drop=True)
        result = evaluate(emb, table, dm.dataset_name)
        for name, conv in result["conventions"].items():
            for cond, block in conv["conditions"].items():
                if block["mean"] is not None:
                    self.log(f"test_rank1/{name}/{cond}", float(block["mean"]), rank_zero_only=False)
        first = next(iter(result["conventions"].values()))
        if first["mean"] is not None:
            self.log("test_rank1", float(first["mean"]), rank_zero_only=False)
        if self.hparams.metrics_path and self.trainer.is_global_zero:
            meta = dm.dataset.meta
            doc = {
                "dataset": dm.dataset_name, "keypoints": meta.get("keypoints"), "skeleton": self.skeleton.name,
                "synthetic": bool(meta.get("synthetic", False)), "checkpoint": self.trainer.ckpt_path,
                "tta": bool(self.hparams.tta), "backend_name": self.hparams.backend_name,
                "test_set": dm.test_set_record() if hasattr(dm, "test_set_record") else None,
                "environment": describe(), **result,
            }
            write_json(self.hparams.metrics_path, doc, indent=1, allow_nan=True)

    def on_predict_epoch_start(self) -> None:
        self._outputs = []

    def predict_step(self, batch, batch_idx):
        self._eval_step(batch, with_loss=False)
        return None

    def on_predict_epoch_end(self) -> None:
        emb, rows = self._collect()
        out = self.hparams.predict_output
        if not out or not self.trainer.is_global_zero:
            return
        dm = self.trainer.datamodule
        write_embeddings(out, emb, dm.sequences.iloc[rows].reset_index(drop=True), dm.sequence_length)

    # ---- checkpoints ----------------------------------------------------------------------------
    def on_load_checkpoint(self, checkpoint: dict) -> None:
        hp = checkpoint.get("hyper_parameters") or {}
        for key in ("backend_name", "skeleton", "embedding_layer_size", "multi_input", "multi_branch"):
            if key in hp and hp[key] != self.hparams[key]:
                raise ValueError(
                    f"checkpoint has {key}={hp[key]!r} but this model was built with {key}={self.hparams[key]!r}; "
                    "pass the run's saved config (config.yaml next to the logs) with --config, or set the flag"
                )


def write_embeddings(path: str | Path, emb: np.ndarray, table: pd.DataFrame, sequence_length: int) -> Path:
    """Embeddings + sequence table: ``.npz`` (``embeddings`` + one array per column) or ``.parquet``."""
    path = Path(path)
    if path.suffix == ".parquet":
        df = table.copy()
        df["embedding"] = list(emb.astype(np.float32))
        atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))
    else:
        # text columns as fixed-width unicode arrays, so np.load works without pickle
        cols = {c: (np.asarray(table[c].astype(str).tolist(), dtype=str) if not pd.api.types.is_numeric_dtype(table[c].dtype)
                    else table[c].to_numpy()) for c in table.columns}
        npz = path if path.suffix == ".npz" else path.with_name(path.name + ".npz")  # where np.savez puts it
        atomic_write(npz, lambda tmp: np.savez(tmp, embeddings=emb.astype(np.float32), sequence_length=sequence_length, **cols))
    return path
