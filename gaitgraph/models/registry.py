"""Models built by name: one registry dict, filled explicitly (timm ``_registry.py`` style).

``create_model(name, **overrides)`` is the only constructor the rest of the package calls.
"""

from __future__ import annotations

from typing import Callable

from torch import nn

_MODELS: dict[str, Callable[..., nn.Module]] = {}


def register_model(name: str, builder: Callable[..., nn.Module]) -> None:
    if name in _MODELS:
        raise ValueError(f"model {name!r} is registered twice")
    _MODELS[name] = builder


def list_models() -> list[str]:
    return sorted(_MODELS)


def create_model(
    name: str, *, skeleton="coco17", num_branches: int = 3, in_channels: int = 5, embedding_dim: int = 128, **kwargs
) -> nn.Module:
    """Build a registered network; it maps (N, I, C, T, V) to (N, embedding_dim).

    ``kwargs`` set to ``None`` are dropped so that the model's defaults hold.
    """
    if name not in _MODELS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(list_models())}")
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    return _MODELS[name](
        skeleton=skeleton, num_branches=num_branches, in_channels=in_channels, embedding_dim=embedding_dim, **kwargs
    )
