"""Models built by name: one registry dict, filled explicitly (timm ``_registry.py`` style).

``create_model(name, **overrides)`` is the only constructor the rest of the package calls.
Every builder receives the common arguments ``skeleton``, ``num_branches``, ``in_channels`` and
``embedding_dim``; a network whose input is fixed by its design (e.g. GPGait: COCO-17, 3 branches x 2
channels) registers its own defaults for them and raises ``ValueError`` for values it cannot take.
"""

from __future__ import annotations

from typing import Callable

from torch import nn

COMMON_DEFAULTS = dict(skeleton="coco17", num_branches=3, in_channels=5, embedding_dim=128)
_MODELS: dict[str, tuple[Callable[..., nn.Module], dict]] = {}


def register_model(name: str, builder: Callable[..., nn.Module], **defaults) -> None:
    """Register ``builder`` under ``name``; ``defaults`` replace :data:`COMMON_DEFAULTS` for this model."""
    if name in _MODELS:
        raise ValueError(f"model {name!r} is registered twice")
    unknown = set(defaults) - set(COMMON_DEFAULTS)
    if unknown:
        known = ", ".join(COMMON_DEFAULTS)
        raise ValueError(f"model {name!r}: defaults only for {known}, got {', '.join(sorted(unknown))}")
    _MODELS[name] = (builder, defaults)


def list_models() -> list[str]:
    return sorted(_MODELS)


def create_model(
    name: str, *, skeleton=None, num_branches: int | None = None, in_channels: int | None = None,
    embedding_dim: int | None = None, **kwargs
) -> nn.Module:
    """Build a registered network; it maps (N, I, C, T, V) to its embedding ((N, embedding_dim) for ResGCN).

    Arguments left at ``None`` (the common ones and ``kwargs``) take the model's defaults: for the common
    ones those it was registered with, else :data:`COMMON_DEFAULTS`.
    """
    if name not in _MODELS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(list_models())}")
    builder, defaults = _MODELS[name]
    given = dict(skeleton=skeleton, num_branches=num_branches, in_channels=in_channels, embedding_dim=embedding_dim)
    common = {**COMMON_DEFAULTS, **defaults, **{k: v for k, v in given.items() if v is not None}}
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    return builder(**common, **kwargs)
