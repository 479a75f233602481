"""Training: ``GaitGraph2`` (LightningModule), ``PoseDataModule``, losses (``docs/training.md``)."""

from gaitgraph.training.datamodule import PoseDataModule
from gaitgraph.training.module import GaitGraph2

__all__ = ["GaitGraph2", "PoseDataModule"]
