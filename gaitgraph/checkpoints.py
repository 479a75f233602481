"""Load and save checkpoints: original GaitGraph2, original GaitGraph v1, and ours.

Everything is read with ``torch.load(..., weights_only=True)``: tensors, containers and numbers only,
never arbitrary objects. The model variant, skeleton and branch layout are read from the weights
themselves (``A`` gives V, the input BNs give branches x channels, the module shapes give the ResGCN
structure and reduction) and checked against what the hyperparameters or the caller claim.

Formats (``docs/model.md``):

* ``gaitgraph2`` -- an original Lightning checkpoint: ``state_dict`` with ``backbone.`` names,
  ``hyper_parameters`` with ``backend_name``, ``embedding_layer_size``, ``multi_input``, ``multi_branch``, ...
* ``gaitgraph1`` -- an original GaitGraph v1 dict whose ``model`` holds the backbone state dict
  (names possibly ``module.``-prefixed by DataParallel); resgcn-n39-r8, one branch, L2-normalised.
* ``gaitgraph`` -- ours: the ``gaitgraph2`` layout plus our keys in ``hyper_parameters``
  (``skeleton``, ``sequence_length``, ``features``, ``l2_normalize``, ...).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import zipfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gaitgraph.models import RESGCN_STRUCTURES, create_model
from gaitgraph.skeleton import get_skeleton, skeleton_for_joints

SOURCE_FORMATS = ("gaitgraph2", "gaitgraph1", "gaitgraph")
DEFAULT_SEQUENCE_LENGTH = {"coco17": 60, "openpose18": 30}  # CASIA-B and OUMVLP-Pose settings
# original hyper_parameters (GaitGraph2 LightningModule __init__), with the CASIA-B config values
ORIGINAL_HPARAMS = dict(
    backend_name="resgcn-n21-r8", embedding_layer_size=128, multi_input=True, multi_branch=True, tta=True,
    learning_rate=0.005, loss_temperature=0.01,
)
ORIGINAL_LIGHTNING_VERSION = "1.6.0"


class CheckpointError(ValueError):
    """A file that is not a usable checkpoint; the message names the file and the problem."""


def check_checkpoint_file(path, role: str = "checkpoint", fix: str = "give a checkpoint file written by torch.save") -> Path:
    """Cheap check that ``path`` is a complete PyTorch file (a zip archive, as ``torch.save`` writes since
    torch 1.6) before Lightning loads it; a missing, empty or truncated file is a :class:`CheckpointError`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{role} {path}: {'is a folder' if path.is_dir() else 'no such file'}; {fix}")
    if not zipfile.is_zipfile(path):
        what = "empty" if path.stat().st_size == 0 else "truncated, or not a readable PyTorch checkpoint"
        raise CheckpointError(f"{role} {path}: {what}; {fix}")
    return path


@dataclass
class ModelSpec:
    """Everything needed to rebuild a network and feed it: the checkpoint's model arguments."""

    backbone: str
    skeleton: str
    num_branches: int = 3
    in_channels: int = 5
    embedding_dim: int = 128
    sequence_length: int = 60
    features: str = "reference"  # build_input mode
    multi_input: bool = True  # joint/velocity/bone features; False: raw (x, y, conf) (the hyperparameter's name)
    l2_normalize: bool = False  # GaitGraph v1 normalises inside the model, GaitGraph2 does not
    source_format: str = "gaitgraph"

    def create_model(self) -> nn.Module:
        return create_model(
            self.backbone, skeleton=self.skeleton, num_branches=self.num_branches, in_channels=self.in_channels,
            embedding_dim=self.embedding_dim, l2_normalize=self.l2_normalize,
        )


@dataclass
class LoadedModel:
    model: nn.Module  # in eval mode
    spec: ModelSpec

    @property
    def skeleton(self) -> str:
        return self.spec.skeleton


def read_checkpoint(path_or_dict: Any, map_location: Any = "cpu") -> tuple[dict, str]:
    """``torch.load(..., weights_only=True)`` of a checkpoint file -> (dict, name for messages).

    A dict passes through (named ``<checkpoint dict>``); anything unreadable or not a dict raises
    :class:`CheckpointError` naming the file.
    """
    if isinstance(path_or_dict, dict):
        return path_or_dict, "<checkpoint dict>"
    path = Path(path_or_dict)
    name = str(path)
    if not path.is_file():
        raise CheckpointError(f"{name}: {'a folder, not a checkpoint file' if path.is_dir() else 'no such file'}")
    try:
        # GaitGraph v1 stores its argparse options next to the weights; a Namespace is plain data
        with torch.serialization.safe_globals([argparse.Namespace]):
            ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # pickle, zip and unsupported-global errors all mean: not a checkpoint we read
        if not zipfile.is_zipfile(path):  # torch.save writes zip archives: this one is cut short or no checkpoint
            raise CheckpointError(f"{name}: truncated, or not a readable PyTorch checkpoint (no complete zip archive, "
                                  "as torch.save writes); give a checkpoint file") from None
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{name}: not a readable PyTorch checkpoint ({first})") from None
    if not isinstance(ckpt, dict):
        raise CheckpointError(f"{name}: not a checkpoint (holds a {type(ckpt).__name__}, expected a dict)")
    return ckpt, name


