"""Training recipes shipped with the package: LightningCLI configs named ``<method>/<name>``.

    gaitgraph fit --recipe gaitgraph2/casia-b --data.data_path DATA --trainer.default_root_dir RUN
    gaitgraph fit --recipe gaitgraph2/oumvlp-pose --recipe gaitgraph2/validate-on-test ...

A full recipe (``gaitgraph2/casia-b``, ``gaitgraph2/oumvlp-pose``, ``gaitgraph1/casia-b``) is a paper's
configuration and names its method (``method:``); an overlay (``gaitgraph2/validate-on-test``,
``gaitgraph2/draw``, ``gaitgraph2/ablation/*``, ``gaitgraph1/casia-b-finetune``) changes a few keys and is
layered after one, as repeated ``--config`` files are. ``--recipe NAME`` is ``--config`` with the packaged
file; the files are plain YAML, to copy and edit. A method's default recipe per dataset is in its
``MethodSpec.recipes`` (``gaitgraph.methods``).
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent


class RecipeError(ValueError):
    """An unknown recipe name; the message lists the known ones."""


def list_recipes() -> list[str]:
    """Every packaged recipe name, sorted (``gaitgraph1/casia-b``, ..., ``gaitgraph2/ablation/base``, ...)."""
    return sorted(p.relative_to(ROOT).with_suffix("").as_posix() for p in ROOT.rglob("*.yaml"))


def recipe_path(name: str) -> Path:
    """The file of the packaged recipe ``name`` (``<method>/<name>``, without ``.yaml``)."""
    key = str(name).removesuffix(".yaml").strip("/")
    path = ROOT / f"{key}.yaml"
    if ".." in Path(key).parts or not path.is_file():
        raise RecipeError(f"unknown recipe {name!r}; known: {', '.join(list_recipes())} "
                          "(or give a YAML file of your own with --config)")
    return path


def resolve_recipe(name_or_file) -> Path:
    """A recipe given by packaged name or as a YAML file of one's own (a path that exists)."""
    path = Path(name_or_file)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path
    return recipe_path(str(name_or_file))


def recipe_method(name_or_file) -> str | None:
    """The ``method:`` a full recipe names (None for an overlay)."""
    import yaml

    doc = yaml.safe_load(resolve_recipe(name_or_file).read_text())
    return doc.get("method") if isinstance(doc, dict) else None
