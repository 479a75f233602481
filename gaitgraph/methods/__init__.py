"""Methods as data: one module per method declares how it trains and how it embeds (``spec.MethodSpec``),
registered here by name.

    get_method("gaitgraph2").recipes       list_methods()       method_of(torch.load(ckpt))

Modules (imported on first use, so that listing the names costs nothing): ``gaitgraph2``, ``gaitgraph1``
(GaitGraph v1), ``gaittr``, ``gaitmixer``, ``gpgait``. Each method module has the same test-side interface
(``docs/methods.md``): ``NAME``, ``TITLE``, ``CITATION``; ``is_checkpoint(ckpt: dict) -> bool`` (recognises
its format from keys and shapes); ``load_checkpoint(path_or_dict, map_location="cpu")``; ``embed(loaded,
raw_sequences, *, batch_size=..., device=None, ...)`` with the reference's own test pipeline. A sequence that
the reference's protocol drops (GaitMixer: too short) gives a row of NaN (``common.dropped_rows``).
``gaitgraph.methods.common`` holds what the peers share. Training recipes are LightningCLI configs in
``gaitgraph/recipes/<method>/`` (``MethodSpec.recipes``). Adding a method: its module, one line below, its
LightningModule (``gaitgraph/training/``), its recipes, tests (``docs/training.md``).
"""

from __future__ import annotations

import importlib

from gaitgraph.methods.spec import MethodSpec

# name -> module; detection order of `method_of` (distinctive formats first, GaitGraph2 last)
_MODULES = {
    "gaittr": "gaitgraph.methods.gaittr",
    "gaitmixer": "gaitgraph.methods.gaitmixer",
    "gpgait": "gaitgraph.methods.gpgait",
    "gaitgraph1": "gaitgraph.methods.gaitgraph1",
    "gaitgraph2": "gaitgraph.methods.gaitgraph2",
}
ALIASES = {"gaitgraph": "gaitgraph1", "gaitgraph-v1": "gaitgraph1"}
DEFAULT = "gaitgraph2"


def list_methods() -> list[str]:
    """Registered method names (no module is imported)."""
    return list(_MODULES)


def get_method(name: str) -> MethodSpec:
    """The spec of a registered method (``ValueError`` listing the known ones otherwise)."""
    key = ALIASES.get(str(name).lower(), str(name).lower())
    if key not in _MODULES:
        raise ValueError(f"unknown method {name!r}; known: {', '.join(_MODULES)}")
    spec = importlib.import_module(_MODULES[key]).SPEC
    if spec.name != key:
        raise ValueError(f"{_MODULES[key]} declares method {spec.name!r}, registered as {key!r}")
    return spec


def method_of(ckpt: dict, name: str = "<checkpoint dict>") -> MethodSpec:
    """The method whose checkpoint format ``ckpt`` (a loaded dict) is; ``ValueError`` when none recognises it."""
    tagged = ckpt.get("gaitgraph_method") if isinstance(ckpt, dict) else None
    if isinstance(tagged, str) and tagged in _MODULES:
        return get_method(tagged)
    for key in _MODULES:
        spec = get_method(key)
        if spec.test_side().is_checkpoint(ckpt):
            return spec
    keys = ", ".join(map(str, list(ckpt)[:8])) if isinstance(ckpt, dict) else type(ckpt).__name__
    raise ValueError(f"{name}: not a checkpoint of any known method ({', '.join(_MODULES)}); its keys: {keys}")


__all__ = ["DEFAULT", "MethodSpec", "get_method", "list_methods", "method_of"]
