"""The ablation study's definition (``docs/ablation.md``): trainings (overlays), rows, config merging and
the workflow's plan. Light on purpose (PyYAML only): ``rules/ablation.smk`` imports it while Snakemake
parses the workflow. Evaluation and tables: ``gaitgraph.paper.ablation``; figure: ``gaitgraph.viz.ablation``.

* **Trainings** (:data:`TRAININGS`): the base training config (``config/train/oumvlp.yaml`` by default)
  plus overlays, applied in order as LightningCLI applies repeated ``--config`` (mappings merged key by
  key, everything else replaced): :func:`merge_configs`. One training per seed.
* **Rows** (:data:`ROWS`): a training evaluated with or without TTA and with or without frames
  shuffled at test time. "+ TTA (full)" is the "+ augmentation" model evaluated with TTA; the temporal
  "shuffled test" rows reuse the ordered / train-shuffled models. "single branch" is the original's
  ``configs/single_branch.yaml`` (one raw branch, augmentation on, no TTA), the ResGCN counterpart of
  the ST-GCN row.
* **Plan** (:class:`AblationPlan`): targets, inputs and settings of ``rules/ablation.smk`` (and of the
  GaitGraph v1 rules) from the workflow config.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import yaml

from gaitgraph.outputs import write_text

BASE_ROW = "base"
FULL_ROW = "full"
DASH = "–"


@dataclass(frozen=True)
class Training:
    """One trained configuration: overlays on the base training config; ``normalization`` ``"other"``
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


