"""``gaitgraph`` CLI: the original's flags, strict configs, run directory layout, dispatch, Slurm."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from gaitgraph.cli import main as cli_main

from gaitgraph.recipes import list_recipes, recipe_path

CASIA = ["--recipe", "gaitgraph2/casia-b"]
OUMVLP = ["--recipe", "gaitgraph2/oumvlp-pose"]
TINY = ["--data.batch_size", "40", "--data.sequence_length", "12", "--data.num_workers", "0",
        "--data.val_subjects", "0.25", "--trainer.accelerator", "cpu", "--trainer.enable_progress_bar", "false",
        "--trainer.enable_model_summary", "false", "--trainer.log_every_n_steps", "1"]


def _print_config(args, capsys) -> dict:
    with pytest.raises(SystemExit) as e:
        cli_main.main([*args, "--print_config"])
    assert e.value.code in (0, None)
    return yaml.safe_load(capsys.readouterr().out)


def test_paper_configs_resolve_with_the_original_flags(tiny_dataset, capsys):
    cfg = _print_config(["fit", *CASIA, "--data.data_path", str(tiny_dataset), "--model.tta", "True"],
                        capsys)
    m, d, t = cfg["model"], cfg["data"], cfg["trainer"]
    assert (m["backend_name"], m["optimizer"], m["learning_rate"], m["weight_decay"]) == ("resgcn-n21-r8", "adamw", 0.005, 1e-5)
    assert (m["loss_temperature"], m["embedding_layer_size"], m["tta"]) == (0.01, 128, True)
    assert m["multi_branch"] and d["multi_branch"] and (d["batch_size"], d["sequence_length"]) == (768, 60)
    assert (t["max_epochs"], t["check_val_every_n_epoch"], cfg["seed_everything"]) == (200, 5, 5318008)

    cfg = _print_config(["fit", "--config", str(recipe_path("gaitgraph2/oumvlp-pose")),  # --config works too
                         "--data.data_path", str(tiny_dataset), "--data.keypoints", "alphapose"], capsys)
    m, d, t = cfg["model"], cfg["data"], cfg["trainer"]
    assert (m["backend_name"], m["optimizer"], m["weight_decay"], m["tta"]) == ("resgcn-n51-r4", "adam", 0.0, True)
    assert (d["keypoints"], d["batch_size"], d["sequence_length"], t["max_epochs"]) == ("alphapose", 768, 30, 750)
    assert t["callbacks"][0]["class_path"].endswith("StochasticWeightAveraging")


def test_every_packaged_recipe_parses_with_its_method(tiny_dataset, capsys):
    full = {"gaitgraph2": "gaitgraph2/oumvlp-pose", "gaitgraph1": "gaitgraph1/casia-b"}
    names = list_recipes()
    assert {"gaitgraph2/casia-b", "gaitgraph2/oumvlp-pose", "gaitgraph1/casia-b", "gaitgraph1/casia-b-finetune",
            "gaitgraph2/validate-on-test", "gaitgraph2/ablation/base"} <= set(names)
    for name in names:
        method = name.split("/")[0]
        base = [] if yaml.safe_load(recipe_path(name).read_text()).get("method") else ["--recipe", full[method]]
        cfg = _print_config(["fit", *base, "--recipe", name, "--data.data_path", str(tiny_dataset)], capsys)
        assert cfg["method"] == method, name
        if "multi_input" in cfg["model"]:  # GaitGraph's input branches; the peers have their own inputs
            assert cfg["model"]["multi_input"] == cfg["data"]["multi_input"], name


def test_the_method_comes_from_the_flag_or_the_recipe_last_one_wins(tiny_dataset, capsys):
    cfg = _print_config(["fit", "--recipe", "gaitgraph1/casia-b", "--data.data_path", str(tiny_dataset)], capsys)
    assert cfg["method"] == "gaitgraph1" and cfg["model"]["l2_normalize"] is True
    assert cfg["data"]["mirror_poses_p"] == 0.5  # TwoViewDataModule's own argument
    cfg = _print_config(["fit", "--method", "gaitgraph1", "--data.data_path", str(tiny_dataset)], capsys)
    assert cfg["model"]["backend_name"] == "resgcn-n39-r8"  # GaitGraph1's defaults, no recipe needed
    cfg = _print_config(["fit", "--data.data_path", str(tiny_dataset)], capsys)
    assert cfg["method"] == "gaitgraph2" and "l2_normalize" not in cfg["model"]
    # a method flag after a full recipe replaces the recipe's: GaitGraph2 does not know v1's keys
    with pytest.raises(SystemExit) as e:
        cli_main.main(["fit", "--recipe", "gaitgraph1/casia-b", "--method", "gaitgraph2",
                       "--data.data_path", str(tiny_dataset)])
    assert e.value.code != 0 and "base_temperature" in capsys.readouterr().err


def test_unknown_recipe_or_method_is_one_line(tiny_dataset, capsys):
    assert cli_main.main(["fit", "--recipe", "gaitgraph2/casia", "--data.data_path", str(tiny_dataset)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown recipe 'gaitgraph2/casia'" in err[0] and "gaitgraph2/casia-b" in err[0]
    assert cli_main.main(["fit", "--method", "gaitgraph3", "--data.data_path", str(tiny_dataset)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown method 'gaitgraph3'" in err[0]


def test_unknown_keys_are_errors(tiny_dataset, tmp_path, capsys):
    for typo in ("--model.learnig_rate", "--model.learning_rat"):  # misspelt, and a prefix (no abbreviations)
        with pytest.raises(SystemExit) as e:
            cli_main.main(["fit", "--data.data_path", str(tiny_dataset), typo, "0.1", "--print_config"])
        assert e.value.code != 0
    bad = tmp_path / "typo.yaml"
    bad.write_text("model:\n  bakend_name: resgcn-n21-r8\n")
    with pytest.raises(SystemExit) as e:
        cli_main.main(["fit", "--config", str(bad), "--data.data_path", str(tiny_dataset)])
    assert e.value.code != 0
    assert "bakend_name" in capsys.readouterr().err


def test_keypoints_flag_is_checked_against_the_dataset(tiny_dataset, capsys):
    # issue 12: a one-line error and exit 2 instead of the ValueError's traceback
    assert cli_main.main(["fit", "--data.data_path", str(tiny_dataset), "--data.keypoints", "alphapose", *TINY,
                          "--trainer.max_epochs", "1", "--trainer.default_root_dir", "/nonexistent-not-used"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "keypoints 'hrnet' but --data.keypoints is 'alphapose'" in err[-1] and err[-1].startswith("gaitgraph fit: error:")


@pytest.mark.slow
def test_fit_test_predict_run_directory(tiny_dataset, tmp_path):
    run = tmp_path / "run"
    cli_main.main(["fit", "--data.data_path", str(tiny_dataset), *TINY, "--trainer.max_epochs", "2",
                   "--trainer.limit_train_batches", "2", "--trainer.default_root_dir", str(run)])
    last = run / "checkpoints" / "last.ckpt"
    assert last.is_file() and list((run / "checkpoints").glob("best-*.ckpt"))
    assert not list(run.rglob("*.part"))
    assert (run / "logs" / "version_0" / "config.yaml").is_file()
    metrics = pd.read_csv(run / "logs" / "version_0" / "metrics.csv")
    assert {"train_loss", "lr", "val_loss", "val_rank1", "train_loss_epoch"} <= set(metrics.columns)
    assert list((run / "logs" / "version_0").glob("events.out.tfevents.*"))
    hist = pd.read_csv(run / "history.csv")
    assert list(hist.columns) == ["epoch", "step", "train_loss", "lr", "val_loss", "val_rank1"]
    assert hist["epoch"].tolist() == [0, 1] and hist["val_rank1"].notna().all()
    ckpt = torch.load(last, weights_only=False)
    assert ckpt["hyper_parameters"]["skeleton"] == "coco17" and ckpt["hyper_parameters"]["sequence_length"] == 12
    # the run records its software environment, in the run folder and in every checkpoint
    env = json.loads((run / "environment.json").read_text())
    assert env["packages"]["torch"] == torch.__version__ and env["packages"]["pytorch-lightning"]
    assert ckpt["environment"]["packages"] == env["packages"]

    out = tmp_path / "out"
    cli_main.main(["test", "--config", str(run / "logs" / "version_0" / "config.yaml"), "--ckpt_path", str(last),
                   "--model.tta", "True", "--model.metrics_path", str(out / "metrics.json"),
                   "--trainer.default_root_dir", str(out)])
    doc = json.loads((out / "metrics.json").read_text())
    assert doc["tta"] and doc["conventions"]["exclude_identical"]["mean"] is not None
    assert doc["environment"]["packages"]["numpy"] == np.__version__
    # one evaluation path: `gaitgraph test` writes the record `gaitgraph evaluate` writes, with the same numbers
    assert cli_main.main(["evaluate", "--checkpoint", str(last), "--data", str(tiny_dataset),
                          "--output", str(out / "evaluated.json"), "--quiet"]) == 0
    evaluated = json.loads((out / "evaluated.json").read_text())
    assert list(doc) == list(evaluated)
    for key in ("config_hash", "method", "experiment", "tta", "embedding_dim", "num_sequences", "test_set",
                "training_environment"):
        assert doc[key] == evaluated[key], key
    for name, conv in evaluated["conventions"].items():
        assert doc["conventions"][name]["mean"] == pytest.approx(conv["mean"], abs=1e-6)
    cli_main.main(["predict", "--config", str(run / "logs" / "version_0" / "config.yaml"), "--ckpt_path", str(last),
                   "--model.tta", "False", "--model.predict_output", str(out / "emb.npz"),
                   "--trainer.default_root_dir", str(out)])
    emb = np.load(out / "emb.npz")
    assert emb["embeddings"].shape[1] == 128 and len(emb["embeddings"]) == len(emb["subject"])


def test_evaluate_and_match_are_dispatched(monkeypatch, capsys):
    seen = {}
    for name in ("evaluate", "match"):
        fake = types.ModuleType(f"gaitgraph.cli.{name}")
        fake.main = lambda argv, name=name: seen.setdefault(name, argv) and 0
        monkeypatch.setitem(sys.modules, f"gaitgraph.cli.{name}", fake)
    assert cli_main.main(["evaluate", "--checkpoint", "x.ckpt"]) == 0
    assert cli_main.main(["match", "a", "b"]) == 0
    assert seen == {"evaluate": ["--checkpoint", "x.ckpt"], "match": ["a", "b"]}


def test_missing_subcommand_module_is_a_clear_message(monkeypatch, capsys):
    monkeypatch.setitem(cli_main.OTHER_COMMANDS, "match", "gaitgraph.cli.no_such_module")
    assert cli_main.main(["match"]) == 2
    assert "not available" in capsys.readouterr().err


def test_no_lightning_auto_requeue_under_slurm(monkeypatch):
    from pytorch_lightning.plugins.environments import LightningEnvironment, SLURMEnvironment

    for var in ("SLURM_NTASKS", "SLURM_JOB_NAME"):
        monkeypatch.delenv(var, raising=False)
    assert cli_main.slurm_plugins() == []
    monkeypatch.setenv("SLURM_NTASKS", "1")
    monkeypatch.setenv("SLURM_JOB_NAME", "train_model")
    (env,) = cli_main.slurm_plugins()
    assert isinstance(env, LightningEnvironment)  # snakemake's srun -n1 jobstep: Lightning starts the ranks
    monkeypatch.setenv("SLURM_NTASKS", "2")
    monkeypatch.setenv("SLURM_NTASKS_PER_NODE", "2")
    (env,) = cli_main.slurm_plugins()
    assert isinstance(env, SLURMEnvironment) and env.auto_requeue is False
