"""The Snakemake workflow, run through `python -m snakemake` in a temporary copy of the workflow files.

Fast: dry-run job counts for both configs and the benchmark (with a fake trainable method too), schema errors,
bad targets, the licence checks (OUMVLP-Pose, Gait3D, GREW), the download rule, lint, snakefmt, the training run
helpers (gaitgraph.training.runs). Slow (one shared full run of the embedded default): tables with every expected
row, figures, the GREW submission file, the no-op second run, targeted re-runs (--summary), resume of an
interrupted training, the benchmark on top of it, the report.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from gaitgraph.training import runs

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW_FILES = ["Snakefile", "rules", "workflow_scripts", "config", "envs", "report", "profiles"]
NOTHING_TO_BE_DONE = "Nothing to be done (all requested files are present and up to date)."
# the rules call `gaitgraph`, `gaitgraph-data` and `python`: those of the interpreter running the tests
ENV = dict(os.environ, PATH=f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}")
RUNS = [("casia-b", "hrnet"), ("oumvlp-pose", "openpose"), ("oumvlp-pose", "alphapose"), ("gait3d", "hrnet"),
        ("grew", "hrnet")]
VIEW_RUNS = RUNS[:3]  # datasets with camera views: gallery x probe view heat maps


def copy_workflow(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dest / name)
    return dest


def snakemake(workdir: Path, *args: str, check: bool = True, timeout: float = 1500) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--directory", str(workdir), "--snakefile", str(workdir / "Snakefile")]
    r = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout, cwd=workdir, env=ENV)
    if check and r.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({r.returncode}):\n{r.stdout[-4000:]}\n{r.stderr[-6000:]}")
    return r


def job_counts(output: str) -> dict[str, int]:
    """The 'Job stats' table of a dry run -> {rule: count} (without the total)."""
    table = output.split("Job stats:")[1]
    counts = {}
    for line in table.splitlines()[3:]:
        parts = line.split()
        if len(parts) != 2:
            break
        counts[parts[0]] = int(parts[1])
    counts.pop("total", None)
    return counts


def write_config(workdir: Path, name: str, edit) -> str:
    """A copy of the embedded default with ``edit(cfg)`` applied; returns its path for --configfile."""
    cfg = yaml.safe_load((workdir / "config" / "config.yaml").read_text())
    edit(cfg)
    path = workdir / "config" / name
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


def summary(workdir: Path, *args: str) -> pd.DataFrame:
    """`snakemake --summary` as a table: output_file, date, rule, log-file(s), status, plan."""
    out = snakemake(workdir, "--summary", *args).stdout
    lines = [line for line in out.splitlines() if "\t" in line]
    rows = [line.split("\t") for line in lines[1:]]
    return pd.DataFrame(rows, columns=lines[0].split("\t")[: len(rows[0])])


@pytest.fixture
def workflow(tmp_path):
    return copy_workflow(tmp_path / "wf")


# --- dry runs and bad input -------------------------------------------------------------------

DEFAULT_JOBS = {
    "synthesize_dataset_file": 1,  # CASIA-B's CSV
    "synthesize_dataset_tree": 3,  # the OUMVLP-Pose, Gait3D and GREW trees
    "convert_dataset": 5,
    "normalize_keypoints": 5,
    "train_model": 5,
    "evaluate_model": 5,
    "write_submission": 1,  # GREW's withheld probes
    "build_tables": 1,
    "plot_rank1_by_view": 1,
    "plot_view_heatmaps": 3,  # datasets with views only
    "plot_training_curves": 1,
    "draw_activations": 5,  # activation_gifs: 1 in the embedded default
    "all": 1,
}


def test_dry_run_embedded_default(workflow):
    r = snakemake(workflow, "-n")
    assert job_counts(r.stdout) == DEFAULT_JOBS


def test_dry_run_paper_config_plans_without_the_data(workflow):
    """The real data is absent: the DAG still plans; only executing the check would fail."""
    r = snakemake(workflow, "-n", "--configfile", "config/paper.yaml")
    seeds = 3
    expected = dict(DEFAULT_JOBS, train_model=5 * seeds, evaluate_model=5 * seeds, write_submission=seeds)
    del expected["synthesize_dataset_file"], expected["synthesize_dataset_tree"]
    expected.update(download_dataset=1, check_dataset=4)  # OUMVLP-Pose x 2, Gait3D, GREW
    # GaitGraph (v1) is part of the paper's tables: two training phases and an evaluation per seed
    expected.update(gaitgraph1_train=seeds, gaitgraph1_finetune=seeds, gaitgraph1_evaluate=seeds)
    assert job_counts(r.stdout) == expected


def test_dry_run_ablation_has_every_row(workflow):
    """Issue 11: the original's single_branch.yaml is a row: 9 trainings, 12 evaluated rows (embedded default: 1 seed)."""
    from gaitgraph.ablation.study import ROWS, TRAININGS

    r = snakemake(workflow, "-n", "results/ablation.md", "results/figures/ablation.png")
    counts = job_counts(r.stdout)
    assert counts["ablation_train"] == len(TRAININGS) == 9 and counts["ablation_evaluate"] == len(ROWS) == 12
    assert "train/single_branch/seed0/model.ckpt" in r.stdout and "evaluate/single_branch/seed0" in r.stdout