TRAININGS = {t.name: t for t in [
    Training("base", ("config/train/ablation_base.yaml",)),
    Training("multi_branch", ("config/train/ablation_base.yaml", "config/ablation/multi_branch.yaml")),
    Training("augmentation", ("config/ablation/augmentation.yaml",)),
    Training("single_branch", ("config/train/single_branch.yaml",)),  # the original configs/single_branch.yaml
    Training("stgcn", ("config/ablation/stgcn.yaml",)),
    Training("temp_base", ("config/ablation/temp_base.yaml",)),
    Training("temp_shuffle", ("config/ablation/temp_base.yaml", "config/train/temp_shuffle.yaml")),
    Training("corrected", ("config/ablation/augmentation.yaml", "config/ablation/features_corrected.yaml")),
    Training("normalization", ("config/ablation/augmentation.yaml",), normalization="other"),
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


def merge_configs(paths, extra: dict | None = None) -> dict:
    """Load the YAML configs ``paths`` in order and merge them (later wins, mappings key by key, lists
    replaced whole: LightningCLI's repeated ``--config``), then ``extra`` on top."""
    merged: dict = {}
    for p in paths:
        doc = yaml.safe_load(Path(p).read_text()) or {}
        if not isinstance(doc, dict):
            raise ValueError(f"{p}: a training config must be a mapping")
        merged = _merge(merged, doc)
    return _merge(merged, extra or {})


def write_merged_config(paths, out, extra: dict | None = None) -> Path:
    """:func:`merge_configs` written as YAML to ``out`` (the sources named in a header comment)."""
    header = "".join(f"# merged from {p}\n" for p in paths) + ("# plus workflow settings\n" if extra else "")
    return write_text(out, header + yaml.safe_dump(merge_configs(paths, extra), sort_keys=False))


def overlay_sets(paths, section: str, key: str) -> bool:
    """Whether any of the overlay files sets ``section.key``."""
    for p in paths:
        doc = yaml.safe_load(Path(p).read_text()) or {}
        if key in (doc.get(section) or {}):
            return True
    return False


# ---------------------------------------------------------------- the workflow's plan

ABLATION_DEFAULTS = {
    "dataset": "oumvlp-pose",
    "keypoints": "alphapose",
    "base_config": None,  # None: the dataset's train.config
    "seeds": None,  # None: the workflow's seeds
    "rows": None,  # None: every row
    "train": {},  # overrides of the dataset's train settings (max_epochs, batch_size, ...)
}
GAITGRAPH1_DEFAULTS = {
    "enabled": False,
    "dataset": "casia-b",
    "keypoints": "hrnet",
    "min_length": 61,  # the original drops training sequences with <= 60 frames
    "test_set": "gaitgraph1",  # ... and test ones (<= the window length); "all": every test sequence
    "phase1": {},  # overrides of `gaitgraph fit` settings (max_epochs, sequence_length, ...)
    "phase2": {},
}


class AblationPlan:
    """Targets, inputs and settings of ``rules/ablation.smk`` from the workflow config (plain dicts and
    strings; no Snakemake here). Sections ``ablation`` and ``gaitgraph1`` fall back to the defaults above."""

    def __init__(self, config: dict, seeds):
        self.config = config
        self.ablation = {**ABLATION_DEFAULTS, **(config.get("ablation") or {})}
        self.g1 = {**GAITGRAPH1_DEFAULTS, **(config.get("gaitgraph1") or {})}
        a = self.ablation
        self.seeds = list(a["seeds"] if a["seeds"] is not None else seeds)
        self.workflow_seeds = list(seeds)
        unknown = sorted(set(a["rows"] or ()) - set(ROW_BY_NAME))
        if unknown:
            raise ValueError(f"config ablation/rows: unknown rows {unknown}; known: {sorted(ROW_BY_NAME)}")
        self.rows = [r for r in ROWS if a["rows"] is None or r.name in a["rows"]]
        self.row = {r.name: r for r in self.rows}
        self.prefix = f"results/ablation/{a['dataset']}/{a['keypoints']}"

    # names for wildcard constraints
    def row_names(self) -> str:
        return "|".join(sorted(self.row)) or "NONE"

    @staticmethod
    def training_names() -> str:
        return "|".join(sorted(TRAININGS))

    def default_normalization(self, dataset: str | None = None) -> str:
        return self.config["datasets"][dataset or self.ablation["dataset"]].get("normalization", "none")

    def metrics_files(self) -> list[str]:
        return [f"{self.prefix}/evaluate/{r.name}/seed{s}/metrics.json" for r in self.rows for s in self.seeds]

    def data(self, dataset: str, keypoints: str, training: str) -> str:
        if TRAININGS[training].normalization == "other":
            mode = other_normalization(self.default_normalization(dataset))
            return f"results/ablation/data/{dataset}/{keypoints}/{mode}"
        return f"results/data/normalized/{dataset}/{keypoints}"

    def configs(self, dataset: str, training: str) -> list[str]:
        base = self.ablation["base_config"] or self.config["datasets"][dataset]["train"]["config"]
        return [base, *TRAININGS[training].overlays]

    def hparams(self, dataset: str, training: str) -> dict:
        """The dataset's train settings, then ``ablation/train``; no backbone where an overlay sets one."""
        train = {k: v for k, v in self.config["datasets"][dataset]["train"].items() if k != "config"}
        train.update(self.ablation["train"] or {})
        if overlay_sets(TRAININGS[training].overlays, "model", "backend_name"):
            train.pop("backbone", None)
        return train

    def row_model(self, dataset: str, keypoints: str, row: str, seed) -> str:
        training = self.row[row].training
        return f"results/ablation/{dataset}/{keypoints}/train/{training}/seed{seed}/model.ckpt"

    def row_data(self, dataset: str, keypoints: str, row: str) -> str:
        return self.data(dataset, keypoints, self.row[row].training)

    def eval_flags(self, row: str) -> str:
        r = self.row[row]
        return " ".join(f for f, on in (("--tta", r.tta), ("--test-shuffle", r.test_shuffle)) if on)

    # GaitGraph (v1)
    def g1_metrics_files(self) -> list[str]:
        ds, kp = self.g1["dataset"], self.g1["keypoints"]
        return [f"results/evaluate/{ds}/{kp}/gaitgraph1/seed{s}/metrics.json" for s in self.workflow_seeds]

    def g1_hparams(self, dataset: str, phase: int) -> dict:
        """The dataset's window and validation interval, then ``gaitgraph1/phase<N>``; epochs, learning
        rate, batch size and backbone come from G1's own configs unless ``phase<N>`` overrides them."""
        train = self.config["datasets"][dataset]["train"]
        out = {k: train[k] for k in ("sequence_length", "check_val_every_n_epoch") if k in train}
        out.update(self.g1[f"phase{phase}"] or {})
        return out

    def g1_extra(self) -> dict:
        return {"data": {"min_length": int(self.g1["min_length"])}}
