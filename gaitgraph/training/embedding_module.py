"""``EmbeddingModule``: what every training module shares, whatever its network, input and loss.

A method's LightningModule (``GaitGraph2``, ``GaitGraph1``, ...) subclasses this and supplies its network
(``use_network``), its input features (``features``) and its ``training_step``. The rest is here, once:

* the network held as ``self.backbone`` (checkpoint weights ``backbone.<names>``), optionally run through
  ``torch.compile`` without changing those names;
* the optimizer (AdamW or Adam) with a one-cycle learning rate stepped per batch (PyTorch defaults unless a
  method gives its reference's, total steps = ``trainer.estimated_stepping_batches``), and the training logs (``train_loss``,
  ``train_loss_epoch``, ``train_global_batch``, ``lr``);
* validation: ``val_loss`` (the original GaitGraph2's contrastive loss on the plain embedding) and
  ``val_rank1`` (the dataset's protocol on the validation sequences, or leave-one-out rank-1 where the
  protocol has no cell, e.g. custom data); see ``docs/training.md``;
* test: embeddings of the test split -> the protocol under the method's distance
  (``gaitgraph.evaluation.evaluate_checkpoint.score_embeddings``, rows the method's protocol drops left out)
  -> logged means, and ``metrics_path`` written with the same record as ``gaitgraph evaluate``
  (``evaluation.metrics_file``);
* predict: embeddings of the predict split -> ``predict_output`` (``.npz`` or ``.parquet``);
* under DDP, every rank's embeddings are gathered before the protocol runs;
* checkpoints carry the method's registry name (``gaitgraph_method``), so ``gaitgraph.methods.method_of``
  recognises them, and loading one built with another architecture is a clear error.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytorch_lightning as pl
import torch
from pytorch_lightning.utilities import rank_zero_info
from torch import nn

from gaitgraph.outputs import atomic_write
from gaitgraph.skeleton import get_skeleton
from gaitgraph.training.losses import contrastive_val_loss


def input_shape(multi_input: bool, multi_branch: bool) -> tuple[int, int]:
    """(branches I, channels C) of a GaitGraph network's input."""
    if not multi_input:
        return 1, 3
    if not multi_branch:
        raise ValueError(
            "multi_input=True with multi_branch=False is the original CASIA-B default that crashes "
            "(GaitGraph2 issues #6/#16/#24: 4-D input to ResGCN); set multi_branch: true in both --model and "
            "--data (3 branches x 5 channels, the paper's setting) or multi_input: false (raw x, y, conf)"
        )
    return 3, 5


def nearest_neighbour_rank1(emb: torch.Tensor, labels: torch.Tensor, metric: str = "cos") -> float:
    """Leave-one-out rank-1 (%): each sequence against all others under the distance ``metric``
    (``gaitgraph.evaluation.distance``; ``cos``: L2-normalised Euclidean)."""
    from gaitgraph.evaluation.distance import columns, prepare, similarity

    if len(emb) < 2:
        return float("nan")
    z = prepare(emb, metric)
    sim = similarity(z, columns(z))
    sim.fill_diagonal_(-float("inf"))
    return 100.0 * float((labels[sim.argmax(dim=1)] == labels).float().mean())


def one_cycle(parameters, trainer, optimizer: str, learning_rate: float, weight_decay: float, **schedule) -> dict:
    """``configure_optimizers``' answer: AdamW (decoupled decay) or Adam (L2) with a one-cycle schedule over
    the run's optimizer steps, stepped per batch (the originals' ``OneCycleLR`` with PyTorch defaults;
    ``schedule``: other ``OneCycleLR`` arguments, e.g. a reference's ``pct_start``, ``div_factor``)."""
    cls = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam}[optimizer]
    opt = cls(parameters, lr=learning_rate, weight_decay=weight_decay)
    total = int(trainer.estimated_stepping_batches)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=learning_rate, total_steps=max(total, 1), **schedule)
    return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step", "frequency": 1}}