def test_two_seeds_double_the_trainings(workflow):
    r = snakemake(workflow, "-n", "--configfile", write_config(workflow, "seeds.yaml", lambda c: c.update(seeds=[0, 1])))
    counts = job_counts(r.stdout)
    assert counts["train_model"] == counts["evaluate_model"] == 10
    assert counts["normalize_keypoints"] == 5 and counts["write_submission"] == 2


def test_pretrained_checkpoint_is_evaluated_beside_ours(workflow):
    (workflow / "resources").mkdir()
    (workflow / "resources" / "g2.ckpt").write_bytes(b"placeholder")
    entry = {"name": "g2", "checkpoint": "resources/g2.ckpt", "dataset": "casia-b", "keypoints": "hrnet"}
    cfg = write_config(workflow, "pretrained.yaml", lambda c: c.update(pretrained=[entry]))
    counts = job_counts(snakemake(workflow, "-n", "--configfile", cfg).stdout)
    assert counts["evaluate_pretrained"] == 1 and counts["train_model"] == 5


def test_config_typo_names_the_key(workflow):
    def typo(cfg):
        cfg["datasets"]["casia-b"]["train"]["learning_rat"] = 0.1

    path = write_config(workflow, "typo.yaml", typo)
    r = snakemake(workflow, "-n", "--configfile", path, check=False)
    assert r.returncode != 0
    # issue 12: one line naming the file, the line, the key path (was: jsonschema's text and the whole schema)
    line = next(n for n, text in enumerate(Path(path).read_text().splitlines(), 1) if "learning_rat" in text)
    out = r.stdout + r.stderr
    assert f"{path}:{line}: datasets.casia-b.train.learning_rat: unknown key 'learning_rat'" in out, out
    assert len(out.splitlines()) < 10, out


def test_unknown_or_foreign_recipe_names_the_key(workflow):
    for recipe, reason in (("gaitgraph2/casia", "unknown recipe 'gaitgraph2/casia'"),
                           ("gaitgraph2/validate-on-test", "gaitgraph2/validate-on-test names no method (an overlay?)"),
                           ("gaitgraph1/casia-b", "gaitgraph1/casia-b trains gaitgraph1")):
        cfg = write_config(workflow, "recipe.yaml", lambda c: c["datasets"]["casia-b"]["train"].update(recipe=recipe))
        r = snakemake(workflow, "-n", "--configfile", cfg, check=False)
        out = r.stdout + r.stderr
        assert r.returncode != 0 and f"datasets.casia-b.train.recipe: {reason}" in out, out


