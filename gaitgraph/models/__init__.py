"""Backbones built by name: ``create_model("resgcn-n21-r8", skeleton="coco17")``, ``list_models()``.

Variants are data. ResGCN ``nXX`` (bottleneck) and ``bXX`` (basic) give the number of modules per
stage ``structure = (s0, s1, s2, s3)`` (ResGCNv1, ``gaitgraph2.md`` §4); ``rN`` the bottleneck
reduction. GaitGraph2 uses ``resgcn-n21-r8`` (CASIA-B) and ``resgcn-n51-r4`` (OUMVLP-Pose),
GaitGraph v1 ``resgcn-n39-r8``; ``stgcn`` is the ST-GCN ablation backbone. ``gaittr`` (FastPoseGait's
GaitTR, one stream of 10 channels) and ``gaitmixer`` (exitudio/GaitMixer, one stream of (x, y), exactly 60
frames) register their own defaults for the common arguments (``model_defaults(name)``). ``gpgait`` is GPGait as in
FastPoseGait (COCO-17 only, 3 branches x 2 channels, part embeddings (N, 256, 19); ``gpgait.py``).
"""

from functools import partial

from gaitgraph.models.gaitmixer import GaitMixer
from gaitgraph.models.gaittr import GaitTR
from gaitgraph.models.gpgait import GPGait
from gaitgraph.models.registry import create_model, list_models, model_defaults, register_model
from gaitgraph.models.resgcn import ResGCN
from gaitgraph.models.stgcn import STGCN

RESGCN_STRUCTURES = {
    "n21": (1, 1, 1, 1),
    "n39": (1, 2, 2, 2),
    "n51": (1, 2, 3, 3),
    "n57": (1, 3, 4, 3),
    "n75": (1, 3, 6, 4),
    "b15": (1, 2, 2, 2),
    "b19": (1, 2, 3, 3),
    "b23": (1, 3, 4, 3),
    "b29": (1, 3, 6, 4),
}
REDUCTIONS = (2, 4, 8)

for _depth, _structure in RESGCN_STRUCTURES.items():
    if _depth.startswith("n"):
        for _r in REDUCTIONS:
            register_model(f"resgcn-{_depth}-r{_r}", partial(ResGCN, _structure, "bottleneck", _r))
    else:
        register_model(f"resgcn-{_depth}", partial(ResGCN, _structure, "basic", 1))
register_model("stgcn", STGCN)
register_model("gaittr", GaitTR, num_branches=1, in_channels=10)
register_model("gaitmixer", GaitMixer, num_branches=1, in_channels=2)
register_model("gpgait", GPGait, in_channels=2, embedding_dim=256)


def parse_resgcn_name(name: str) -> tuple[tuple[int, ...], str, int]:
    """``"resgcn-n51-r4"`` -> (structure, block, reduction); ``ValueError`` for other names."""
    parts = name.split("-")
    if len(parts) < 2 or parts[0] != "resgcn" or parts[1] not in RESGCN_STRUCTURES:
        raise ValueError(f"{name!r} is not a ResGCN variant")
    reduction = int(parts[2][1:]) if len(parts) > 2 else 1
    block = "bottleneck" if parts[1].startswith("n") else "basic"
    return RESGCN_STRUCTURES[parts[1]], block, reduction


__all__ = [
    "create_model", "list_models", "model_defaults", "register_model", "parse_resgcn_name",
    "ResGCN", "STGCN", "GaitTR", "GaitMixer", "GPGait",
]
