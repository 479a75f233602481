"""Tables of one evaluation, ``evaluate_checkpoint`` end to end on a tiny dataset, and ``gaitgraph evaluate``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import CASIA_VIEWS, OUMVLP_VIEWS
from gaitgraph.evaluation.protocols import evaluate
from gaitgraph.evaluation.report import metrics_latex, metrics_markdown
from gaitgraph.table_format import latex_escape, markdown_table



def casia_metrics(synthetic=True):
    rows = [(s, c, q, v) for s in (75, 76, 77) for c, n in (("nm", 6), ("bg", 2), ("cl", 2))
            for q in range(1, n + 1) for v in CASIA_VIEWS]
    df = pd.DataFrame(rows, columns=["subject", "condition", "sequence", "view"])
    emb = np.eye(200)[df.subject]
    # BG probes of subject 75 look like subject 76: BG = 2/3 right in every cell
    bg75 = ((df.condition == "bg") & (df.subject == 75)).to_numpy()
    emb[bg75] = np.eye(200)[np.full(bg75.sum(), 76)]
    out = evaluate(emb, df, "casia-b")
    return {"dataset": "casia-b", "keypoints": "hrnet", "skeleton": "coco17", "synthetic": synthetic,
            "checkpoint": "runs/x/model.ckpt", "tta": True, "method": "GaitGraph2", "experiment": "gaitgraph2",
            "seed": 0, **out}


def oumvlp_metrics():
    rows = [(s, "nm", q, v) for s in (1, 2, 3, 4) for v in OUMVLP_VIEWS for q in (0, 1)]
    df = pd.DataFrame(rows, columns=["subject", "condition", "sequence", "view"])
    out = evaluate(np.eye(8)[df.subject], df, "oumvlp-pose")
    return {"dataset": "oumvlp-pose", "keypoints": "alphapose", "skeleton": "openpose18", "synthetic": False,
            "tta": True, **out}


def table_lines(md: str, first_cell: str) -> list[str]:
    return [line for line in md.splitlines() if line.startswith(f"| {first_cell}")]


def test_markdown_table_columns_line_up():
    t = markdown_table(["a", "bb"], [["long name", "1.0"], ["x", "100.0"]])
    lines = t.splitlines()
    assert len({len(line) for line in lines}) == 1  # padded: every line equally long
    assert lines[1].startswith("| ---") and lines[1].endswith(": |")  # numbers right-aligned


def test_casia_markdown_rows_and_values():
    md = metrics_markdown(casia_metrics())
    assert "SYNTHETIC" in md
    assert md.count("## Convention") == 2
    assert "`exclude_identical`" in md and "`include_identical`" in md
    header = table_lines(md, "probe")[0]
    assert [c.strip() for c in header.strip("|").split("|")] == ["probe"] + [str(v) for v in CASIA_VIEWS] + ["mean"]
    nm = table_lines(md, "NM#5-6")[0]
    bg = table_lines(md, "BG#1-2")[0]
    cells = [c.strip() for c in bg.strip("|").split("|")]
    assert cells[1:] == ["66.7"] * 12  # 2 of 3 subjects right, 1 decimal
    assert nm.count("100.0") == 12
    assert "mean 88.89 %" in md  # (100 + 66.67 + 100) / 3 with 2 decimals in the heading


def test_oumvlp_markdown_has_matrix_with_means():
    md = metrics_markdown(oumvlp_metrics())
    assert "SYNTHETIC" not in md
    assert "`gaitgraph2`" in md and "`opengait`" in md
    rows = table_lines(md, "0 ")
    assert len(rows) == 2  # gallery view 0 in both conventions' matrices
    gg2_row = [c.strip() for c in rows[0].strip("|").split("|")]
    og_row = [c.strip() for c in rows[1].strip("|").split("|")]
    assert len(gg2_row) == 1 + 14 + 1 and gg2_row[1] == "100.0"  # identical view included
    assert og_row[1] == "–"  # excluded in the OpenGait convention
    assert len(table_lines(md, "mean")) == 2


def test_latex_is_booktabs_and_escaped():
    tex = metrics_latex(casia_metrics())
    assert tex.count(r"\begin{tabular}") == 2 and tex.count(r"\toprule") == 2 and tex.count(r"\bottomrule") == 2
    assert r"NM\#5-6" in tex and "SYNTHETIC" in tex
    assert r"\textbf{88.9}" not in tex  # bold only on each row's mean
    assert r"\textbf{66.7}" in tex
    assert latex_escape("a_b 50%") == r"a\_b 50\%"
    tex = metrics_latex(oumvlp_metrics())
    assert tex.count(r"\begin{table}") == 2 and "--" in tex  # excluded diagonal cells


# ---------------------------------------------------------------- evaluate_checkpoint and the CLI


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory):
    """2 test subjects x views 0, 90: 16 gallery and 24 probe sequences (kept small: CPU embedding)."""
    from conftest import make_pose_dataset

    return make_pose_dataset(tmp_path_factory.mktemp("data") / "casia-b", num_subjects=4, num_train=2,
                             length_range=(12, 24))


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    torch = pytest.importorskip("torch")
    from gaitgraph.checkpoints import ModelSpec, save_checkpoint

    torch.manual_seed(0)
    spec = ModelSpec(backbone="resgcn-n21-r8", skeleton="coco17", sequence_length=16)
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "model.ckpt", spec.create_model().eval(), spec)


def test_evaluate_checkpoint_writes_metrics_and_tables(small_dataset, tiny_checkpoint, tmp_path):
    from gaitgraph.evaluation.evaluate_checkpoint import evaluate_checkpoint
    from gaitgraph.evaluation.metrics_file import config_hash

    out = tmp_path / "eval" / "metrics.json"
    m = evaluate_checkpoint(tiny_checkpoint, small_dataset, out, batch_size=32, seed=3, progress=False)
    on_disk = json.loads(out.read_text())
    assert on_disk == json.loads(json.dumps(m))
    for key in ("dataset", "keypoints", "skeleton", "synthetic", "checkpoint", "config_hash", "tta", "method",
                "experiment", "seed", "num_probe", "num_gallery", "conventions"):
        assert key in on_disk, key
    assert on_disk["dataset"] == "casia-b" and on_disk["synthetic"] is True and on_disk["seed"] == 3
    assert on_disk["embedding_dim"] == 384 and on_disk["tta"] is True
    assert on_disk["config_hash"] == config_hash(tiny_checkpoint)[0] and len(on_disk["config_hash"]) == 64
    assert on_disk["config_hash_source"] == "hyper_parameters"
    # 2 test subjects x views 0 and 90; gallery NM#1-4, probes 6 per subject and view
    assert on_disk["num_gallery"] == 2 * 4 * 2 and on_disk["num_probe"] == 2 * 6 * 2
    conv = on_disk["conventions"]["exclude_identical"]
    assert conv["views"] == [0, 90]
    assert all(0.0 <= conv["conditions"][c]["mean"] <= 100.0 for c in conv["conditions"])
    assert (tmp_path / "eval" / "metrics.md").read_text().startswith("# Rank-1")
    assert r"\toprule" in (tmp_path / "eval" / "metrics.tex").read_text()
    assert not list((tmp_path / "eval").glob(".*tmp*"))  # no temporary files left


def test_evaluate_checkpoint_rejects_wrong_split_and_skeleton(small_dataset, tiny_checkpoint, tmp_path):
    from gaitgraph.checkpoints import ModelSpec, save_checkpoint
    from gaitgraph.evaluation.evaluate_checkpoint import EvaluationError, evaluate_checkpoint

    with pytest.raises(EvaluationError, match="no sequence in split 'val'"):
        evaluate_checkpoint(tiny_checkpoint, small_dataset, tmp_path / "m.json", split="val", progress=False)
    spec = ModelSpec(backbone="resgcn-n21-r8", skeleton="openpose18", sequence_length=16)
    other = save_checkpoint(tmp_path / "op.ckpt", spec.create_model(), spec)
    with pytest.raises(EvaluationError, match="skeleton openpose18"):
        evaluate_checkpoint(other, small_dataset, tmp_path / "m.json", progress=False)
    assert not (tmp_path / "m.json").exists()


def test_cli_evaluate(small_dataset, tiny_checkpoint, tmp_path, capsys):
    from gaitgraph.cli.evaluate import main

    out = tmp_path / "metrics.json"
    rc = main(["--checkpoint", str(tiny_checkpoint), "--data", str(small_dataset), "--output", str(out),
               "--no-tta", "--batch-size", "64", "--method", "GaitGraph2", "--experiment", "ablation", "--seed", "7"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "| NM#5-6" in printed and "`exclude_identical`" in printed
    m = json.loads(out.read_text())
    assert (m["tta"], m["embedding_dim"], m["experiment"], m["seed"]) == (False, 128, "ablation", 7)

    rc = main(["--checkpoint", str(tmp_path / "missing.ckpt"), "--data", str(small_dataset), "--output", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and "error" in err and "missing.ckpt" in err
    rc = main(["--checkpoint", str(tiny_checkpoint), "--data", str(tmp_path), "--output", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and "not a converted dataset" in err
    with pytest.raises(SystemExit) as e:
        main(["--checkpoint", "x", "--data", "y", "--output", "z", "--device", "nonsense"])
    assert e.value.code == 2
    import torch

    if not torch.cuda.is_available():
        assert main(["--checkpoint", "x", "--data", "y", "--output", "z", "--device", "cuda"]) == 2
        assert "no CUDA device" in capsys.readouterr().err


def test_main_dispatches_evaluate(capsys):
    from gaitgraph.cli.main import main

    with pytest.raises(SystemExit) as e:
        main(["evaluate", "--help"])
    assert e.value.code == 0
    assert "--checkpoint" in capsys.readouterr().out


def test_retrieval_conventions_render_their_metrics():
    t = pd.DataFrame({"subject": [1, 1, 2, 2], "role": ["probe", "gallery", "probe", "gallery"]})
    m = {"dataset": "gait3d", "keypoints": "hrnet", "skeleton": "coco17", "tta": True,
         **evaluate(np.eye(3)[[1, 1, 1, 2]], t, "gait3d")}  # probe 2 looks like subject 1: rank-1 50 %
    md = metrics_markdown(m)
    assert md.startswith("# Rank-k, mAP, mINP (%) — gait3d") and "Convention `official` — rank-1 50.00 %" in md
    assert [c.strip() for c in md.split("| ------ |")[1].splitlines()[1].split("|")[1:6]] == [
        "50.00", "100.00", "100.00", "75.00", "75.00"]  # rank-1, 5, 10, mAP, mINP
    assert r"\begin{tabular}{lrrrr}" in metrics_latex(m)
    grew = {"dataset": "grew", "keypoints": "hrnet", "conventions": {"official": {
        "kind": "retrieval", "description": "d", "metrics": None, "mean": None, "num_gallery": 4, "num_probe": 3}}}
    assert "not scored here" in metrics_markdown(grew) and "not scored here" in metrics_latex(grew)


def test_gaitgraph1_checkpoints_use_v1s_own_test_set_by_default(small_dataset, tiny_checkpoint, tmp_path):
    """GaitGraph v1 drops sequences of <= sequence_length frames from the test set as well (src/datasets/gait.py,
    src/evaluate.py): `auto` applies that to v1 checkpoints, `all` keeps every sequence (the named alternative)."""
    from gaitgraph.checkpoints import ModelSpec, save_checkpoint
    from gaitgraph.cli.evaluate import main
    from gaitgraph.data.format import load_dataset
    from gaitgraph.evaluation.evaluate_checkpoint import EvaluationError, evaluate_checkpoint

    spec = ModelSpec(backbone="resgcn-n21-r8", skeleton="coco17", num_branches=1, in_channels=3, multi_input=False,
                     l2_normalize=True, sequence_length=16)
    g1 = save_checkpoint(tmp_path / "g1.ckpt", spec.create_model().eval(), spec)
    table = load_dataset(small_dataset).sequences
    test = table[table["split"] == "test"]
    long = test[test["length"] > 16]
    assert 0 < len(long) < len(test)  # lengths 12-24: some short ones to leave out
    gallery = lambda t: int(((t["condition"] == "nm") & (t["sequence"] <= 4)).sum())  # noqa: E731

    v1 = evaluate_checkpoint(g1, small_dataset, tmp_path / "v1.json", tta=False, progress=False)
    assert v1["test_set"] == {**v1["test_set"], "name": "gaitgraph1", "min_length": 17,
                              "num_sequences_total": len(test), "num_left_out": len(test) - len(long)}
    assert v1["num_sequences"] == len(long) and v1["num_gallery"] == gallery(long)
    assert v1["num_probe"] == len(long) - gallery(long)
    assert "left out" in (tmp_path / "v1.md").read_text()

    assert main(["--checkpoint", str(g1), "--data", str(small_dataset), "--output", str(tmp_path / "all.json"),
                 "--no-tta", "--test-set", "all", "--quiet"]) == 0
    every = json.loads((tmp_path / "all.json").read_text())
    assert every["test_set"]["name"] == "all" and every["num_sequences"] == len(test)
    assert every["test_set"]["num_left_out"] == 0 and every["num_gallery"] == gallery(test)

    g2 = evaluate_checkpoint(tiny_checkpoint, small_dataset, tmp_path / "g2.json", progress=False)  # GaitGraph2: all
    assert g2["test_set"]["name"] == "all" and g2["num_sequences"] == len(test)
    forced = evaluate_checkpoint(tiny_checkpoint, small_dataset, tmp_path / "g2v1.json", progress=False,
                                 test_set="gaitgraph1")
    assert forced["num_sequences"] == len(long) and forced["test_set"]["min_length"] == 17
    with pytest.raises(EvaluationError, match="at least 61 frames"):
        spec.sequence_length = 60
        evaluate_checkpoint(save_checkpoint(tmp_path / "g1_60.ckpt", spec.create_model(), spec), small_dataset,
                            tmp_path / "none.json", progress=False)