def test_config_wrong_value_is_rejected(workflow):
    cfg = write_config(workflow, "bad.yaml", lambda c: c["datasets"]["casia-b"].update(normalization="zscore"))
    r = snakemake(workflow, "-n", "--configfile", cfg, check=False)
    assert r.returncode != 0 and "zscore" in r.stdout + r.stderr


def test_impossible_target_fails_clearly(workflow):
    r = snakemake(workflow, "-n", "results/train/casia-b/openpose/gaitgraph2/seed0/model.ckpt", check=False)
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert "casia-b/openpose" in out and any(e in out for e in ("MissingInputException", "MissingRuleException",
                                                                "InputFunctionException"))


def test_missing_oumvlp_pose_says_where_to_apply_and_put_files(workflow):
    r = snakemake(
        workflow, "--cores", "1", "results/data/check/oumvlp-pose/openpose.json",
        "--configfile", "config/paper.yaml", check=False,
    )  # fmt: skip
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert "http://www.am.sanken.osaka-u.ac.jp/BiometricDB/GaitLPPose.html" in out
    assert "resources/OUMVLP-Pose/openpose/<subject>/<view>_<seq>/*.json" in out
    assert "resources/OUMVLP-Pose/ID_list.csv" in out
    assert not (workflow / "results/data/check/oumvlp-pose/openpose.json").exists()


def test_oumvlp_pose_check_passes_on_a_copy_in_place(workflow):
    root = workflow / "resources" / "OUMVLP-Pose"
    (root / "alphapose" / "00001" / "000_00").mkdir(parents=True)
    (root / "ID_list.csv").write_text("train,test\n1,2\n")
    r = snakemake(workflow, "--cores", "1", "results/data/check/oumvlp-pose/alphapose.json",
                  "--configfile", "config/paper.yaml")  # fmt: skip
    assert json.loads((workflow / "results/data/check/oumvlp-pose/alphapose.json").read_text())["subjects"] == 1, r


@pytest.mark.parametrize("dataset, where, files", [
    ("gait3d", "https://gait3d.github.io", ["resources/Gait3D/2D_Poses/ does not exist",
                                            "resources/Gait3D/Gait3D.json does not exist"]),
    ("grew", "https://www.grew-benchmark.org", ["resources/GREW/train/ does not exist",
                                                "ROOT/test/probe/VIDEO/NNNNN_2d_pose.txt"]),
])  # fmt: skip
def test_missing_wild_dataset_says_where_to_apply_and_put_files(workflow, dataset, where, files):
    r = snakemake(workflow, "--cores", "1", f"results/data/check/{dataset}/hrnet.json",
                  "--configfile", "config/paper.yaml", check=False)  # fmt: skip
    out = r.stdout + r.stderr
    assert r.returncode != 0
    message = next(line for line in out.splitlines() if line.startswith("gaitgraph-data check: error:"))
    assert where in message and all(f in message for f in files), message
    assert not (workflow / f"results/data/check/{dataset}/hrnet.json").exists()


# --- the method x dataset benchmark -----------------------------------------------------------

# trainable today: GaitGraph2 (every dataset; the default target's runs) and GaitGraph v1 (recipes for
# CASIA-B, Gait3D and GREW, not OUMVLP-Pose): 5 + 3 trainings
BENCHMARK_JOBS = {
    "synthesize_dataset_file": 1,
    "synthesize_dataset_tree": 3,
    "convert_dataset": 5,
    "normalize_keypoints": 5,
    "train_model": 8,
    "evaluate_model": 8,
    "build_benchmark": 1,
}


def trainable_methods() -> list:
    from gaitgraph.methods import get_method, list_methods

    return [get_method(m) for m in list_methods() if get_method(m).trainable]


def expected_benchmark_runs() -> set:
    """(method, dataset) of every trainable method on every configured dataset it has a recipe for."""
    return {(m.name, ds) for m in trainable_methods() for ds, _ in RUNS if ds in m.recipes}


