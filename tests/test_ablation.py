"""Ablation study: overlays resolve (through LightningCLI) to the intended differences, the plan, the table."""

from __future__ import annotations

import json

import pytest
import yaml

from gaitgraph.ablation.rows import shuffle_frames
from gaitgraph.ablation.study import (
    ROW_BY_NAME,
    ROWS,
    TRAININGS,
    evaluation_flags,
    merge_configs,
    select_rows,
    training_recipes,
    training_settings,
)
from gaitgraph.ablation.table import build_ablation_table
from gaitgraph.recipes import recipe_path

BASE = "gaitgraph2/oumvlp-pose"


@pytest.fixture(autouse=True)
def _plain_argv(monkeypatch):
    """LightningCLI warns when pytest's own arguments sit in sys.argv beside ``args``."""
    import sys

    monkeypatch.setattr(sys, "argv", ["gaitgraph"])


def _resolve(overlays, data_path, method="gaitgraph2", base=BASE):
    """Instantiate the LightningCLI with base + overlays as repeated --config (no subcommand, no run)."""
    from gaitgraph.cli.main import cli

    args = []
    for o in [base, *overlays]:
        args += ["--config", str(recipe_path(o)) if not str(o).endswith(".yaml") else str(o)]
    args += ["--data.data_path", str(data_path), "--data.keypoints", "hrnet", "--trainer.logger", "false",
             "--trainer.accelerator", "cpu"]
    return cli(args, run=False, method=method)


def _noise(dm) -> dict:
    return {"flip_sequence_p": dm.flip_sequence_p, **dm.augment_args}


NO_AUG = {"flip_sequence_p": 0.0, "flip_lr_p": 0.0, "joint_noise": 0.0, "point_noise": 0.0, "random_move": (0.0, 0.0)}


def test_overlays_resolve_to_the_intended_differences(tiny_dataset):
    got = {name: _resolve(t.overlays, tiny_dataset) for name, t in TRAININGS.items() if name != "normalization"}
    hp = {name: c.model.hparams for name, c in got.items()}
    # base: ONE branch of raw x, y, conf, no augmentation, no TTA
    base = got["base"]
    assert hp["base"]["multi_input"] is False and hp["base"]["tta"] is False
    assert base.model.features(_poses()).shape[1:3] == (1, 3)
    resolved = {k: tuple(v) if isinstance(v, (list, tuple)) else float(v) for k, v in _noise(base.datamodule).items()}
    assert resolved == NO_AUG
    # + multi-branch: 3 x 5, still no augmentation
    mb = got["multi_branch"]
    assert hp["multi_branch"]["multi_input"] is True and hp["multi_branch"]["tta"] is False
    assert mb.model.features(_poses()).shape[1:3] == (3, 5)
    assert _noise(mb.datamodule) == _noise(base.datamodule)
    # + augmentation: the original defaults, multi-branch, no TTA
    aug = got["augmentation"]
    assert hp["augmentation"]["multi_input"] is True and hp["augmentation"]["tta"] is False
    assert _noise(aug.datamodule) == {"flip_sequence_p": 0.5, "flip_lr_p": 0.5, "joint_noise": 0.1,
                                      "point_noise": 0.05, "random_move": (3.0, 1.0)}
    # ST-GCN: backend stgcn on one raw branch, the original's (PyTorch default) initialisation
    assert hp["stgcn"]["backend_name"] == "stgcn" and hp["stgcn"]["multi_input"] is False
    assert type(got["stgcn"].model.backbone).__name__.lower().startswith("stgcn")
    assert hp["stgcn"]["stgcn_init"] == "pytorch"
    # single branch (the original single_branch.yaml): one raw branch, augmentation on, no TTA: the ResGCN
    # counterpart of the ST-GCN row (the model differs only in the backbone)
    sb = got["single_branch"]
    assert hp["single_branch"]["multi_input"] is False and hp["single_branch"]["tta"] is False
    assert sb.model.features(_poses()).shape[1:3] == (1, 3) and _noise(sb.datamodule) == _noise(aug.datamodule)
    assert {k for k in hp["stgcn"] if hp["stgcn"][k] != hp["single_branch"][k]} == {"backend_name"}
    # temporal: the shuffled training differs from the ordered one ONLY in the frame shuffle
    tb, ts = got["temp_base"].datamodule, got["temp_shuffle"].datamodule
    assert tb.train_shuffle_sequence is False and ts.train_shuffle_sequence is True
    assert _noise(tb) == _noise(ts) and tb.flip_sequence_p == 0 and tb.augment_args["flip_lr_p"] == 0
    assert hp["temp_base"]["multi_input"] is False and hp["temp_shuffle"]["multi_input"] is False
    # ours: corrected features, otherwise the "+ augmentation" training
    assert hp["corrected"]["features"] == "corrected" and hp["augmentation"]["features"] == "reference"
    diff = {k for k in hp["augmentation"] if hp["augmentation"][k] != hp["corrected"][k]}
    assert diff == {"features"}


