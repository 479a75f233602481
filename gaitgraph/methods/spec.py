"""What a method module declares: ``MethodSpec`` (``docs/methods.md``).

A method module (``gaitgraph/methods/<name>.py``) builds one :class:`MethodSpec` and is registered by
name in ``gaitgraph/methods/__init__.py``. The spec says how the method trains (its network, input
features and loss, its LightningModule and DataModule, its packaged recipes in ``gaitgraph/recipes/``)
and how it embeds at test time (its checkpoint format and its reference's test pipeline). Everything
else (``gaitgraph fit --method``, ``gaitgraph.embed``, ``gaitgraph evaluate``, the workflow) asks the
registry. Classes and functions are named by dotted path and imported on use, so reading the registry
costs no torch import.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field


def resolve(dotted: str):
    """The object a dotted path ``package.module.name`` names."""
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class MethodSpec:
    name: str  # registry name: `gaitgraph fit --method NAME`, `gaitgraph.embed(..., method=NAME)`
    title: str  # for tables and figures ("GaitGraph2")
    citation: str
    network: str  # which registry networks it builds (gaitgraph.models), in words
    features: str  # dotted path of its input-feature function
    loss: str  # dotted path of its training loss
    checkpoints: str  # dotted path of the module with is_checkpoint / load_checkpoint / embed (the test side)
    module: str | None = None  # dotted path of its LightningModule (None: not trainable here yet)
    datamodule: str | None = None  # dotted path of its LightningDataModule
    # the DataModule's defaults for this method (`gaitgraph fit --method NAME` without a recipe: the reference's
    # batches and frames); the recipes set them too, each value with its reference line
    data_defaults: dict = field(default_factory=dict)
    recipes: dict[str, str] = field(default_factory=dict)  # dataset -> recipe name (gaitgraph/recipes/<name>.yaml)
    test_set: str = "all"  # which test sequences its own protocol evaluates (gaitgraph.evaluation.selection)
    # the distance its reference's test protocol ranks by (gaitgraph.evaluation.distance, OpenGait's
    # evaluator_cfg.metric names): "cos" (L2-normalised; GaitGraph2's) or "euc" (raw, per part, mean over parts)
    metric: str = "cos"

    @property
    def trainable(self) -> bool:
        return self.module is not None

    def lightning_classes(self) -> tuple[type, type]:
        """(LightningModule, LightningDataModule) classes of ``gaitgraph fit --method NAME``."""
        if not self.trainable:
            raise ValueError(f"{self.title} cannot be trained here yet (no LightningModule); its checkpoints embed")
        return resolve(self.module), resolve(self.datamodule)

    def test_side(self):
        """The module with ``is_checkpoint(ckpt)``, ``load_checkpoint(path)`` and ``embed(loaded, sequences, ...)``."""
        return importlib.import_module(self.checkpoints)
