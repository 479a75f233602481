"""GPGait as a method: FastPoseGait checkpoints in, the reference's test-time embeddings out.

FastPoseGait (BNU-IVC/FastPoseGait @ 94da9c8) saves ``{model, optimizer, scheduler, iteration}``
(``BaseModel.save_ckpt``); ``model`` is the network's state dict (``gaitgraph.models.gpgait``). Our
checkpoints (``gaitgraph fit``, ``gaitgraph.training.gpgait``) hold the same names under ``backbone.`` and
their Affine mode and skeleton in the hyper-parameters. Its test pipeline (``evaluator_cfg`` of
``configs/gpgait/*.yaml``): per frame [Affine] -> RescaleCenter -> HOD -> the network in eval mode -> the
BNNeck part features, (N, 256, 19), compared by the Euclidean distance per part averaged over the parts
(``metric: euc``). Which configs use Affine is data (:data:`DATASET_CONFIGS`); the checkpoint's class
count names the dataset it was trained on. Sequences in another layout than COCO-17 (OUMVLP-Pose's
OpenPose-18: ``skeleton``) are reordered to COCO-17 by joint name (``gaitgraph.skeleton.joint_order``).

The reference runs one sequence per GPU at test time (batch 4 on 4 GPUs); :func:`embed` gives exactly
those embeddings however many sequences it batches (equal lengths are stacked, never concatenated). With
``concatenate=True`` it reproduces what the reference does with several sequences per GPU instead:
they are concatenated in time into one forward, and the attention mixes them (``docs/methods.md``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from gaitgraph.methods.spec import MethodSpec
from gaitgraph.skeleton import get_skeleton, joint_order

if TYPE_CHECKING:
    from torch import nn
# torch and the network are imported where they are used: the registry reads SPEC without them (workflow parsing)

NAME = "gpgait"
TITLE = "GPGait"
CITATION = """@inproceedings{fu2023gpgait,
  title     = {{GPGait}: Generalized Pose-based Gait Recognition},
  author    = {Fu, Yang and Meng, Shibei and Hou, Saihui and Hu, Xuecai and Huang, Yongzhen},
  booktitle = {Proceedings of the IEEE/CVF International Conference on Computer Vision (ICCV)},
  pages     = {19595--19604},
  year      = {2023}
}"""

# FastPoseGait's GPGait configs: model_cfg.num_class and whether the test transform starts with Affine
DATASET_CONFIGS = {
    "casia-b": dict(config="configs/gpgait/gpgait.yaml", num_classes=74, affine=False),
    "oumvlp": dict(config="configs/gpgait/gpgait_OUMVLP.yaml", num_classes=5153, affine=False),
    "sustech1k": dict(config="configs/gpgait/gpgait_SUSTech1K.yaml", num_classes=250, affine=False),
    "ccpg": dict(config="configs/gpgait/gpgait_CCPG.yaml", num_classes=100, affine=True),
    "grew": dict(config="configs/gpgait/gpgait_GREW.yaml", num_classes=20000, affine=True),
    "gait3d": dict(config="configs/gpgait/gpgait_Gait3D.yaml", num_classes=3000, affine=True),
}


def _signature() -> dict[str, tuple]:
    """The keys every GPGait state dict has, with the shape dims that identify it (None: any)."""
    from gaitgraph.models.gpgait import NUM_PARTS

    return {
        "head.fc_bin": (NUM_PARTS, None, None),
        "BNNecks.fc_bin": (NUM_PARTS, None, None),
        "pose.data_bn.weight": (2 * 17,),
        "bone.data_bn.weight": (2 * 17,),
        "angle.data_bn.weight": (1 * 12,),
    }


@dataclass
class LoadedGPGait:
    model: nn.Module  # in eval mode
    dataset: str | None  # the FastPoseGait config the class count names (None: not one of them)
    affine: str | None  # None, "reference" or "corrected": the Affine step of the test transform
    network: dict = field(default_factory=dict)  # create_model("gpgait", **network)
    iteration: int | None = None
    source: str = "<checkpoint dict>"
    skeleton: str = "coco17"  # layout of the raw sequences; reordered to COCO-17 (GPGait's graphs, parts, angles)


def _weights(ckpt: Any) -> dict | None:
    from gaitgraph.methods.common import lightning_weights

    ours = lightning_weights(ckpt, NAME)
    return ours[0] if ours else ckpt.get("model") if isinstance(ckpt, dict) else None


def is_checkpoint(ckpt: Any) -> bool:
    """Whether ``ckpt`` (a loaded dict) is a FastPoseGait GPGait checkpoint or one of ours: GPGait's keys and shapes."""
    state = _weights(ckpt)
    if not isinstance(state, dict):
        return False
    for key, dims in _signature().items():
        shape = tuple(getattr(state.get(key), "shape", (-1,)))
        if len(shape) != len(dims) or any(d is not None and d != s for d, s in zip(dims, shape)):
            return False
    return True