def _poses():
    import torch

    return torch.rand(2, 30, 17, 3)


def test_merged_config_equals_repeated_config(tiny_dataset, tmp_path):
    """The workflow merges base + overlays into one file; LightningCLI must resolve it identically."""
    overlays = TRAININGS["multi_branch"].overlays
    merged = tmp_path / "merged.yaml"
    merged.write_text(yaml.safe_dump(merge_configs([BASE, *overlays])))
    a = _resolve(overlays, tiny_dataset)
    b = _resolve([], tiny_dataset, base=str(merged))
    assert dict(a.model.hparams) == dict(b.model.hparams)
    assert dict(a.datamodule.hparams) == dict(b.datamodule.hparams)


def test_gaitgraph1_recipes_resolve(tiny_dataset):
    c = _resolve(["gaitgraph1/casia-b-finetune"], tiny_dataset, "gaitgraph1", base="gaitgraph1/casia-b")
    hp = c.model.hparams
    assert (hp["backend_name"], hp["learning_rate"], hp["loss_temperature"], hp["base_temperature"]) == (
        "resgcn-n39-r8", 1e-5, 0.01, 0.07)
    assert hp["multi_input"] is False and hp["l2_normalize"] is True and hp["optimizer"] == "adam"
    assert c.trainer.max_epochs == 100 and c.datamodule.batch_size == 128 and c.datamodule.min_length == 61
    p1 = _resolve([], tiny_dataset, "gaitgraph1", base="gaitgraph1/casia-b")
    assert p1.trainer.max_epochs == 300 and p1.model.hparams["learning_rate"] == 0.01


def test_settings_of_the_workflow_steps():
    config = yaml.safe_load(open("config/config.yaml"))
    train = config["datasets"]["oumvlp-pose"]["train"]
    assert evaluation_flags(ROW_BY_NAME["full"]) == ["--tta"]
    assert evaluation_flags(ROW_BY_NAME["temporal_shuffle_both"]) == ["--test-shuffle"]
    assert evaluation_flags(ROW_BY_NAME["base"]) == []
    assert "backbone" not in training_settings(train, {}, "stgcn")  # the overlay's stgcn must win
    settings = training_settings(train, {"max_epochs": 1}, "base")
    assert settings["max_epochs"] == 1 and settings["backbone"] == train["backbone"] and "recipe" not in settings
    assert training_recipes("temp_shuffle", BASE) == [BASE, *TRAININGS["temp_shuffle"].overlays]
    assert [r.name for r in select_rows(["full", "base"])] == ["base", "full"]  # table order
    assert select_rows(None) == ROWS
    with pytest.raises(ValueError, match="unknown ablation rows"):
        select_rows(["nope"])


def test_shuffle_frames_permutes_within_each_window():
    import torch

    x = torch.arange(2 * 6, dtype=torch.float32).reshape(2, 6, 1, 1).expand(2, 6, 17, 3).contiguous()
    y = shuffle_frames(x, torch.Generator().manual_seed(0))
    for i in range(2):
        assert sorted(y[i, :, 0, 0].tolist()) == x[i, :, 0, 0].tolist()
        assert (y[i] == y[i, :, :1]).all()  # whole frames move
    assert not torch.equal(x, y)


def _metrics(row, seed, mean, other=None):
    return {"dataset": "oumvlp-pose", "keypoints": "alphapose", "synthetic": True, "ablation_row": row, "seed": seed,
            "conventions": {"gaitgraph2": {"mean": mean, "conditions": {"NM": {"mean": mean}}},
                            "opengait": {"mean": other, "conditions": {"NM": {"mean": other}}}}}