def planned(stdout: str, rule: str) -> set:
    """(method, dataset) of every planned job of ``rule`` (its wildcards line)."""
    out = set()
    for block in stdout.split("\nrule ")[1:] + stdout.split("\nlocalrule ")[1:]:
        if block.startswith(rule + ":"):
            w = dict(re.findall(r"(\w+)=([^,\s]+)", block.split("wildcards:")[1].splitlines()[0]))
            out.add((w["method"], w["dataset"]))
    return out


def test_dry_run_benchmark_plans_every_trainable_method_with_a_recipe(workflow):
    r = snakemake(workflow, "-n", "results/benchmark.md")
    expected = expected_benchmark_runs()
    assert planned(r.stdout, "train_model") == planned(r.stdout, "evaluate_model") == expected
    if {m.name for m in trainable_methods()} == {"gaitgraph2", "gaitgraph1"}:  # until the peers are trainable
        assert job_counts(r.stdout) == BENCHMARK_JOBS
    # the benchmark target adds the training curves and every method's GREW submission file
    counts = job_counts(snakemake(workflow, "-n", "benchmark").stdout)
    grew = sum(1 for _, ds in expected if ds == "grew")
    assert counts["write_submission"] == grew and counts["plot_benchmark_training_curves"] == 1
    # a list of methods narrows it; a dataset's recipe can be given for a method
    cfg = write_config(workflow, "only.yaml", lambda c: c["benchmark"].update(
        methods=["gaitgraph1"], per_method={"gaitgraph1": {"recipes": {"oumvlp-pose": "gaitgraph1/gait3d"}}}))
    r = snakemake(workflow, "-n", "results/benchmark.md", "--configfile", cfg)
    assert planned(r.stdout, "train_model") == {("gaitgraph1", "casia-b"), ("gaitgraph1", "oumvlp-pose"),
                                                ("gaitgraph1", "gait3d"), ("gaitgraph1", "grew")}


FAKE_METHOD = """
import dataclasses, sys, types
from gaitgraph import methods

_fake = types.ModuleType("fake_method")
_fake.SPEC = dataclasses.replace(methods.get_method("gaitgraph1"), name="fakenet", title="FakeNet",
                                 recipes={"gait3d": "gaitgraph1/gait3d"})
sys.modules["fake_method"] = _fake
methods._MODULES["fakenet"] = "fake_method"


include: "Snakefile"
"""


def test_a_newly_trainable_method_joins_the_benchmark_without_workflow_changes(workflow):
    """A method registered as trainable with a recipe (as GaitTR, GPGait, GaitMixer will be) is planned."""
    (workflow / "Snakefile.fake").write_text(FAKE_METHOD)
    r = snakemake(workflow, "-n", "--snakefile", str(workflow / "Snakefile.fake"), "results/benchmark.md")
    trains = planned(r.stdout, "train_model")
    assert ("fakenet", "gait3d") in trains and not any(m == "fakenet" and ds != "gait3d" for m, ds in trains)
    assert "results/evaluate/gait3d/hrnet/fakenet/seed0/metrics.json" in r.stdout


@pytest.mark.parametrize("edit, reason", [
    (lambda b: b.update(methods=["gaitnet"]), "benchmark.methods.0: unknown method 'gaitnet'"),
    (lambda b: b.update(per_method={"gaitgraph1": {"recipes": {"casia-b": "gaitgraph2/casia-b"}}}),
     "benchmark.per_method.gaitgraph1.recipes.casia-b: gaitgraph2/casia-b trains gaitgraph2; this entry is gaitgraph1's"),
    (lambda b: b.update(per_method={"gaitgraph1": {"datasets": {"casia": {"max_epochs": 1}}}}),
     "benchmark.per_method.gaitgraph1.datasets.casia: dataset 'casia' is not configured"),
])  # fmt: skip
def test_bad_benchmark_settings_name_the_key(workflow, edit, reason):
    cfg = write_config(workflow, "bench.yaml", lambda c: edit(c["benchmark"]))
    r = snakemake(workflow, "-n", "--configfile", cfg, check=False)
    assert r.returncode != 0 and reason in r.stdout + r.stderr, r.stdout + r.stderr


