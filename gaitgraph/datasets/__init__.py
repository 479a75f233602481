"""Datasets as data: one module per dataset declares everything the rest of the code needs to know about
it (``spec.DatasetSpec``: files and readers, keypoint sources and skeletons, split, views, conditions,
evaluation conventions, synthetic twin, published numbers), registered here by name.

    get_dataset("casia-b").views            list_datasets()            all_published(dataset="gait3d")

Adding a dataset: one module here (its ``SPEC``), its import and ``register`` line below, a block in
the workflow config, tests. Modules are imported explicitly (no discovery), so a broken one fails
loudly and two modules cannot silently claim one name.
"""

from __future__ import annotations

from gaitgraph.datasets import casia_b, custom, gait3d, grew, oumvlp_pose
from gaitgraph.datasets.spec import DatasetSpec, Published

_DATASETS: dict[str, DatasetSpec] = {}
ALIASES = {"oumvlp": "oumvlp-pose", "casia_b": "casia-b"}


def register_dataset(spec: DatasetSpec) -> None:
    if spec.name in _DATASETS:
        raise ValueError(f"dataset {spec.name!r} is registered twice")
    _DATASETS[spec.name] = spec


for _module in (casia_b, oumvlp_pose, gait3d, grew, custom):
    register_dataset(_module.SPEC)


def list_datasets(*, with_protocol: bool = False) -> list[str]:
    """Registered names in registration order; ``with_protocol``: only datasets that can be evaluated."""
    return [n for n, s in _DATASETS.items() if s.conventions or not with_protocol]


def get_dataset(name: str) -> DatasetSpec:
    """The spec of a registered dataset (``ValueError`` listing the known ones otherwise)."""
    key = ALIASES.get(str(name).lower(), str(name).lower())
    if key not in _DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(_DATASETS)}")
    return _DATASETS[key]


def dataset_title(name: str) -> str:
    """The dataset's display title ("CASIA-B"), or the name itself when it is not registered."""
    try:
        return get_dataset(name).title
    except ValueError:
        return str(name)


def all_published(dataset: str | None = None, keypoints: str | None = None,
                  convention: str | None = None) -> list[Published]:
    """Published entries of the registered datasets matching every given field (``None`` matches anything)."""
    specs = [get_dataset(dataset)] if dataset is not None else list(_DATASETS.values())
    return [p for s in specs for p in s.published
            if (keypoints is None or p.keypoints == keypoints) and (convention is None or p.convention == convention)]


__all__ = ["DatasetSpec", "Published", "all_published", "dataset_title", "get_dataset", "list_datasets",
           "register_dataset"]