def test_table_has_means_stds_deltas_and_runs(tmp_path):
    values = {"base": [40.0, 44.0], "multi_branch": [50.0, 52.0], "augmentation": [55.0], "full": [60.0, 62.0, 64.0]}
    files = []
    for row, vals in values.items():
        for seed, v in enumerate(vals):
            f = tmp_path / f"{row}-{seed}.json"
            f.write_text(json.dumps(_metrics(row, seed, v, v - 10)))
            files.append(f)
    md, tex, js = tmp_path / "a.md", tmp_path / "a.tex", tmp_path / "a.json"
    summary = build_ablation_table(files, md, tex, js)
    by = {s["row"]: s for s in summary}
    assert [s["row"] for s in summary] == ["base", "multi_branch", "augmentation", "full"]  # table order
    assert by["base"]["columns"]["gaitgraph2 conv."] == {"mean": 42.0, "std": pytest.approx(2.8284271), "n": 2}
    assert by["full"]["n_runs"] == 3 and by["full"]["delta_base"] == pytest.approx(20.0)
    assert by["multi_branch"]["delta_base"] == pytest.approx(9.0)
    assert by["multi_branch"]["delta_full"] == pytest.approx(-11.0)
    assert by["augmentation"]["columns"]["gaitgraph2 conv."]["std"] is None
    text = md.read_text()
    assert "42.0 ± 2.8" in text and "62.0 ± 2.0" in text and "+20.0" in text and "−" not in text
    assert "| + augmentation" in text and " 55.0 " in text and "SYNTHETIC" in text
    assert "32.0 ± 2.8" in text  # the second convention's column
    assert r"\pm" in tex.read_text() and json.loads(js.read_text())["primary"] == "gaitgraph2 conv."


def test_table_rejects_non_ablation_metrics(tmp_path):
    f = tmp_path / "m.json"
    m = _metrics("base", 0, 1.0)
    del m["ablation_row"]
    f.write_text(json.dumps(m))
    with pytest.raises(ValueError, match="not an ablation evaluation"):
        build_ablation_table([f], tmp_path / "a.md", tmp_path / "a.tex")


def test_figure(tmp_path):
    from gaitgraph.viz.ablation_figure import plot_ablation

    summary = {"dataset": "oumvlp-pose", "keypoints": "alphapose", "primary": "p", "synthetic": True, "rows": [
        {"row": r.name, "label": r.label, "group": r.group, "n_runs": 2,
         "columns": {"p": {"mean": 10.0 + i, "std": 1.0, "n": 2}}} for i, r in enumerate(ROWS)]}
    png, pdf = plot_ablation(summary, tmp_path / "ablation.png")
    assert png.stat().st_size > 1000 and pdf.is_file()


def test_the_study_is_cheap_to_import():
    """rules/ablation.smk imports gaitgraph.ablation.study at every Snakemake start: no torch, no numpy."""
    import subprocess
    import sys

    code = "import sys, gaitgraph.ablation.study; print(sorted({'torch', 'numpy', 'pandas'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_row_names_a_training():
    assert all(r.training in TRAININGS for r in ROWS)
    assert ROW_BY_NAME["full"].training == ROW_BY_NAME["augmentation"].training and ROW_BY_NAME["full"].tta


def test_unknown_rows_are_config_errors_and_single_branch_is_the_original_config():
    """Row names are checked against the study (gaitgraph.config_check), with file and line;
    single_branch = the original configs/single_branch.yaml."""
    from gaitgraph.config_check import registry_problems

    config = yaml.safe_load(open("config/config.yaml"))
    problems = registry_problems({**config, "ablation": {"rows": ["base", "nope"]}})
    assert problems == [(["ablation", "rows", 1], "unknown ablation row 'nope' (known: " + ", ".join(ROW_BY_NAME) + ")")]
    assert TRAININGS["single_branch"].overlays == ("gaitgraph2/ablation/single_branch",)
    overlay = yaml.safe_load(recipe_path("gaitgraph2/ablation/single_branch").read_text())
    assert overlay == {"model": {"multi_input": False, "tta": False}, "data": {"multi_input": False}}
    assert not ROW_BY_NAME["single_branch"].tta and ROW_BY_NAME["single_branch"].group == "backbone"