def network_args(state: dict) -> dict:
    """The ``create_model("gpgait", ...)`` arguments that fit a GPGait state dict (from its shapes)."""
    from gaitgraph.checkpoints import _count

    share = _count(state, r"pose\.layer_share\.(\d+)\.asg\.PA")
    stack = _count(state, r"pose\.backbone\.(\d+)\.asg\.PA")
    blocks = [f"layer_share.{i}" for i in range(share)] + [f"backbone.{i}" for i in range(stack)]
    outs = [state[f"pose.{b}.asg.conv_d.0.weight"].shape[0] for b in blocks]
    first = state["pose.layer_share.0.asg.conv_d.0.weight"].shape[1]
    return dict(channels=(first, *outs), share_num=share, embedding_dim=state["head.fc_bin"].shape[2],
                num_classes=state["BNNecks.fc_bin"].shape[2])


def load_checkpoint(path_or_dict, map_location="cpu", *, dataset: str | None = None,
                    affine: str | None = "auto", skeleton: str | None = None) -> LoadedGPGait:
    """A FastPoseGait GPGait checkpoint or one of ours (path or loaded dict) -> :class:`LoadedGPGait` (network in
    eval mode).

    ``dataset`` (a :data:`DATASET_CONFIGS` key) picks the test transform; by default the class count
    names it (74 -> casia-b, ...), and an unknown count means no Affine. ``affine`` overrides it: None,
    ``"reference"`` (the reference's step, bug included) or ``"corrected"``; ``"auto"`` follows the dataset,
    or for our checkpoints the mode they were trained with. ``skeleton``: the layout of the sequences to embed
    (default our checkpoint's, else COCO-17).
    """
    from gaitgraph.checkpoints import CheckpointError, load_weights, read_checkpoint
    from gaitgraph.methods.common import lightning_weights
    from gaitgraph.models import create_model
    from gaitgraph.transforms.hod import AFFINE_MODES

    ckpt, name = read_checkpoint(path_or_dict, map_location)
    if not is_checkpoint(ckpt):
        keys = ", ".join(map(str, list(ckpt)[:6]))
        raise CheckpointError(f"{name}: not a FastPoseGait GPGait checkpoint (needs 'model' with {', '.join(_signature())}; "
                              f"top-level keys: {keys})")
    state = _weights(ckpt)
    ours = lightning_weights(ckpt, NAME)
    hp = ours[1] if ours else {}
    skeleton = get_skeleton(skeleton or hp.get("skeleton", "coco17")).name
    joint_order(skeleton, "coco17")  # a layout without COCO-17's joints is refused here
    try:
        args = network_args(state)
        model = create_model(NAME, **args)
    except (KeyError, ValueError) as e:
        raise CheckpointError(f"{name}: GPGait weights of an unknown layout ({e})") from None
    load_weights(model, state, name, "gpgait")
    if dataset is None:
        dataset = next((k for k, c in DATASET_CONFIGS.items() if c["num_classes"] == args["num_classes"]), None)
    elif dataset not in DATASET_CONFIGS:
        raise ValueError(f"unknown dataset {dataset!r}; known: {', '.join(DATASET_CONFIGS)}")
    if affine == "auto" and ours:
        affine = hp.get("affine")
    if affine == "auto":
        affine = "reference" if dataset and DATASET_CONFIGS[dataset]["affine"] else None
    elif affine is not None and affine not in AFFINE_MODES:
        raise ValueError(f"affine must be None, 'auto' or one of {', '.join(AFFINE_MODES)}, got {affine!r}")
    iteration = ckpt.get("iteration", ckpt.get("global_step"))
    return LoadedGPGait(model.eval(), dataset, affine, args, int(iteration) if isinstance(iteration, int) else None, name,
                        skeleton)


