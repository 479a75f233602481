"""Callbacks: the run's ``history.csv`` (one row per epoch, survives resumes), its software environment,
SWA as in PL 1.5, atomic checkpoints."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from weakref import proxy

import pandas as pd
import pytorch_lightning as pl
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.callbacks import StochasticWeightAveraging as _SWA

from gaitgraph.outputs import atomic_write, remove_stale_in, temporary_sibling, write_json
from gaitgraph.training.runs import HISTORY_COLUMNS



class HistoryWriter(pl.Callback):
    """Writes ``RUN_DIR/history.csv`` (``docs/design.md``: epoch, step, train_loss, lr, val_loss, val_rank1).

    One row per training epoch; ``train_loss`` is the epoch mean, ``lr`` the rate after the epoch's
    last step, the validation columns are empty where validation did not run. On a resumed run the
    rows of epochs before the resume point are kept and later ones rewritten.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.rows: list[dict] = []
        self._val_epoch = -1

    def on_train_start(self, trainer, pl_module) -> None:
        # on_train_start: after a resume has restored the loops (current_epoch is the resume epoch)
        self.rows = []
        if self.path.is_file():
            old = pd.read_csv(self.path)
            self.rows = old[old["epoch"] < trainer.current_epoch].to_dict("records")

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self._val_epoch = trainer.current_epoch

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if not trainer.is_global_zero:
            return
        m = trainer.callback_metrics
        get = lambda k: float(m[k]) if k in m and math.isfinite(float(m[k])) else None  # noqa: E731
        validated = self._val_epoch == trainer.current_epoch
        self.rows.append({
            "epoch": trainer.current_epoch,
            "step": trainer.global_step,
            "train_loss": get("train_loss_epoch"),
            "lr": trainer.optimizers[0].param_groups[0]["lr"] if trainer.optimizers else None,
            "val_loss": get("val_loss") if validated else None,
            "val_rank1": get("val_rank1") if validated else None,
        })
        table = pd.DataFrame(self.rows, columns=list(HISTORY_COLUMNS))
        atomic_write(self.path, lambda tmp: table.to_csv(tmp, index=False))


class EnvironmentRecorder(pl.Callback):
    """Records the software environment of a run (``gaitgraph.environment.describe``): written to
    ``RUN_DIR/environment.json`` when fitting starts (a resumed run appends its record under
    ``resumed``) and stored as ``environment`` in every checkpoint, so an exported ``model.ckpt`` says
    which packages trained it."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.record: dict | None = None

    def setup(self, trainer, pl_module, stage: str) -> None:
        from gaitgraph.environment import describe

        self.record = describe()
        if stage != "fit" or not trainer.is_global_zero:
            return
        doc = json.loads(self.path.read_text()) if self.path.is_file() else None
        if isinstance(doc, dict) and "packages" in doc:
            doc.setdefault("resumed", []).append(self.record)
        else:
            doc = dict(self.record)
        write_json(self.path, doc, indent=1, allow_nan=True)

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        if self.record is not None:
            checkpoint["environment"] = self.record


class StochasticWeightAveraging(_SWA):
    """Lightning's SWA with the PL 1.5 default the original relied on: ``swa_lrs=None`` means "the
    optimizer's learning rate when SWA starts" (the one-cycle rate at 80 % of training)."""

    def __init__(self, swa_lrs: float | list[float] | None = None, swa_epoch_start: int | float = 0.8,
                 annealing_epochs: int = 10, annealing_strategy: str = "cos", device: str | None = "cpu"):
        super().__init__(swa_lrs=1.0 if swa_lrs is None else swa_lrs, swa_epoch_start=swa_epoch_start,
                         annealing_epochs=annealing_epochs, annealing_strategy=annealing_strategy, device=device)
        self._lr_from_optimizer = swa_lrs is None

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        if self._lr_from_optimizer and not self._initialized and self.swa_start <= trainer.current_epoch:
            self._swa_lrs = [float(g["lr"]) for g in trainer.optimizers[0].param_groups]
        super().on_train_epoch_start(trainer, pl_module)


class AtomicCheckpoint(ModelCheckpoint):
    """``ModelCheckpoint`` whose files appear atomically (written to a hidden temporary, then renamed).

    A run killed while saving keeps its previous complete ``last.ckpt``, so auto-resume never meets a
    truncated file.
    """

    def setup(self, trainer, pl_module, stage: str) -> None:
        super().setup(trainer, pl_module, stage)
        if trainer.is_global_zero and self.dirpath and Path(self.dirpath).is_dir():
            remove_stale_in(self.dirpath)  # what runs killed while saving left behind

    def _save_checkpoint(self, trainer, filepath: str) -> None:
        part = temporary_sibling(filepath)  # only global rank zero writes it
        trainer.save_checkpoint(part, self.save_weights_only)
        if trainer.is_global_zero:
            os.replace(part, filepath)
        trainer.strategy.barrier("AtomicCheckpoint")
        self._last_global_step_saved = trainer.global_step
        self._last_checkpoint_saved = filepath
        if trainer.is_global_zero:
            for logger in trainer.loggers:
                logger.after_save_checkpoint(proxy(self))
