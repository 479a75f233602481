"""GaitGraph (v1, Teepe et al., ICIP 2021) as a second method (``gaitgraph2.md`` §1.3, §3, §5, §6).

* Training: ``gaitgraph.training.gaitgraph1.GaitGraph1`` (resgcn-n39-r8, one raw branch, L2-normalised
  embedding, two-view SupCon ``gaitgraph.training.losses.TwoViewSupCon``) with ``TwoViewDataModule``
  (two independently augmented views per sequence, ``gaitgraph.transforms.gaitgraph1_augment``); two
  phases, recipes ``gaitgraph1/casia-b`` (300 epochs at lr 1e-2) then ``gaitgraph1/casia-b-finetune``
  (100 epochs at lr 1e-5 from the phase-1 weights, ``--model.init_from``).
* Test side: original v1 ``{"model": ...}`` files and our v1 checkpoints (``l2_normalize`` in their
  hyper-parameters); v1's own evaluation is the plain 128-d embedding (its flip TTA is a no-op on one
  branch) on its own test set: sequences of at most the window length left out (``MIN_LENGTH``).
"""

from __future__ import annotations

from typing import Sequence

from gaitgraph.methods.spec import MethodSpec

NAME = "gaitgraph1"
TITLE = "GaitGraph"
CITATION = ("T. Teepe, A. Khan, J. Gilg, F. Herzog, S. Hörmann, G. Rigoll: GaitGraph: Graph Convolutional Network "
            "for Skeleton-Based Gait Recognition, ICIP 2021 (arXiv 2101.11228); tteepe/GaitGraph @ e7a3995")
MIN_LENGTH = 61  # the original keeps only sequences with MORE than 60 frames (the window), train and test


def is_checkpoint(ckpt: dict) -> bool:
    """An original v1 file (``{"model": ResGCN weights, ...}``) or one of our v1 Lightning checkpoints."""
    if not isinstance(ckpt, dict):
        return False
    model = ckpt.get("model")
    if isinstance(model, dict) and any(k.removeprefix("module.").startswith(("input_branches.", "data_bn"))
                                       for k in model):
        return True
    hp = ckpt.get("hyper_parameters") if isinstance(ckpt.get("state_dict"), dict) else None
    return isinstance(hp, dict) and bool(hp.get("l2_normalize")) and ckpt.get("gaitgraph_method", NAME) == NAME


def load_checkpoint(path_or_dict, map_location="cpu", **kwargs):
    """``gaitgraph.checkpoints.load_model``: the network (L2-normalising) and its ``ModelSpec``."""
    from gaitgraph.checkpoints import load_model

    return load_model(path_or_dict, map_location=map_location, **kwargs)


def embed(loaded, raw_sequences: Sequence, *, tta: bool | None = False, batch_size: int = 256, device=None,
          progress: bool = False):
    """v1's evaluation: the plain embedding (``tta=True`` applies GaitGraph2's TTA instead, not v1's)."""
    from gaitgraph.inference import embed as embed_sequences

    return embed_sequences(loaded, raw_sequences, tta=bool(tta), batch_size=batch_size, device=device,
                           progress=progress)


def flip_tta_embedding(model, x):
    """The original G1 evaluation's ``use_flip``: mean of the embeddings of ``x`` and of ``x`` flipped
    along dimension 1 of (N, I, C, T, V). With one branch (I = 1) the flip changes nothing, so this
    equals ``model(x)``: G1's TTA is a no-op and ``tta=False`` reproduces it."""
    return (model(x) + model(x.flip(1))) / 2


SPEC = MethodSpec(
    name=NAME,
    title=TITLE,
    citation=CITATION,
    network="ResGCN resgcn-n39-r8, one branch of raw (x, y, confidence), L2-normalised embedding",
    features="gaitgraph.transforms.features.build_input",
    loss="gaitgraph.training.losses.TwoViewSupCon",
    checkpoints="gaitgraph.methods.gaitgraph1",
    module="gaitgraph.training.gaitgraph1.GaitGraph1",
    datamodule="gaitgraph.training.two_view_datamodule.TwoViewDataModule",
    recipes={"casia-b": "gaitgraph1/casia-b", "gait3d": "gaitgraph1/gait3d", "grew": "gaitgraph1/grew"},
    test_set="gaitgraph1",
)