def embed(loaded, raw_sequences: Sequence, *, batch_size: int = 64, device=None,
          concatenate: bool = False) -> np.ndarray:
    """Raw sequences (T, V, 3: pixel x, y, confidence; COCO-17, or ``loaded.skeleton``) -> (N, 256, 19) float32
    embeddings.

    ``loaded``: a :class:`LoadedGPGait`, or a path / dict for :func:`load_checkpoint`. Every embedding is
    the one the reference gives for that sequence alone; ``concatenate=True`` instead runs ``batch_size``
    sequences per forward the reference's way (concatenated in time, the last group filled up with the
    first sequences, as its sampler does), so they influence each other.
    """
    import torch

    from gaitgraph.inference import check_sequences
    from gaitgraph.models.gpgait import NUM_PARTS
    from gaitgraph.transforms.hod import gpgait_input

    if not isinstance(loaded, LoadedGPGait):
        loaded = load_checkpoint(loaded)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    model = loaded.model if device is None else loaded.model.to(device)
    device = next(model.parameters()).device
    model.eval()
    order = list(joint_order(loaded.skeleton, "coco17"))
    inputs = [gpgait_input(s[:, order], loaded.affine)
              for s in check_sequences(raw_sequences, loaded.skeleton, keep_float64=True)]
    out = np.empty((len(inputs), loaded.network["embedding_dim"], NUM_PARTS), dtype=np.float32)
    with torch.inference_mode():
        if concatenate:
            order = list(range(len(inputs)))
            for s in range(0, len(order), batch_size):
                real = order[s:s + batch_size]
                group = real + order[:batch_size - len(real)]  # the sampler's filling of the last group
                x = torch.cat([inputs[i] for i in group], dim=1)[None].to(device)  # (1, 6, sum T, 17)
                emb = model(x, lengths=[inputs[i].shape[1] for i in group]).float().cpu().numpy()
                out[real] = emb[:len(real)]
        else:
            by_length = defaultdict(list)
            for i, x in enumerate(inputs):
                by_length[x.shape[1]].append(i)
            for idx in by_length.values():
                for s in range(0, len(idx), batch_size):
                    part = idx[s:s + batch_size]
                    out[part] = model(torch.stack([inputs[i] for i in part]).to(device)).float().cpu().numpy()
    return out


SPEC = MethodSpec(
    name=NAME,
    title=TITLE,
    citation=CITATION,
    network="GPGait (gaitgraph.models.gpgait): three part-aware GCN branches on Human-Oriented Descriptors",
    features="gaitgraph.transforms.hod.gpgait_input",
    loss="gaitgraph.training.part_losses.GPGaitLoss",
    checkpoints="gaitgraph.methods.gpgait",
    module="gaitgraph.training.gpgait.GPGait",
    datamodule="gaitgraph.training.pk_datamodule.PKDataModule",
    data_defaults={"identities": 4, "per_identity": 32, "frames": "unordered", "min_length": 1},
    recipes={"casia-b": "gpgait/casia-b", "oumvlp-pose": "gpgait/oumvlp-pose"},
    metric="euc",
)
