"""The ablation study's definition (``docs/ablation.md``): trainings (recipe overlays), rows, config merging,
and the settings of each training. No paths: the workflow (``rules/ablation.smk``) places the files. Light on
purpose (PyYAML only): the workflow imports it while Snakemake parses.

* **Trainings** (:data:`TRAININGS`): a base recipe (the dataset's, ``gaitgraph2/oumvlp-pose`` in the
  original study) plus packaged overlays (``gaitgraph2/ablation/*``), applied in order as LightningCLI
  applies repeated ``--config`` (mappings merged key by key, everything else replaced):
  :func:`merge_configs`. One training per seed.
* **Rows** (:data:`ROWS`): a training evaluated with or without TTA and with or without frames
  shuffled at test time. "+ TTA (full)" is the "+ augmentation" model evaluated with TTA; the temporal
  "shuffled test" rows reuse the ordered / train-shuffled models. "single branch" is the original's
  ``configs/single_branch.yaml`` (one raw branch, augmentation on, no TTA), the ResGCN counterpart of
  the ST-GCN row.

Evaluation of a row: :mod:`gaitgraph.ablation.rows`; the table: :mod:`gaitgraph.ablation.table`; the figure:
:mod:`gaitgraph.viz.ablation_figure`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import yaml

from gaitgraph.outputs import write_text
from gaitgraph.recipes import recipe_path, resolve_recipe

BASE_ROW = "base"
FULL_ROW = "full"


@dataclass(frozen=True)
class Training:
    """One trained configuration: recipe overlays on the base recipe; ``normalization`` ``"other"``
    trains on the dataset normalized with the mode the workflow does NOT use by default."""

    name: str
    overlays: tuple[str, ...]
    normalization: str = "default"


@dataclass(frozen=True)
class Row:
    name: str
    label: str
    group: str
    training: str
    tta: bool = False
    test_shuffle: bool = False


_OVERLAY = "gaitgraph2/ablation/"  # the packaged overlays (gaitgraph/recipes/gaitgraph2/ablation/)

TRAININGS = {t.name: t for t in [
    Training("base", (_OVERLAY + "base",)),
    Training("multi_branch", (_OVERLAY + "base", _OVERLAY + "multi_branch")),
    Training("augmentation", (_OVERLAY + "augmentation",)),
    Training("single_branch", (_OVERLAY + "single_branch",)),  # the original configs/single_branch.yaml
    Training("stgcn", (_OVERLAY + "stgcn",)),
    Training("temp_base", (_OVERLAY + "temp_base",)),
    Training("temp_shuffle", (_OVERLAY + "temp_base", _OVERLAY + "temp_shuffle")),
    Training("corrected", (_OVERLAY + "augmentation", _OVERLAY + "features_corrected")),
    Training("normalization", (_OVERLAY + "augmentation",), normalization="other"),
]}

ROWS = [
    Row("base", "base: single branch, no augmentation, no TTA", "ladder", "base"),
    Row("multi_branch", "+ multi-branch input", "ladder", "multi_branch"),
    Row("augmentation", "+ augmentation", "ladder", "augmentation"),
    Row("full", "+ TTA (full model)", "ladder", "augmentation", tta=True),
    Row("single_branch", "single branch: ResGCN on raw x, y, conf (augmentation, no TTA)", "backbone", "single_branch"),
    Row("stgcn", "ST-GCN backbone (single branch, augmentation, no TTA)", "backbone", "stgcn"),
    Row("temporal_ordered", "temporal: ordered frames (single branch, no TTA)", "temporal", "temp_base"),
    Row("temporal_shuffle_train", "temporal: frames shuffled in training", "temporal", "temp_shuffle"),
    Row("temporal_shuffle_test", "temporal: frames shuffled at test", "temporal", "temp_base", test_shuffle=True),
    Row("temporal_shuffle_both", "temporal: shuffled in training and at test", "temporal", "temp_shuffle",
        test_shuffle=True),
    Row("features_corrected", "input features: corrected (full model; full = reference)", "ours", "corrected",
        tta=True),
    Row("normalization", "normalization: {other} (full model; full = {default})", "ours", "normalization", tta=True),
]
ROW_BY_NAME = {r.name: r for r in ROWS}
GROUP_TITLES = {"ladder": "GaitGraph2 components", "backbone": "single branch: ResGCN vs ST-GCN", "temporal": "temporal modelling",
                "ours": "ours: input features and normalization"}


def other_normalization(default: str) -> str:
    """The normalization mode of the ``normalization`` row: the one the workflow does not use."""
    return "none" if default == "center-scale" else "center-scale"


def row_label(row: Row, default_normalization: str = "none") -> str:
    return row.label.format(other=other_normalization(default_normalization), default=default_normalization)


# ---------------------------------------------------------------- configs


def _merge(base, over):
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = _merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    return copy.deepcopy(over)


def merge_configs(recipes, extra: dict | None = None) -> dict:
    """Load the recipes (packaged names or YAML files) in order and merge them (later wins, mappings key by
    key, lists replaced whole: LightningCLI's repeated ``--config``), then ``extra`` on top."""
    merged: dict = {}
    for p in recipes:
        doc = yaml.safe_load(resolve_recipe(p).read_text()) or {}
        if not isinstance(doc, dict):
            raise ValueError(f"{p}: a training config must be a mapping")
        merged = _merge(merged, doc)
    return _merge(merged, extra or {})


def write_merged_config(recipes, out, extra: dict | None = None) -> Path:
    """:func:`merge_configs` written as YAML to ``out`` (the recipes named in a header comment)."""
    header = "".join(f"# merged from {p}\n" for p in recipes) + ("# plus workflow settings\n" if extra else "")
    return write_text(out, header + yaml.safe_dump(merge_configs(recipes, extra), sort_keys=False))


def overlay_sets(paths, section: str, key: str) -> bool:
    """Whether any of the overlay files sets ``section.key``."""
    for p in paths:
        doc = yaml.safe_load(Path(p).read_text()) or {}
        if key in (doc.get(section) or {}):
            return True
    return False


# ---------------------------------------------------------------- settings of the workflow's steps


def select_rows(names=None) -> list[Row]:
    """The rows named (every row for None), in table order; an unknown name is a ``ValueError``."""
    unknown = sorted(set(names or ()) - set(ROW_BY_NAME))
    if unknown:
        raise ValueError(f"unknown ablation rows {unknown}; known: {sorted(ROW_BY_NAME)}")
    return [r for r in ROWS if names is None or r.name in names]


def training_recipes(training: str, base_recipe: str) -> list[str]:
    """The recipes (names or files) a training merges, in order: the base, then the training's overlays."""
    return [base_recipe, *TRAININGS[training].overlays]


def training_settings(train: dict, overrides: dict | None, training: str) -> dict:
    """A dataset's workflow ``train`` settings (``gaitgraph.training.runs.FIT_ARGUMENTS``; the recipe left
    out), then the study's ``overrides``; no backbone where an overlay sets one (the ST-GCN row); a
    ``None`` setting is the recipe's value (dropped)."""
    settings = {k: v for k, v in train.items() if k != "recipe"}
    settings.update(overrides or {})
    if overlay_sets([recipe_path(r) for r in TRAININGS[training].overlays], "model", "backend_name"):
        settings.pop("backbone", None)
    return {k: v for k, v in settings.items() if v is not None}


def evaluation_flags(row: Row) -> list[str]:
    """``python -m gaitgraph.ablation.rows evaluate`` flags of a row."""
    return [flag for flag, on in (("--tta", row.tta), ("--test-shuffle", row.test_shuffle)) if on]