def test_paper_config_restates_every_key_of_the_embedded_default():
    """A --configfile is merged key by key over config/config.yaml: a key paper.yaml leaves out keeps the
    embedded default's tiny value (null restates it as "the recipe's")."""

    def leaves(d, prefix=()):
        for k, v in d.items():
            yield from leaves(v, prefix + (k,)) if isinstance(v, dict) and v else [prefix + (k,)]

    def stated(d, path):
        for k in path:
            if not isinstance(d, dict) or k not in d:
                return False
            d = d[k]
        return True

    default = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    paper = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())
    assert [p for p in leaves(default) if not stated(paper, p)] == []


# --- download rule ----------------------------------------------------------------------------


def _download_config(workflow: Path, url: str, sha256: str = "") -> str:
    def edit(cfg):
        cfg["datasets"]["casia-b"]["source"] = "download"
        cfg["datasets"]["casia-b"]["download"].update(url=url, sha256=sha256, retries=0)

    return write_config(workflow, "download.yaml", edit)


def _release_zip(path: Path, text: str = "image_name\n") -> str:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("data/casia-b_pose_coco.csv", text)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_rule_records_hash_then_verifies(workflow, tmp_path):
    digest = _release_zip(tmp_path / "data.zip")
    cfg = _download_config(workflow, (tmp_path / "data.zip").as_uri())
    target = "resources/casia-b/casia-b_pose_coco.csv"
    snakemake(workflow, "--cores", "1", target, "--configfile", cfg)
    assert (workflow / target).read_text() == "image_name\n"
    assert (workflow / "resources/casia-b/casia-b_pose_coco.csv.zip.sha256").read_text().split()[0] == digest

    # the upstream file changes: a forced re-download fails against the recorded hash, nothing is left
    _release_zip(tmp_path / "data.zip", text="tampered\n")
    r = snakemake(workflow, "--cores", "1", target, "--forcerun", "download_dataset", "--configfile", cfg, check=False)
    out = r.stdout + r.stderr
    assert r.returncode != 0 and digest in out and "mismatch" in out
    assert not (workflow / target).exists() and not (workflow / "resources/casia-b/casia-b_pose_coco.csv.zip").exists()
    assert not list((workflow / "resources/casia-b").glob("*.part"))


def test_download_rule_configured_hash_mismatch(workflow, tmp_path):
    actual = _release_zip(tmp_path / "data.zip")
    cfg = _download_config(workflow, (tmp_path / "data.zip").as_uri(), sha256="ab" * 32)
    r = snakemake(workflow, "--cores", "1", "resources/casia-b/casia-b_pose_coco.csv", "--configfile", cfg, check=False)
    out = r.stdout + r.stderr
    assert r.returncode != 0 and "ab" * 32 in out and actual in out
    assert not (workflow / "resources/casia-b/casia-b_pose_coco.csv.zip").exists()


# --- quality gates ----------------------------------------------------------------------------


