"""Models built by name: one registry dict, filled explicitly (timm ``_registry.py`` style).

``create_model(name, **overrides)`` is the only constructor the rest of the package calls. Every builder
receives the common keyword arguments ``skeleton``, ``num_branches``, ``in_channels`` and
``embedding_dim``; a network that needs other values than the registry-wide defaults (ResGCN's
coco17, 3 branches x 5 channels, 128-d) registers its own defaults with ``register_model(...,
num_branches=1, in_channels=10)`` and checks what it is given (``ValueError`` when it does not fit).
"""

from __future__ import annotations

from typing import Callable

from torch import nn

COMMON_DEFAULTS = dict(skeleton="coco17", num_branches=3, in_channels=5, embedding_dim=128)

_MODELS: dict[str, Callable[..., nn.Module]] = {}
_DEFAULTS: dict[str, dict] = {}


def register_model(name: str, builder: Callable[..., nn.Module], **defaults) -> None:
    """Register ``builder`` under ``name``; ``defaults`` override :data:`COMMON_DEFAULTS` for it."""
    if name in _MODELS:
        raise ValueError(f"model {name!r} is registered twice")
    unknown = set(defaults) - set(COMMON_DEFAULTS)
    if unknown:
        raise ValueError(f"model {name!r}: defaults only for {', '.join(COMMON_DEFAULTS)}, got {', '.join(sorted(unknown))}")
    _MODELS[name] = builder
    _DEFAULTS[name] = {**COMMON_DEFAULTS, **defaults}


def list_models() -> list[str]:
    return sorted(_MODELS)


def model_defaults(name: str) -> dict:
    """The common keyword arguments ``create_model(name)`` uses when none are given."""
    _check_name(name)
    return dict(_DEFAULTS[name])


def _check_name(name: str) -> None:
    if name not in _MODELS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(list_models())}")


def create_model(
    name: str, *, skeleton=None, num_branches: int | None = None, in_channels: int | None = None,
    embedding_dim: int | None = None, **kwargs
) -> nn.Module:
    """Build a registered network; it maps (N, I, C, T, V) to (N, embedding_dim).

    Common arguments left out (or ``None``) take the model's registered defaults
    (:func:`model_defaults`); other ``kwargs`` set to ``None`` are dropped so that the model's own
    defaults hold.
    """
    _check_name(name)
    given = dict(skeleton=skeleton, num_branches=num_branches, in_channels=in_channels, embedding_dim=embedding_dim)
    common = {k: (v if v is not None else _DEFAULTS[name][k]) for k, v in given.items()}
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    return _MODELS[name](**common, **kwargs)
