"""Training: LightningModules, DataModules, losses, callbacks, the workflow's run folders (``docs/training.md``).

Names are imported on first use, so that light modules (``gaitgraph.training.runs``) do not pull in
torch and Lightning.
"""

import importlib

_EXPORTS = {
    "EmbeddingModule": "gaitgraph.training.embedding_module",
    "GaitGraph2": "gaitgraph.training.gaitgraph2",
    "GaitGraph1": "gaitgraph.training.gaitgraph1",
    "PoseDataModule": "gaitgraph.training.datamodule",
    "TwoViewDataModule": "gaitgraph.training.two_view_datamodule",
    "GaitTR": "gaitgraph.training.gaittr",
    "GPGait": "gaitgraph.training.gpgait",
    "GaitMixer": "gaitgraph.training.gaitmixer",
    "PKDataModule": "gaitgraph.training.pk_datamodule",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'gaitgraph.training' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