def _strip(state: dict, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def _split_format(ckpt: dict, name: str) -> tuple[dict, dict, str]:
    """-> (backbone state dict, hyperparameters, source format)."""
    if isinstance(ckpt.get("state_dict"), dict):
        hp = dict(ckpt.get("hyper_parameters") or {})
        state = _strip(ckpt["state_dict"], "backbone.")
        if not state:
            raise CheckpointError(f"{name}: state_dict has no 'backbone.' weights")
        ours = any(k in hp for k in ("skeleton", "sequence_length", "features"))
        return state, hp, "gaitgraph" if ours else "gaitgraph2"
    if isinstance(ckpt.get("model"), dict):
        state = ckpt["model"]
        if state and all(k.startswith("module.") for k in state):
            state = _strip(state, "module.")
        opt = ckpt.get("opt")
        hp = vars(opt) if isinstance(opt, argparse.Namespace) else dict(opt) if isinstance(opt, dict) else {}
        return state, hp, "gaitgraph1"
    raise CheckpointError(
        f"{name}: not a GaitGraph checkpoint (no 'state_dict' as in Lightning checkpoints, no 'model' as in "
        f"GaitGraph v1 ones; keys: {', '.join(map(str, list(ckpt)[:8]))})"
    )


def _count(state: dict, pattern: str) -> int:
    """Number of distinct indices ``i`` for keys matching ``pattern`` with one ``(\\d+)`` group."""
    rx = re.compile(pattern)
    return len({m.group(1) for k in state if (m := rx.match(k))})


def infer_resgcn_name(state: dict) -> str:
    """The registry name of the ResGCN variant whose weights ``state`` holds (from module shapes)."""
    s = lambda k: state[k].shape  # noqa: E731
    n_branch = _count(state, r"input_branches\.0\.layers\.(\d+)\.")
    n_main = _count(state, r"main_stream\.(\d+)\.")
    bottleneck = "main_stream.0.scn.conv_down.weight" in state
    # initial (basic) modules open each branch; all registered variants have exactly one, and a basic
    # variant's initial module cannot be told from its plain modules by shapes alone
    s0 = sum(f"input_branches.0.layers.{j}.scn.conv_down.weight" not in state for j in range(n_branch)) if bottleneck else 1
    # the second strided module of the main stream is the first with 256 output channels
    out = "scn.conv_up.weight" if bottleneck else "scn.bn.weight"
    s2 = next(j for j in range(n_main) if s(f"main_stream.{j}.{out}")[0] == 256)
    structure = (s0, n_branch - s0, s2, n_main - s2)
    for depth, known in RESGCN_STRUCTURES.items():
        if known == structure and depth.startswith("n") == bottleneck:
            if not bottleneck:
                return f"resgcn-{depth}"
            reduction = 32 // s(f"input_branches.0.layers.{n_branch - 1}.scn.conv_down.weight")[0]
            return f"resgcn-{depth}-r{reduction}"
    raise ValueError(f"no registered ResGCN variant has structure {structure} ({'bottleneck' if bottleneck else 'basic'})")


def _normalise_name(name: str) -> str:
    return "stgcn" if name in ("st-gcn", "st_gcn") else name


def spec_from_state(state: dict, hp: dict, source: str, name: str, *, backbone=None, skeleton=None,
                    sequence_length=None) -> ModelSpec:
    if "A" not in state or state["A"].dim() != 3:
        raise CheckpointError(f"{name}: no graph buffer 'A' (P, V, V) among the backbone weights")
    joints = state["A"].shape[-1]
    if skeleton is not None:
        skel = get_skeleton(skeleton)
        if skel.num_joints != joints:
            raise CheckpointError(f"{name}: skeleton {skel.name} expects {skel.num_joints} joints, checkpoint has {joints}")
    else:
        try:
            skel = get_skeleton(hp["skeleton"]) if "skeleton" in hp else skeleton_for_joints(joints)
        except ValueError as e:
            raise CheckpointError(f"{name}: {e}") from None
        if skel.num_joints != joints:
            raise CheckpointError(f"{name}: hyper_parameters say {skel.name} ({skel.num_joints} joints), weights have {joints}")

    claimed = backbone or hp.get("backend_name") or hp.get("backbone") or hp.get("network_name")
    claimed = _normalise_name(claimed) if claimed else None
    if "data_bn.weight" in state:  # our ST-GCN
        found = "stgcn"
        branches = int(hp.get("num_branches", 1))
        channels = state["data_bn.weight"].shape[0] // (joints * branches)
    elif "input_branches.0.bn.weight" in state:
        try:
            found = infer_resgcn_name(state)
        except (KeyError, StopIteration, ValueError) as e:
            raise CheckpointError(f"{name}: ResGCN weights of an unknown structure ({e})") from None
        branches = _count(state, r"input_branches\.(\d+)\.bn\.weight")
        channels = state["input_branches.0.bn.weight"].shape[0]
    else:
        raise CheckpointError(f"{name}: neither ResGCN ('input_branches.*') nor ST-GCN ('data_bn') weights")
    if claimed is not None and claimed != found:
        who = "requested" if backbone else "hyper_parameters name"
        raise CheckpointError(f"{name}: {who} {claimed}, but the weights are a {found}")
    if "fcn.weight" not in state:
        raise CheckpointError(f"{name}: missing key 'fcn.weight' (the embedding layer)")

    length = sequence_length or hp.get("sequence_length") or DEFAULT_SEQUENCE_LENGTH[skel.name]
    if source == "gaitgraph1":
        length = sequence_length or hp.get("sequence_length", 60)
    return ModelSpec(
        backbone=found, skeleton=skel.name, num_branches=branches, in_channels=channels,
        embedding_dim=state["fcn.weight"].shape[0], sequence_length=int(length),
        features=hp.get("features", "reference"),
        multi_input=branches > 1 or channels == 15,
        l2_normalize=bool(hp.get("l2_normalize", source == "gaitgraph1")),
        source_format=source,
    )


def load_model(path_or_dict, *, map_location="cpu", backbone=None, skeleton=None, sequence_length=None) -> LoadedModel:
    """Rebuild the network of a checkpoint (path or already-loaded dict) -> ``LoadedModel(model, spec)``.

    ``backbone`` / ``skeleton`` / ``sequence_length`` override or check what the checkpoint says;
    weights that do not fit raise :class:`CheckpointError`.
    """
    ckpt, name = read_checkpoint(path_or_dict, map_location)
    state, hp, source = _split_format(ckpt, name)
    spec = spec_from_state(state, hp, source, name, backbone=backbone, skeleton=skeleton, sequence_length=sequence_length)
    model = load_weights(spec.create_model(), state, name, spec.backbone)
    return LoadedModel(model.eval(), spec)


def load_weights(model: nn.Module, state: dict, name: str, what: str) -> nn.Module:
    """``model.load_state_dict(state, strict=True)`` after checking names and shapes; a mismatch raises
    :class:`CheckpointError` naming the file (``name``), the network (``what``) and the first differences."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"{name}: weights do not match {what} ({len(missing)} missing, e.g. {missing[:3]}; "
            f"{len(unexpected)} unexpected, e.g. {unexpected[:3]})"
        )
    wrong = [f"{k}: expects {tuple(v.shape)}, checkpoint has {tuple(getattr(state[k], 'shape', ()))}"
             for k, v in expected.items() if tuple(getattr(state[k], "shape", ())) != tuple(v.shape)]
    if wrong:
        raise CheckpointError(f"{name}: {len(wrong)} tensors have the wrong shape for {what}: {'; '.join(wrong[:3])}")
    model.load_state_dict(state, strict=True)
    return model


def _lightning_version() -> str:
    try:
        return version("pytorch-lightning")
    except PackageNotFoundError:
        return ORIGINAL_LIGHTNING_VERSION


def checkpoint_dict(model: nn.Module, spec: ModelSpec, extra_hparams: dict | None = None,
                    format: str = "gaitgraph") -> dict:
    """The dict ``save_checkpoint`` writes (``format``: gaitgraph, gaitgraph2 or gaitgraph1)."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    if format == "gaitgraph1":
        return {"model": state, "epoch": 0}
    hp = dict(ORIGINAL_HPARAMS, backend_name=spec.backbone, embedding_layer_size=spec.embedding_dim,
              multi_input=spec.multi_input, multi_branch=spec.num_branches > 1)
    if format == "gaitgraph":
        hp.update({k: v for k, v in dataclasses.asdict(spec).items() if k != "source_format"})
        lightning = _lightning_version()
    elif format == "gaitgraph2":
        lightning = ORIGINAL_LIGHTNING_VERSION
    else:
        raise ValueError(f"unknown checkpoint format {format!r}; known: {', '.join(SOURCE_FORMATS)}")
    hp.update(extra_hparams or {})
    return {
        "epoch": 0, "global_step": 0, "pytorch-lightning_version": lightning,
        "state_dict": {f"backbone.{k}": v for k, v in state.items()}, "hyper_parameters": hp,
    }


def save_checkpoint(path, model: nn.Module, spec: ModelSpec, extra_hparams: dict | None = None,
                    format: str = "gaitgraph") -> Path:
    """Write ``model`` as a Lightning-compatible checkpoint (ours by default; ``format="gaitgraph2"``
    writes the original GaitGraph2 layout, ``"gaitgraph1"`` the v1 ``{"model": ...}`` dict)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint_dict(model, spec, extra_hparams, format), path)
    return path
