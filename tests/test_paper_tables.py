"""Paper tables: mean ± std over seeds, the synthetic banner, the one-run case, published numbers as data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import CASIA_VIEWS, OUMVLP_VIEWS
from gaitgraph.evaluation.protocols import evaluate
from gaitgraph.datasets import all_published as published
from gaitgraph.paper.tables import build_paper_tables, pm
from gaitgraph.stats import mean_std



def casia_run(n_wrong_bg: int, seed, synthetic=True) -> dict:
    """4 test subjects; ``n_wrong_bg`` of them have BG probes that look like another subject:
    BG rank-1 = (4 - n_wrong_bg) / 4 in every cell, NM and CL 100 %."""
    rows = [(s, c, q, v) for s in (75, 76, 77, 78) for c, n in (("nm", 6), ("bg", 2), ("cl", 2))
            for q in range(1, n + 1) for v in CASIA_VIEWS]
    df = pd.DataFrame(rows, columns=["subject", "condition", "sequence", "view"])
    codes = df.subject.to_numpy().copy()
    for s in range(75, 75 + n_wrong_bg):
        codes[((df.condition == "bg") & (df.subject == s)).to_numpy()] = 90 + s
    out = evaluate(np.eye(200)[codes], df, "casia-b")
    return {"dataset": "casia-b", "keypoints": "hrnet", "skeleton": "coco17", "synthetic": synthetic,
            "checkpoint": f"results/train/seed{seed}/model.ckpt", "config_hash": "ab" * 32, "tta": True,
            "method": "GaitGraph2", "experiment": "gaitgraph2", "seed": seed, **out}


def oumvlp_run(seed, synthetic=True) -> dict:
    rows = [(s, "nm", q, v) for s in (1, 2, 3, 4) for v in OUMVLP_VIEWS for q in (0, 1)]
    df = pd.DataFrame(rows, columns=["subject", "condition", "sequence", "view"])
    out = evaluate(np.eye(8)[df.subject], df, "oumvlp-pose")
    return {"dataset": "oumvlp-pose", "keypoints": "alphapose", "skeleton": "openpose18", "synthetic": synthetic,
            "checkpoint": "m.ckpt", "tta": True, "method": "GaitGraph2", "experiment": "gaitgraph2", "seed": seed, **out}


def write_runs(tmp_path, runs):
    files = []
    for i, m in enumerate(runs):
        f = tmp_path / f"run{i}" / "metrics.json"
        f.parent.mkdir()
        f.write_text(json.dumps(m))
        files.append(f)
    return files


def build(tmp_path, runs):
    files = write_runs(tmp_path, runs)
    out = tmp_path / "results"
    summary = build_paper_tables(files, out / "tables.md", out / "tables.tex", out / "metrics.json")
    return summary, (out / "tables.md").read_text(), (out / "tables.tex").read_text(), json.loads((out / "metrics.json").read_text())


def row(summary, **kw):
    hits = [r for r in summary["rows"] if all(r[k] == v for k, v in kw.items())]
    assert len(hits) == 1, (kw, hits)
    return hits[0]


def test_mean_std_helpers():
    assert mean_std([1.0, 3.0]) == (2.0, pytest.approx(np.sqrt(2)), 2)  # ddof = 1
    assert mean_std([5.0, None]) == (5.0, None, 1)
    assert mean_std([None]) == (None, None, 0)
    assert pm(80.123, 1.25) == "80.1 ± 1.2" or pm(80.123, 1.25) == "80.1 ± 1.3"
    assert pm(80.0, None) == "80.0 ± –" and pm(None, None) == "–"


def test_two_seeds_mean_and_std(tmp_path):
    # BG: seed 0 has 1 wrong subject (75 %), seed 1 has 2 (50 %): mean 62.5, std (ddof 1) 17.68
    summary, md, tex, on_disk = build(tmp_path, [casia_run(1, 0), casia_run(2, 1)])
    assert on_disk == json.loads(json.dumps(summary))
    bg = row(on_disk, convention="exclude_identical", condition="BG#1-2")
    assert bg["n_runs"] == 2 and bg["seeds"] == [0, 1]
    assert bg["mean"] == pytest.approx(62.5) and bg["std"] == pytest.approx(np.std([75, 50], ddof=1), abs=1e-3)
    assert bg["per_view"]["90"] == [pytest.approx(62.5), pytest.approx(17.6777, abs=1e-3)]
    nm = row(on_disk, convention="exclude_identical", condition="NM#5-6")
    assert (nm["mean"], nm["std"]) == (100.0, 0.0)
    overall = row(on_disk, convention="exclude_identical", condition="mean")
    assert overall["mean"] == pytest.approx((100 + 62.5 + 100) / 3, abs=1e-3)
    assert {r["convention"] for r in on_disk["rows"]} == {"exclude_identical", "include_identical"}
    # Markdown: banner at the top, ours beside the paper's 82.0 / 73.2 / 63.6, per-view table
    first = md.split("\n## ")[0]
    assert "SYNTHETIC" in first and "they test the pipeline, not the method" in first
    ours = next(line for line in md.splitlines() if line.startswith("| GaitGraph2 / gaitgraph2") and "this pipeline" in line)
    assert "62.5 ± 17.7" in ours and "100.0 ± 0.0" in ours and "2 (seed 0, 1)" in ours
    paper = next(line for line in md.splitlines() if line.startswith("| GaitGraph2 ") and "| paper" in line)
    assert all(x in paper for x in ("82.0", "73.2", "63.6", "72.93"))
    assert "### Per probe view — ours" in md and "identical views **excluded**" in md
    assert md.count("| BG#1-2") >= 2  # ours per view + GaitGraph v1 per view
    assert "tteepe/GaitGraph README.md" in md  # sources listed
    assert r"62.5 $\pm$ 17.7" in tex and r"\toprule" in tex and "SYNTHETIC" in tex
    assert not list((tmp_path / "results").glob(".*"))  # atomic writes leave no temporary files


def test_single_run_shows_no_spread_and_real_data_has_no_banner(tmp_path):
    summary, md, _, _ = build(tmp_path, [casia_run(1, 0, synthetic=False)])
    bg = row(summary, convention="exclude_identical", condition="BG#1-2")
    assert bg["n_runs"] == 1 and bg["std"] is None and bg["mean"] == 75.0
    assert "75.0 ± –" in md and "1 (seed 0)" in md
    assert "SYNTHETIC" not in md and summary["synthetic"] is False


def test_groups_by_experiment_and_dataset(tmp_path):
    a, b = casia_run(0, 0), casia_run(2, 0)
    b["experiment"] = "no-tta"
    summary, md, _, _ = build(tmp_path, [a, b, oumvlp_run(0), oumvlp_run(1)])
    assert row(summary, experiment="gaitgraph2", dataset="casia-b", convention="exclude_identical",
               condition="BG#1-2")["mean"] == 100.0
    assert row(summary, experiment="no-tta", dataset="casia-b", convention="exclude_identical",
               condition="BG#1-2")["mean"] == 50.0
    og = row(summary, dataset="oumvlp-pose", convention="opengait", condition="NM")
    assert og["n_runs"] == 2 and og["mean"] == 100.0 and og["std"] == 0.0
    assert md.index("## CASIA-B") < md.index("## OUMVLP-Pose")


def test_oumvlp_published_numbers_sit_in_their_convention_column(tmp_path):
    _, md, _, on_disk = build(tmp_path, [oumvlp_run(0)])
    lines = md.splitlines()
    header = next(line for line in lines if line.startswith("| result") and "OpenGait conv." in line)
    cols = [c.strip() for c in header.strip("|").split("|")]
    gi, oi = cols.index("GaitGraph2 conv."), cols.index("OpenGait conv.")

    def cells(pred):
        line = next(line for line in lines if line.startswith("| ") and pred(line))
        return [c.strip() for c in line.strip("|").split("|")]

    og_zoo = cells(lambda line: "GaitGraph2 (OpenGait zoo)" in line and "remap" not in line)
    assert og_zoo[oi] == "62.1" and og_zoo[gi] == "–"
    fpg = cells(lambda line: "GaitGraph2 (FastPoseGait, vanilla)" in line)
    assert fpg[oi] == "62.11" and fpg[gi] == "–"
    paper = cells(lambda line: line.startswith("| GaitGraph2 ") and "| paper" in line)
    assert paper[gi] == "62.1 (unverified)" and paper[oi] == "–"
    ours = cells(lambda line: "this pipeline" in line)
    assert ours[gi] == "100.0 ± –" and ours[oi] == "100.0 ± –"
    assert "49.02" not in md  # OpenPose keypoints: another section
    assert "identical views **included**" in md and "identical views **excluded**" in md
    assert any(p["method"] == "GaitGraph2 (FastPoseGait, vanilla)" and p["values"] == {"NM": 62.11}
               for p in on_disk["published"])


def test_bad_metrics_files(tmp_path):
    f = tmp_path / "m.json"
    f.write_text(json.dumps({"dataset": "casia-b"}))
    with pytest.raises(ValueError, match="lacks keypoints, conventions"):
        build_paper_tables([f], tmp_path / "t.md", tmp_path / "t.tex", tmp_path / "s.json")
    with pytest.raises(ValueError, match="no metrics files"):
        build_paper_tables([], tmp_path / "t.md", tmp_path / "t.tex", tmp_path / "s.json")
    assert not (tmp_path / "t.md").exists()


def test_published_numbers_are_sourced_data():
    for p in published():
        assert p.source and p.dataset in ("casia-b", "oumvlp-pose", "gait3d", "grew")
        conventions = {"casia-b": {"exclude_identical"}, "oumvlp-pose": {"gaitgraph2", "opengait"}}
        assert p.convention in conventions.get(p.dataset, {"official"})
        assert all(0 < v <= 100 for v in p.values.values())
    gg2 = next(p for p in published("casia-b") if p.method == "GaitGraph2" and p.kind == "paper")
    assert gg2.values == {"NM#5-6": 82.0, "BG#1-2": 73.2, "CL#1-2": 63.6} and gg2.mean == pytest.approx(72.93)
    gg1 = next(p for p in published("casia-b") if p.per_view)
    for cond, mean in gg1.values.items():  # the README's per-view table averages to its means
        assert np.mean(list(gg1.per_view[cond].values())) == pytest.approx(mean, abs=0.06)
    unverified = [p for p in published() if not p.verified]
    assert [(p.method, p.dataset) for p in unverified] == [("GaitGraph2", "oumvlp-pose")]
    assert {p.values["NM"] for p in published("oumvlp-pose", keypoints="openpose", convention="opengait") if p.layout == "openpose18"} == {49.02}


def test_software_environments_are_listed_once_with_their_run_counts(tmp_path):
    env_a = {"python": "3.11.7", "packages": {"torch": "2.13.0+cpu", "numpy": "2.4.6"}, "cuda": None,
             "gaitgraph": {"version": "0.1.0", "commit": "a" * 40, "dirty": False}}
    env_b = {**env_a, "packages": {"torch": "2.13.0", "numpy": "2.4.6"}, "cuda": "13.0", "gpu": "NVIDIA H200"}
    runs = [casia_run(0, s) | {"environment": env_a, "training_environment": env_b} for s in (0, 1)]
    runs.append(casia_run(1, 2) | {"environment": env_a})  # e.g. an original checkpoint: no training record
    summary, md, _, on_disk = build(tmp_path, runs)
    section = md[md.index("## Software environment"):]
    assert section.count("torch 2.13.0+cpu") == 1 and section.count("NVIDIA H200") == 1
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in section.splitlines() if line.startswith("|")]
    assert ["evaluation", "3", "gaitgraph 0.1.0 @ aaaaaaaaaa · python 3.11.7 · torch 2.13.0+cpu · numpy 2.4.6 · no CUDA"] in cells
    assert ["training", "1", "not recorded"] in cells
    assert ["training", "2", "gaitgraph 0.1.0 @ aaaaaaaaaa · python 3.11.7 · torch 2.13.0 · numpy 2.4.6 · CUDA 13.0 · NVIDIA H200"] in cells
    assert sorted((e["role"], e["runs"]) for e in on_disk["environments"]) == [
        ("evaluation", 3), ("training", 1), ("training", 2)]


def gait3d_run(seed, wrong: int) -> dict:
    """Gait3D-shaped run: 4 test subjects with a probe and a gallery sequence; ``wrong`` probes look like
    the next subject, so rank-1 = (4 - wrong) / 4."""
    t = pd.DataFrame({"subject": [1, 1, 2, 2, 3, 3, 4, 4], "role": ["probe", "gallery"] * 4})
    codes = t.subject.to_numpy().copy()
    codes[[2 * i for i in range(wrong)]] += 1
    out = evaluate(np.eye(8)[codes], t, "gait3d")
    return {"dataset": "gait3d", "keypoints": "hrnet", "skeleton": "coco17", "synthetic": True, "checkpoint": "m.ckpt",
            "tta": True, "method": "GaitGraph2", "experiment": "gaitgraph2", "seed": seed, **out}


def grew_run(seed, wrong: int) -> dict:
    """GREW-shaped run: 4 held-out training subjects with a gallery and a probe sequence each (the local
    protocol), ``wrong`` probes look like the next subject; 2 withheld test probes (counted only)."""
    t = pd.DataFrame({"subject": [1, 1, 2, 2, 3, 3, 4, 4, -1, -1, 5, 6],
                      "split": ["heldout"] * 8 + ["test"] * 4,
                      "role": ["gallery", "probe"] * 4 + ["probe", "probe", "gallery", "gallery"]})
    codes = t.subject.to_numpy().copy() % 8
    codes[[2 * i + 1 for i in range(wrong)]] += 1
    out = evaluate(np.eye(8)[codes], t, "grew")
    return {"dataset": "grew", "keypoints": "hrnet", "skeleton": "coco17", "synthetic": True, "checkpoint": "m.ckpt",
            "tta": True, "method": "GaitGraph2", "experiment": "gaitgraph2", "seed": seed, **out}


def test_retrieval_runs_give_one_summary_row_per_metric(tmp_path):
    summary, md, _, _ = build(tmp_path, [gait3d_run(0, 1), gait3d_run(1, 2)])
    r1 = row(summary, dataset="gait3d", convention="official", condition="rank1")
    assert (r1["mean"], r1["n_runs"], r1["values"]) == (62.5, 2, [75.0, 50.0])
    assert {r["condition"] for r in summary["rows"]} == {"rank1", "rank5", "rank10", "mAP", "mINP"}  # no "mean" row
    assert any(p["dataset"] == "gait3d" for p in summary["published"])


def test_gait3d_and_grew_sections_put_ours_beside_the_published_rows(tmp_path):
    summary, md, tex, _ = build(tmp_path, [gait3d_run(0, 1), gait3d_run(1, 2), grew_run(0, 1)])
    gait3d = md.split("## Gait3D")[1].split("\n## ")[0]
    grew = md.split("## GREW")[1].split("\n## ")[0]
    # Gait3D: ours with every retrieval metric (mean ± std over 2 seeds), the published rank-1 rows beside
    ours = next(line for line in gait3d.splitlines() if "gaitgraph2" in line and "this pipeline" in line)
    assert "62.5 ± 17.7" in ours and "| 2 " in ours
    assert "GaitGraph2 (FastPoseGait, vanilla)" in gait3d and "11.2" in gait3d
    # GREW: the official protocol has the published numbers and no row of ours (withheld probes); the local
    # protocol has ours and is labelled as not the official number
    official, local = grew.split("local (held-out train subjects)")[0], grew.split("local (held-out train subjects)")[1]
    assert "GaitGraph2 (OpenGait zoo)" in official
    ours_official = next(line for line in official.splitlines() if "| this pipeline" in line)
    assert [c.strip() for c in ours_official.strip("|").split("|")][4:6] == ["0", "–"]  # n = 0, rank-1 empty
    assert "| this pipeline" in local and "75.0" in local and "NOT the official GREW number" in local
    assert row(summary, dataset="grew", convention="local_heldout", condition="rank1")["mean"] == 75.0
    assert not [r for r in summary["rows"] if r["dataset"] == "grew" and r["convention"] == "official"]
    assert "tab:grew-hrnet-local_heldout" in tex


def test_wild_published_numbers_are_rank1_of_the_official_protocol():
    for dataset in ("gait3d", "grew"):
        entries = published(dataset)
        assert entries and all(p.convention == "official" and p.layout == "coco17" and set(p.values) == {"rank1"}
                               and p.mean == p.values["rank1"] for p in entries)
    gg2 = {p.method: p.mean for p in published("gait3d") if p.method.startswith("GaitGraph2")}
    assert gg2 == {"GaitGraph2 (FastPoseGait, vanilla)": 11.20, "GaitGraph2 (FastPoseGait, improved)": 12.50,
                   "GaitGraph2 (OpenGait zoo)": 11.00}
    grew = {p.method: p.mean for p in published("grew")}
    assert grew["GaitGraph2 (OpenGait zoo)"] == 34.61 and grew["GPGait (FastPoseGait)"] == 57.04
    assert next(p for p in published("grew") if p.method == "GaitPT").std == {"rank1": 0.5}


def test_test_sets_and_the_fill_variant_are_labelled(tmp_path):
    """Issue 11: every row says which test sequences it was measured on; GaitGraph v1 runs on v1's protocol and
    runs trained on pre-filled joints (our variant) are rows of their own, labelled."""
    v1 = casia_run(1, 0) | {"method": "GaitGraph", "experiment": "gaitgraph1",
                            "test_set": {"name": "gaitgraph1", "min_length": 61, "num_left_out": 3}}
    v1_all = casia_run(2, 0) | {"method": "GaitGraph", "experiment": "gaitgraph1", "test_set": {"name": "all", "min_length": 1}}
    g2 = casia_run(0, 0)
    filled = casia_run(2, 1) | {"normalization": {"mode": "none", "fill_missing_joints": True}}
    summary, md, _, on_disk = build(tmp_path, [v1, v1_all, g2, filled])
    assert row(summary, method="GaitGraph", test_set="> 60 frames", condition="BG#1-2", convention="exclude_identical")["mean"] == 75.0
    assert row(summary, method="GaitGraph", test_set="all", condition="BG#1-2", convention="exclude_identical")["mean"] == 50.0
    assert row(summary, method="GaitGraph2", fill_before_training=True, condition="BG#1-2",
               convention="exclude_identical")["mean"] == 50.0
    assert row(summary, method="GaitGraph2", fill_before_training=False, condition="BG#1-2",
               convention="exclude_identical")["mean"] == 100.0
    lines = md.splitlines()
    header = [c.strip() for c in next(line for line in lines if line.startswith("| result")).strip("|").split("|")]
    ti = header.index("test set")

    def cells(pred):
        return [c.strip() for c in next(line for line in lines if line.startswith("| ") and pred(line)).strip("|").split("|")]

    assert cells(lambda line: "GaitGraph / gaitgraph1" in line and "75.0" in line)[ti] == "> 60 frames"
    assert cells(lambda line: "GaitGraph / gaitgraph1" in line and "50.0" in line)[ti] == "all"
    assert cells(lambda line: "GaitGraph (released model)" in line)[ti] == "> 60 frames"
    assert cells(lambda line: "GaitGraph2 (FastPoseGait, vanilla)" in line)[ti] == "all"
    assert cells(lambda line: "GaitGraph (FastPoseGait, vanilla)" in line)[ti] == "> 60 frames"
    assert "GaitGraph2 / gaitgraph2 [joints filled before training]" in md
    # every published row's protocol is stated under the table
    for p in published("casia-b"):
        assert f"- {p.method} ({p.keypoints}, {p.layout}): {p.test_set} — {p.test_protocol}" in md
    assert all(p["test_protocol"] for p in on_disk["published"])


def test_every_published_row_says_which_test_protocol_its_source_used():
    for p in published():
        assert p.test_set in ("all", "not stated") or p.test_set.startswith("> "), p
        assert p.test_protocol, p.method
    g1 = next(p for p in published("casia-b") if p.method == "GaitGraph (released model)")
    assert g1.test_set == "> 60 frames" and "src/datasets/gait.py" in g1.test_protocol
    assert all(p.test_set == "all" for p in published() if p.method.startswith("GaitGraph2"))