@pytest.mark.parametrize("configfile", ["config/config.yaml", "config/paper.yaml"])
def test_lint(workflow, configfile):
    r = snakemake(workflow, "--lint", "--configfile", configfile, check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def test_snakefmt():
    files = [str(ROOT / "Snakefile"), *map(str, sorted((ROOT / "rules").glob("*.smk")))]
    r = subprocess.run([sys.executable, "-m", "snakefmt", "--check", "--diff", *files], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_profiles_parse():
    for name in ("local", "slurm"):
        profile = yaml.safe_load((ROOT / "profiles" / name / "config.yaml").read_text())
        assert profile["rerun-incomplete"] is True and profile["retries"] >= 1
    slurm = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    assert slurm["executor"] == "slurm"
    assert {"train_model", "evaluate_model"} <= set(slurm["set-resources"])


# --- gaitgraph.training.runs helpers ---------------------------------------------------------------


def test_fit_arguments_map_and_reject_unknown():
    assert runs.fit_arguments({"max_epochs": 3, "learning_rate": 0.01}) == [
        "--model.learning_rate", "0.01", "--trainer.max_epochs", "3",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="lr"):
        runs.fit_arguments({"lr": 0.1})
    # the switches that restore the original's training set and validation (docs/fidelity.md)
    assert runs.fit_arguments({"validation": "test-set", "min_length": 1}) == [
        "--data.min_length", "1", "--data.validation", "test-set",
    ]  # fmt: skip


def test_fidelity_switches_pass_the_schema(workflow):
    """The config keys docs/fidelity.md names are accepted and reach the commands."""

    def original(c):
        c["datasets"]["oumvlp-pose"]["convert"].update(person="first")
        c["datasets"]["casia-b"]["train"].update(validation="test-set", min_length=1)
        c["gaitgraph1"].update(test_set="all")

    r = snakemake(workflow, "-n", "-p", "all", "gaitgraph1", "--configfile", write_config(workflow, "original.yaml", original))
    assert "--person first" in r.stdout and "--test-set all" in r.stdout


def test_run_dir_resumes_only_an_unfinished_run_of_the_same_configuration(tmp_path):
    run = tmp_path / "run"
    assert runs.prepare_run_dir(run, "a") is False
    (run / "checkpoints").mkdir()
    (run / "checkpoints" / "last.ckpt").write_bytes(b"x")
    assert runs.prepare_run_dir(run, "a") is True  # interrupted: resume
    assert (run / "checkpoints" / "last.ckpt").exists()
    assert runs.prepare_run_dir(run, "b") is False  # other settings: start over
    assert not (run / "checkpoints").exists()
    (run / "checkpoints").mkdir()
    (run / "checkpoints" / "last.ckpt").write_bytes(b"x")
    (run / runs.STAMP).write_text(json.dumps({"key": "b", "finished": True}))
    assert runs.prepare_run_dir(run, "b") is False  # finished: a forced rerun retrains


def test_export_history_keeps_the_contract_columns(tmp_path):
    pd.DataFrame({"val_rank1": [None, 50.0], "epoch": [1, 0], "step": [4, 2], "train_loss": [1.0, 2.0],
                  "lr": [0.1, 0.2], "val_loss": [None, 0.5], "extra": [0, 0]}).to_csv(tmp_path / "history.csv", index=False)  # fmt: skip
    out = runs.export_history(tmp_path, tmp_path / "out.csv")
    assert list(out.columns) == list(runs.HISTORY_COLUMNS) and list(out.epoch) == [0, 1]
    (tmp_path / "history.csv").write_text("epoch,step\n0,1\n")
    with pytest.raises(ValueError, match="train_loss"):
        runs.export_history(tmp_path, tmp_path / "out.csv")


# --- one full run of the embedded default, shared by the slow tests ---------------------------


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("full") / "wf")
    start = time.monotonic()
    r = snakemake(workdir, "--cores", "2", "--show-failed-logs")
    elapsed = time.monotonic() - start
    print(f"\nembedded default, --cores 2: {elapsed:.0f} s")
    return workdir, r, elapsed


@pytest.mark.slow
def test_full_run_writes_tables_and_figures(finished_run):
    workdir, _, elapsed = finished_run
    tables = (workdir / "results" / "tables.md").read_text()
    assert "synthetic" in tables.lower()
    for name in ("tables.tex", "metrics.json", "figures/rank1_by_view.png", "figures/rank1_by_view.pdf",
                 "figures/training_curves.png", "figures/comparison.png"):  # fmt: skip
        assert (workdir / "results" / name).stat().st_size > 0, name
    for ds, kp in VIEW_RUNS:
        assert (workdir / f"results/figures/view_heatmaps/{ds}/{kp}.png").stat().st_size > 0
    assert not (workdir / "results/figures/view_heatmaps/gait3d").exists()  # no views: no heat map
    summary_rows = json.loads((workdir / "results" / "metrics.json").read_text())["rows"]
    ours = {(r["dataset"], r["keypoints"], r["convention"], r["condition"]) for r in summary_rows
            if r["experiment"] == "gaitgraph2"}
    expected = {("casia-b", "hrnet", "exclude_identical", c) for c in ("NM#5-6", "BG#1-2", "CL#1-2")}
    expected |= {("oumvlp-pose", kp, "gaitgraph2", "NM") for kp in ("openpose", "alphapose")}
    expected |= {("gait3d", "hrnet", "official", m) for m in ("rank1", "rank5", "rank10", "mAP", "mINP")}
    expected |= {("grew", "hrnet", "local_heldout", m) for m in ("rank1", "rank20", "mAP")}
    assert expected <= ours, expected - ours
    assert "NOT the official GREW number" in tables
    for ds, kp in RUNS:
        assert re.search(rf"{re.escape(ds)}.*{kp}|{kp}.*{re.escape(ds)}", tables, re.I | re.S), (ds, kp)
    for condition in ("NM#5-6", "BG#1-2", "CL#1-2"):
        assert condition in tables
    # the 10-minute budget is a speed target: benchmarks/bench_pipeline.py measures it (no timed tests)


@pytest.mark.slow
def test_grew_submission_file_ranks_gallery_subjects_for_every_withheld_probe(finished_run):
    workdir = finished_run[0]
    sub = pd.read_csv(workdir / "results/submission/grew/hrnet/gaitgraph2/seed0.csv", dtype=str)
    assert list(sub.columns) == ["videoId", *(f"rank{k}" for k in range(1, 21))]
    probes = [p.name for p in (workdir / "resources/synthetic/grew/test/probe").iterdir() if p.is_dir()]
    assert sorted(sub["videoId"]) == sorted(probes)
    gallery = {int(p.name) for p in (workdir / "resources/synthetic/grew/test/gallery").iterdir() if p.is_dir()}
    assert set(sub.drop(columns="videoId").astype(int).to_numpy().ravel()) <= gallery


@pytest.mark.slow
def test_history_has_the_contract_columns(finished_run):
    workdir, _, _ = finished_run
    for ds, kp in RUNS:
        history = pd.read_csv(workdir / f"results/train/{ds}/{kp}/gaitgraph2/seed0/history.csv")
        assert list(history.columns) == list(runs.HISTORY_COLUMNS) and len(history) >= 1


@pytest.mark.slow
def test_second_run_does_nothing_fast(finished_run):
    workdir, _, _ = finished_run
    start = time.monotonic()
    r = snakemake(workdir, "-n")
    elapsed = time.monotonic() - start
    assert NOTHING_TO_BE_DONE in r.stdout + r.stderr
    print(f"\nno-op dry run: {elapsed:.1f} s")  # speed: benchmarks/bench_pipeline.py


def _pending(table: pd.DataFrame) -> set[str]:
    return set(table.loc[table["plan"] != "no update", "output_file"])


@pytest.mark.slow
def test_hyperparameter_change_reruns_only_the_affected_trainings(finished_run):
    workdir, _, _ = finished_run
    cfg = write_config(workdir, "lr.yaml", lambda c: c["datasets"]["casia-b"]["train"].update(learning_rate=0.001))
    pending = _pending(summary(workdir, "--configfile", cfg))
    casia = "results/train/casia-b/hrnet/gaitgraph2/seed0"
    assert {f"{casia}/model.ckpt", f"{casia}/history.csv",
            "results/evaluate/casia-b/hrnet/gaitgraph2/seed0/metrics.json", "results/tables.md"} <= pending  # fmt: skip
    assert not any(p.startswith(("results/train/oumvlp-pose", "results/evaluate/oumvlp-pose")) for p in pending)
    assert not any(p.startswith(("results/data/", "resources/")) for p in pending)
    assert "results/figures/view_heatmaps/oumvlp-pose/openpose.png" not in pending


@pytest.mark.slow
def test_normalization_change_reruns_from_normalization_down(finished_run):
    workdir, _, _ = finished_run
    cfg = write_config(workdir, "norm.yaml", lambda c: c["datasets"]["casia-b"].update(normalization="center-scale"))
    pending = _pending(summary(workdir, "--configfile", cfg))
    assert {"results/data/normalized/casia-b/hrnet", "results/train/casia-b/hrnet/gaitgraph2/seed0/model.ckpt",
            "results/evaluate/casia-b/hrnet/gaitgraph2/seed0/metrics.json"} <= pending  # fmt: skip
    assert "results/data/converted/casia-b/hrnet" not in pending
    assert not any(p.startswith("resources/") for p in pending)
    assert not any("oumvlp-pose" in p and "figures" not in p for p in pending)


@pytest.mark.slow
def test_report(finished_run):
    workdir, _, _ = finished_run
    snakemake(workdir, "--report", "results/report.html")
    html = (workdir / "results" / "report.html").read_text(errors="replace")
    assert "tables.md" in html and "rank1_by_view.png" in html and "seed0.csv" in html


@pytest.mark.slow
def test_benchmark_on_top_of_the_default_run(finished_run, tmp_path):
    """results/benchmark.md reuses the default target's GaitGraph2 runs, trains the other trainable methods,
    and every method is in the table and in the report."""
    workdir = tmp_path / "wf"
    shutil.copytree(finished_run[0], workdir, symlinks=True)
    start = time.monotonic()
    r = snakemake(workdir, "--cores", "2", "--show-failed-logs", "benchmark")
    print(f"\nbenchmark on top of the embedded default, --cores 2: {time.monotonic() - start:.0f} s")
    assert not re.search(r"train_model.*gaitgraph2|gaitgraph2/seed0/model\.ckpt", r.stdout + r.stderr)
    md = (workdir / "results" / "benchmark.md").read_text()
    summary = json.loads((workdir / "results" / "benchmark.json").read_text())
    titles = {m.name: m.title for m in trainable_methods()}
    expected = {(titles[m], ds) for m, ds in expected_benchmark_runs()}
    assert {(c["method"], c["dataset"]) for c in summary["ours"] if c["mean"] is not None} == expected
    for m in trainable_methods():
        assert f"| {m.title} " in md and m.name in md
    assert "SYNTHETIC DATA" in md and (workdir / "results/figures/benchmark.png").stat().st_size > 0
    for m, ds in expected_benchmark_runs():
        if ds == "grew":
            assert (workdir / f"results/submission/grew/hrnet/{m}/seed0.csv").stat().st_size > 0
    snakemake(workdir, "--report", "results/report.html", "benchmark")
    html = (workdir / "results" / "report.html").read_text(errors="replace")
    assert "benchmark.md" in html and all(m.name in html for m in trainable_methods())


@pytest.mark.slow
def test_activation_gifs(finished_run):
    """The embedded default draws one activation GIF per dataset x keypoints, one GIF frame per pose frame."""
    from PIL import Image

    workdir = finished_run[0]
    for ds, kp in RUNS:
        gifs = list((workdir / f"results/figures/activations/{ds}/{kp}").glob("*.gif"))
        assert len(gifs) == 1, (ds, kp, gifs)
        with Image.open(gifs[0]) as gif:
            assert gif.n_frames > 1


@pytest.mark.slow
def test_interrupted_training_resumes(finished_run, tmp_path):
    """A training killed after its last checkpoint: the rerun resumes instead of starting over."""
    workdir = tmp_path / "wf"
    shutil.copytree(finished_run[0], workdir, symlinks=True)
    run = workdir / "results/train/oumvlp-pose/openpose/gaitgraph2/seed0"
    stamp = json.loads((run / "run" / runs.STAMP).read_text())
    (run / "run" / runs.STAMP).write_text(json.dumps(dict(stamp, finished=False)))
    for name in ("model.ckpt", "history.csv"):
        (run / name).unlink()
    snakemake(workdir, "--cores", "2", str(run.relative_to(workdir) / "model.ckpt"))
    log = (workdir / "results/logs/train_model/oumvlp-pose/openpose/gaitgraph2/seed0.log").read_text()
    assert "resuming run in" in log and "auto-resume" in log
    assert (run / "model.ckpt").exists() and (run / "history.csv").exists()
