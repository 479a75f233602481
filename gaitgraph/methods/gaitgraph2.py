"""GaitGraph2 (Teepe et al., CVPRW 2022): the method this project reproduces (``gaitgraph2.md``).

* Training: ``gaitgraph.training.gaitgraph2.GaitGraph2`` (LightningModule: ResGCN from the registry,
  multi-branch input features, SupCon on the global batch) with ``PoseDataModule``; recipes
  ``gaitgraph2/casia-b`` and ``gaitgraph2/oumvlp-pose`` (the original configs, ``gaitgraph/recipes/``).
* Test side: original GaitGraph2 Lightning checkpoints and ours (``gaitgraph.checkpoints``), embedded
  with the original test pipeline and its TTA (``gaitgraph.inference``): 384-d with TTA, 128-d without.
"""

from __future__ import annotations

from typing import Sequence

from gaitgraph.methods.spec import MethodSpec

NAME = "gaitgraph2"
TITLE = "GaitGraph2"
CITATION = ("T. Teepe, J. Gilg, F. Herzog, S. Hörmann, G. Rigoll: Towards a Deeper Understanding of Skeleton-based "
            "Gait Recognition, CVPR Workshops 2022 (arXiv 2204.07855); tteepe/GaitGraph2 @ 0c619f3")


def is_checkpoint(ckpt: dict) -> bool:
    """A Lightning checkpoint with ``backbone.`` ResGCN/ST-GCN weights that is not a GaitGraph v1 one (nor tagged
    as another method's)."""
    from gaitgraph.methods import gaitgraph1

    state = ckpt.get("state_dict") if isinstance(ckpt, dict) else None
    return (isinstance(state, dict) and any(k.startswith("backbone.") for k in state)
            and ckpt.get("gaitgraph_method", NAME) == NAME and not gaitgraph1.is_checkpoint(ckpt))


def load_checkpoint(path_or_dict, map_location="cpu", **kwargs):
    """``gaitgraph.checkpoints.load_model``: the network and its ``ModelSpec``."""
    from gaitgraph.checkpoints import load_model

    return load_model(path_or_dict, map_location=map_location, **kwargs)


def embed(loaded, raw_sequences: Sequence, *, tta: bool | None = True, batch_size: int = 256, device=None,
          progress: bool = False):
    """The original test pipeline (``gaitgraph.inference.embed``); TTA on unless ``tta`` is False."""
    from gaitgraph.inference import embed as embed_sequences

    return embed_sequences(loaded, raw_sequences, tta=tta is not False, batch_size=batch_size, device=device,
                           progress=progress)


SPEC = MethodSpec(
    name=NAME,
    title=TITLE,
    citation=CITATION,
    network="ResGCN (resgcn-n21-r8 on CASIA-B, resgcn-n51-r4 on OUMVLP-Pose; ST-GCN in the ablation)",
    features="gaitgraph.transforms.features.build_input",
    loss="gaitgraph.training.losses.supcon_loss",
    checkpoints="gaitgraph.methods.gaitgraph2",
    module="gaitgraph.training.gaitgraph2.GaitGraph2",
    datamodule="gaitgraph.training.datamodule.PoseDataModule",
    recipes={"casia-b": "gaitgraph2/casia-b", "oumvlp-pose": "gaitgraph2/oumvlp-pose", "gait3d": "gaitgraph2/gait3d",
             "grew": "gaitgraph2/grew"},
)
