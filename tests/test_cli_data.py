"""gaitgraph-data command line: every subcommand through main(argv), errors as one line + exit 2."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from gaitgraph.cli.data import build_parser, main
from gaitgraph.data.format import load_dataset
from test_data_casia_b import row as casia_row, small_rows, write as write_csv  # sibling test module (tests/ is on sys.path)
from test_data_oumvlp import make_tree, write_id_list


def test_convert_casia_b_normalize_and_info(tmp_path, capsys):
    csv = write_csv(tmp_path, small_rows() + ["./001-zz-01-000/000001.jpg,1"])
    out = tmp_path / "conv"
    assert main(["convert", "casia-b", "--input", str(csv), "--output", str(out), "--test-from", "2", "--synthetic", "--quiet"]) == 0
    ds = load_dataset(out)
    assert ds.meta["synthetic"] is True and set(ds.sequences.split) == {"test"} | {"train"}
    err = capsys.readouterr().err
    assert "Skipped 1 rows: 1 wrong number of values" in err and err.count("\n") == 1  # one summary, no per-row lines

    assert main(["normalize", "--input", str(out), "--output", str(tmp_path / "norm"), "--mode", "center-scale", "--quiet"]) == 0
    assert main(["normalize", "--input", str(out), "--output", str(tmp_path / "x"), "--mode", "center-scale",
                 "--fill-missing-joints"]) == 2
    assert "--fill-missing-joints needs --mode none" in capsys.readouterr().err and not (tmp_path / "x").exists()
    assert main(["normalize", "--input", str(out), "--output", str(tmp_path / "filled"), "--mode", "none",
                 "--fill-missing-joints", "--quiet"]) == 0
    assert load_dataset(tmp_path / "filled").meta["normalization"]["fill_missing_joints"] is True
    assert load_dataset(tmp_path / "norm").meta["normalization"]["mode"] == "center-scale"

    assert main(["info", str(tmp_path / "norm"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["sequences"] == 3 and info["frames"] == 8 and info["normalization"]["mode"] == "center-scale"
    assert info["split"] == {"test": {"sequences": 1, "frames": 2}, "train": {"sequences": 2, "frames": 6}}
    assert info["view"]["18"] == {"sequences": 1, "frames": 3}
    assert info["stats"] == {"wrong number of values": 1}
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "3 sequences, 8 frames" in text and "missing joints: 0 %" in text


def test_convert_oumvlp_pose(tmp_path):
    root = make_tree(tmp_path / "root", "alphapose")
    ids = write_id_list(tmp_path / "ID_list.csv")
    rc = main(["convert", "oumvlp-pose", "--input", str(root), "--keypoints", "alphapose", "--id-list", str(ids),
               "--output", str(tmp_path / "out"), "--quiet"])
    assert rc == 0 and load_dataset(tmp_path / "out").meta["keypoints"] == "alphapose"


def test_errors_are_one_line_and_exit_2(tmp_path, capsys):
    assert main(["convert", "casia-b", "--input", str(tmp_path / "none.csv"), "--output", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gaitgraph-data convert: error:") and "data.zip" in err and "Traceback" not in err
    csv = write_csv(tmp_path, small_rows() + [casia_row(1, "nm", 2, 0, 5)])  # duplicate frame
    assert main(["convert", "casia-b", "--input", str(csv), "--output", str(tmp_path / "o"), "--strict", "--quiet"]) == 2
    assert "casia-b_pose_coco.csv:10" in capsys.readouterr().err and not (tmp_path / "o").exists()
    assert main(["info", str(tmp_path)]) == 2
    assert "not a converted dataset" in capsys.readouterr().err


def test_argument_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["normalize", "--input", "a", "--output", "b", "--mode", "zscore"])
    assert e.value.code == 2


def test_missing_subcommand_modules_are_skipped(monkeypatch):
    real = importlib.import_module

    def fake(name, *a):
        if name == "gaitgraph.cli.data_show":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real(name, *a)

    monkeypatch.setattr("gaitgraph.cli.data.importlib.import_module", fake)
    names = build_parser()._subparsers._group_actions[0].choices
    assert {"convert", "normalize", "synthesize", "info"} <= set(names) and "show" not in names


def test_synthesize_forwards_only_given_options(tmp_path, monkeypatch):
    import gaitgraph.data.synthetic as synthetic

    calls = []
    monkeypatch.setattr(synthetic, "synthesize_casia_b", lambda out, **kw: calls.append((out, kw)), raising=False)
    monkeypatch.setattr(synthetic, "synthesize_oumvlp", lambda out, **kw: calls.append((out, kw)), raising=False)
    assert main(["synthesize", "casia-b", "--output", str(tmp_path / "x.csv"), "--quiet"]) == 0
    assert main(["synthesize", "oumvlp-pose", "--output", str(tmp_path / "r"), "--subjects", "3", "--seed", "7"]) == 0
    assert calls == [(tmp_path / "x.csv", {"progress": False}), (tmp_path / "r", {"progress": True, "subjects": 3, "seed": 7})]


@pytest.mark.skipif(importlib.util.find_spec("gaitgraph.data.synthetic") is None, reason="no synthetic generator yet")
def test_synthetic_casia_b_goes_through_the_real_reader(tmp_path):
    csv = tmp_path / "casia-b_pose_coco.csv"
    assert main(["synthesize", "casia-b", "--output", str(csv), "--subjects", "1", "--seed", "0", "--quiet"]) == 0
    assert main(["convert", "casia-b", "--input", str(csv), "--output", str(tmp_path / "d"), "--synthetic", "--strict", "--quiet"]) == 0
    ds = load_dataset(tmp_path / "d")
    assert len(ds) > 0 and ds.meta["synthetic"] is True and np.isfinite(ds.poses).all()

