"""Training recipes as data: ``config/methods/<method>/<dataset>.yaml`` (``docs/methods.md``).

A recipe holds the reference's model arguments, input, data and augmentation settings, sampler, losses,
optimizer, schedule and evaluation settings, each commented with the reference line it comes from.
``load_recipe`` reads and checks one; ``metric_learning`` builds the pytorch-metric-learning loss and
miner that a recipe's ``loss[i].pml`` names (checked against the references' own loss formulas in
``tests/test_method_recipes.py``).
"""

from __future__ import annotations

from pathlib import Path

import yaml

REQUIRED = ("method", "dataset", "reference", "model", "input", "data", "augment", "sampler", "loss", "optimizer",
            "schedule", "training", "evaluation")


def load_recipe(path: str | Path) -> dict:
    """Read a recipe YAML; a missing section or a sampler whose batch is not P x K raises ``ValueError``."""
    path = Path(path)
    try:
        recipe = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise ValueError(f"{path}: cannot read the recipe ({str(e).splitlines()[0]})") from None
    if not isinstance(recipe, dict):
        raise ValueError(f"{path}: a recipe is a mapping, got {type(recipe).__name__}")
    missing = [k for k in REQUIRED if k not in recipe]
    if missing:
        raise ValueError(f"{path}: missing recipe sections: {', '.join(missing)}")
    sampler = recipe["sampler"]
    if sampler.get("type") == "pk" and sampler["identities"] * sampler["per_identity"] != sampler["batch_size"]:
        raise ValueError(f"{path}: sampler batch_size {sampler['batch_size']} is not identities x per_identity")
    if recipe["model"].get("name") != recipe["method"]:
        raise ValueError(f"{path}: model.name {recipe['model'].get('name')!r} is not the method {recipe['method']!r}")
    return recipe


def _build(module, spec: dict | None, **extra):
    if spec is None:
        return None
    try:
        cls = getattr(module, spec["class"])
    except (KeyError, AttributeError):
        raise ValueError(f"unknown {module.__name__} class in {spec!r}") from None
    return cls(**dict(spec.get("args") or {}), **extra)


def metric_learning(loss_spec: dict) -> tuple:
    """``(loss, miner or None)`` from a recipe loss entry's ``pml`` block (pytorch-metric-learning objects).

    A ``distance`` block is given to the loss and to the miner alike.
    """
    from pytorch_metric_learning import distances, losses, miners

    pml = loss_spec.get("pml")
    if not isinstance(pml, dict) or "loss" not in pml:
        raise ValueError(f"loss {loss_spec.get('name')!r} has no pml block naming a pytorch-metric-learning loss")
    extra = {}
    if "distance" in pml:
        extra["distance"] = _build(distances, pml["distance"])
    loss = _build(losses, pml["loss"], **extra)
    if "distance" in pml:
        extra["distance"] = _build(distances, pml["distance"])  # a miner gets its own instance
    miner = _build(miners, pml.get("miner"), **extra)
    return loss, miner