class EmbeddingModule(pl.LightningModule):
    """Base of the training modules (see the module docstring). Subclasses call ``save_hyperparameters()``
    and :meth:`use_network` in ``__init__``; their hyper-parameters must include ``skeleton``, ``optimizer``,
    ``learning_rate``, ``weight_decay``, ``metrics_path``, ``predict_output`` (and ``embedding_layer_size``,
    ``tta``, ``backend_name`` unless they override :meth:`plain_embedding`, :attr:`uses_tta`, :attr:`backbone_name`)."""

    method: ClassVar[str]  # registry name (gaitgraph.methods), stored in every checkpoint
    # hyper-parameters that shape the network: `gaitgraph test --ckpt_path` takes them from the checkpoint,
    # and a checkpoint is loaded only where they (and the skeleton) agree
    arch_keys: ClassVar[tuple[str, ...]] = ()

    def use_network(self, backbone: nn.Module, compile: bool = False) -> None:
        """Hold ``backbone`` as ``self.backbone``; with ``compile`` run it through ``torch.compile``, kept out of
        the module tree so that checkpoints keep the plain ``backbone.`` names."""
        self.skeleton = get_skeleton(self.hparams.skeleton)
        self.backbone = backbone
        self.val_loss = contrastive_val_loss()
        self._outputs: list[dict] = []
        self._loaded: dict = {}
        object.__setattr__(self, "_net", torch.compile(backbone) if compile else backbone)

    @property
    def metric(self) -> str:
        """The distance of the method's test protocol (``MethodSpec.metric``: ``cos`` or ``euc``)."""
        from gaitgraph.methods import get_method

        return get_method(self.method).metric

    @property
    def uses_tta(self) -> bool:
        """Whether evaluation embeddings carry test-time augmentation (recorded in metrics.json)."""
        return bool(self.hparams.tta)

    @property
    def backbone_name(self) -> str | None:
        """The network's name in metrics.json (``gaitgraph evaluate`` records the same)."""
        return self.hparams.get("backend_name")

    # ---- forward --------------------------------------------------------------------------------
    def features(self, poses: torch.Tensor) -> torch.Tensor:
        """(N, L, V, 3) raw poses -> the network's input."""
        raise NotImplementedError

    def plain_embedding(self, emb: torch.Tensor) -> torch.Tensor:
        """(N, D) rows of an evaluation embedding that ``val_loss`` sees: the plain view (the first block with TTA)."""
        return emb[:, : self.hparams.embedding_layer_size]

    def forward(self, poses: torch.Tensor) -> torch.Tensor:
        """(N, L, V, 3) -> (N, embedding_layer_size)."""
        return self._net(self.features(poses))

    def embed(self, poses: torch.Tensor, tta: bool | None = None) -> torch.Tensor:
        """Evaluation embedding; with TTA GaitGraph2's (``gaitgraph.inference.tta_embedding``): the
        concatenation of [plain, time-reversed, left/right-swapped]."""
        from gaitgraph.inference import tta_embedding

        tta = self.hparams.tta if tta is None else tta
        return tta_embedding(self, poses, self.skeleton.flip_idx) if tta else self(poses)

    # ---- training -------------------------------------------------------------------------------
    def setup(self, stage: str) -> None:
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        if dm is not None and hasattr(dm, "check_model"):
            dm.check_model(self.hparams.skeleton, self.hparams.get("multi_input", False),
                           self.hparams.get("multi_branch", False))
            if dm.sequence_length != self.hparams.get("sequence_length", dm.sequence_length):
                rank_zero_info(f"model sequence_length {self.hparams.sequence_length} != data {dm.sequence_length}")

    def log_training(self, loss: torch.Tensor, batch_size: int, global_batch: int) -> None:
        """The training logs every method writes (``history.csv`` reads them)."""
        self.log("train_loss", loss, on_step=True, on_epoch=False, prog_bar=True, batch_size=batch_size)
        self.log("train_loss_epoch", loss, on_step=False, on_epoch=True, batch_size=batch_size, sync_dist=True)
        self.log("train_global_batch", float(global_batch), on_step=True, on_epoch=False, batch_size=batch_size)
        self.log("lr", self.optimizers().param_groups[0]["lr"], on_step=True, on_epoch=False, batch_size=batch_size)

    def configure_optimizers(self):
        hp = self.hparams
        return one_cycle(self.parameters(), self.trainer, hp.optimizer, hp.learning_rate, hp.weight_decay)

    # ---- evaluation -----------------------------------------------------------------------------
    def _eval_step(self, batch, with_loss: bool):
        poses = batch["poses"]
        emb = self.embed(poses)
        if with_loss:
            plain = self.plain_embedding(emb).float()
            kept = torch.isfinite(plain).all(dim=1)  # rows the method's protocol dropped are NaN
            loss = self.val_loss(plain[kept], batch["subject"][kept])
            self.log("val_loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(poses),
                     sync_dist=True)
        self._outputs.append({"emb": emb.float(), "row": batch["row"]})

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
        rank1 = protocol_rank1(emb, dm.sequences.iloc[rows], dm.dataset_name, self.metric)
        self.log("val_rank1", rank1, prog_bar=True, rank_zero_only=False)

    def on_test_epoch_start(self) -> None:
        self._outputs = []

    def test_step(self, batch, batch_idx):
        self._eval_step(batch, with_loss=False)

    def on_test_epoch_end(self) -> None:
        from gaitgraph.evaluation.evaluate_checkpoint import score_embeddings
        from gaitgraph.evaluation.selection import selection

        emb, rows = self._collect()
        dm = self.trainer.datamodule
        table = dm.sequences.iloc[rows].reset_index(drop=True)
        chosen = dm.test_selection() if hasattr(dm, "test_selection") else selection("all", None)
        result, test_set, num_scored = score_embeddings(emb, table, dm.dataset_name, chosen,
                                                  getattr(dm, "num_test_total", len(table)), self.metric)
        for name, conv in result["conventions"].items():
            for cond, block in conv["conditions"].items():
                if block["mean"] is not None:
                    self.log(f"test_rank1/{name}/{cond}", float(block["mean"]), rank_zero_only=False)
        first = next(iter(result["conventions"].values()))
        if first["mean"] is not None:
            self.log("test_rank1", float(first["mean"]), rank_zero_only=False)
        if self.hparams.metrics_path and self.trainer.is_global_zero:
            self._write_metrics(emb, num_scored, result, test_set, dm)

    def _write_metrics(self, emb: np.ndarray, num_sequences: int, result: dict, test_set: dict, dm) -> None:
        from gaitgraph.evaluation.metrics_file import metrics_record, write_metrics
        from gaitgraph.methods import get_method

        hyper_parameters = self._loaded.get("hyper_parameters") or dict(self.hparams)
        record = metrics_record(
            meta=dm.dataset.meta, data=dm.dataset_dir, split="test", checkpoint=self.trainer.ckpt_path, result=result,
            backbone=self.backbone_name, tta=self.uses_tta, metric=self.metric,
            embedding_dim=int(np.prod(emb.shape[1:])), method=get_method(self.method).title, experiment=self.method,
            seed=None, num_sequences=num_sequences, test_set=test_set,
            ckpt={"environment": self._loaded.get("environment")}, hyper_parameters=hyper_parameters,
        )
        write_metrics(self.hparams.metrics_path, record, tables=False)

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
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["gaitgraph_method"] = self.method

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        hp = checkpoint.get("hyper_parameters") or {}
        for key in (*self.arch_keys, "skeleton"):
            if key in hp and _plain(hp[key]) != _plain(self.hparams[key]):
                raise ValueError(
                    f"checkpoint has {key}={hp[key]!r} but this model was built with {key}={self.hparams[key]!r}; "
                    "pass the run's saved config (config.yaml next to the logs) with --config, or set the flag"
                )
        # what the test's metrics.json records: the configuration trained and the software that trained it
        self._loaded = {"hyper_parameters": dict(hp), "environment": checkpoint.get("environment")}


def _plain(value):
    """A hyper-parameter as compared across a checkpoint round trip: sequences as tuples (a saved tuple may
    come back as a list, e.g. GaitMixer's ``temporal_channels``)."""
    return tuple(_plain(v) for v in value) if isinstance(value, (list, tuple)) else value


def protocol_rank1(emb: np.ndarray, table: pd.DataFrame, dataset: str, metric: str = "cos") -> float:
    """Mean rank-1 of the dataset's first convention under ``metric``, or leave-one-out rank-1 where it has none;
    rows the method's protocol dropped (all NaN) are left out."""
    from gaitgraph.methods.common import dropped_rows

    kept = ~dropped_rows(emb)
    emb, table = emb[kept], table[kept].reset_index(drop=True)
    try:
        from gaitgraph.evaluation.protocols import evaluate

        result = evaluate(emb, table, dataset, metric=metric)
        mean = next(iter(result["conventions"].values()))["mean"]
        if mean is not None and math.isfinite(mean):
            return float(mean)
    except (ImportError, ValueError):
        pass
    return nearest_neighbour_rank1(torch.from_numpy(emb), torch.from_numpy(table["subject"].to_numpy(np.int64)), metric)


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
