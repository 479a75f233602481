"""One-line errors (issue 12): every user-caused failure ends with exit 2 and one line on stderr naming
the file, no traceback (unless --debug / GAITGRAPH_DEBUG=1), and leaves the user's files as they were."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gaitgraph.cli import data as data_cli
from gaitgraph.cli.boundary import guarded
from gaitgraph.data.errors import DataError
from gaitgraph.data.format import DatasetFormatError, load_dataset
from gaitgraph.data.oumvlp import read_id_list
from gaitgraph.data.synthetic import synthesize_casia_b

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
ENV.pop("GAITGRAPH_DEBUG", None)


def one_line_error(capsys, prog: str) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"{prog}: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    d = tmp_path_factory.mktemp("ds")
    synthesize_casia_b(d / "c.csv", subjects=1, progress=False)
    assert data_cli.main(["convert", "casia-b", "--input", str(d / "c.csv"), "--output", str(d / "conv"), "--quiet"]) == 0
    return d / "conv"


def copy_dataset(src: Path, dest: Path) -> Path:
    dest.mkdir()
    for p in src.iterdir():
        (dest / p.name).write_bytes(p.read_bytes())
    return dest


CORRUPTIONS = {
    "truncated poses.npy": ("poses.npy", lambda p: p.write_bytes(p.read_bytes()[:1000])),
    "poses.npy header only": ("poses.npy", lambda p: p.write_bytes(p.read_bytes()[:128])),
    "frames.npy of another length": ("frames.npy", lambda p: np.save(p, np.zeros(3, np.int32))),
    "poses.npy of another dtype": ("poses.npy", lambda p: np.save(p, np.load(p).astype(np.float64))),
    "pickled poses.npy": ("poses.npy", lambda p: np.save(p, np.array([{"a": 1}], dtype=object), allow_pickle=True)),
    "broken sequences.parquet": ("sequences.parquet", lambda p: p.write_bytes(b"PAR1 not really")),
    "sequences.parquet offsets outside": ("sequences.parquet", None),
    "broken meta.json": ("meta.json", lambda p: p.write_text("{broken")),
    "foreign meta.json": ("meta.json", lambda p: p.write_text(json.dumps({"format": "something-else"}))),
    "meta.json count disagrees": ("meta.json", lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "num_frames": 7}))),
    "missing frames.npy": ("frames.npy", lambda p: p.unlink()),
}


def _shift_offsets(p: Path) -> None:
    import pandas as pd

    t = pd.read_parquet(p)
    t.loc[t.index[-1], "offset"] += 10**6
    t.to_parquet(p, index=False)


@pytest.mark.parametrize("case", CORRUPTIONS)
def test_corrupt_datasets_are_a_named_one_line_error(dataset, tmp_path, capsys, case):
    name, damage = CORRUPTIONS[case]
    bad = copy_dataset(dataset, tmp_path / "bad")
    (damage or _shift_offsets)(bad / name)
    with pytest.raises(DatasetFormatError, match=name.replace(".", r"\.")):
        load_dataset(bad)
    with pytest.raises(DatasetFormatError, match=name.replace(".", r"\.")):
        load_dataset(bad, mmap=False)
    assert data_cli.main(["info", str(bad)]) == 2
    assert name in one_line_error(capsys, "gaitgraph-data info")
    out = tmp_path / "norm"
    assert data_cli.main(["normalize", "--input", str(bad), "--output", str(out), "--mode", "none", "--quiet"]) == 2
    one_line_error(capsys, "gaitgraph-data normalize")
    assert not out.exists()


@pytest.mark.parametrize("kind", ["alphapose", "openpose", "csv"])
def test_undecodable_import_inputs_name_the_file(tmp_path, capsys, kind):
    bad = tmp_path / ("bad_keypoints.json" if kind == "openpose" else f"bad.{'csv' if kind == 'csv' else 'json'}")
    head = b"image_name,nose_x\n" if kind == "csv" else b""
    bad.write_bytes(head + b"\xff\xfe\x00\x80 latin-1 \xe9t\xe9\n")
    assert data_cli.main(["import", kind, "--input", str(bad), "--output", str(tmp_path / "out"), "--quiet"]) == 2
    assert str(bad) in one_line_error(capsys, "gaitgraph-data import")
    assert sorted(p.name for p in tmp_path.iterdir()) == [bad.name]


@pytest.mark.parametrize("text, message", [
    ("OU-ISIR\n\n\n\n\ntrain\n1\n2\n3\n", "no test subject ids"),
    ("OU-ISIR\n\n\n\n\ntrain,test,extra\n1,2,9\n3,4,10\n", "line 7: 3 columns, expected exactly two"),
    ("train,test\n,2\n,4\n", "no train subject ids"),
])
def test_id_list_must_have_exactly_two_columns(tmp_path, text, message):
    p = tmp_path / "ID_list.csv"
    p.write_text(text)
    with pytest.raises(DataError, match=message):
        read_id_list(p)


def test_id_list_trailing_empty_cells_are_fine(tmp_path):
    p = tmp_path / "ID_list.csv"
    p.write_text("a\nb\nc\nd\ne\ntrain,test,\n1,2,\n3,,\n")
    assert read_id_list(p) == ({1, 3}, {2})


def test_confidences_outside_0_1_are_clipped_and_counted_or_an_error_with_strict(tmp_path, capsys):
    csv = synthesize_casia_b(tmp_path / "c.csv", subjects=1, progress=False)
    lines = csv.read_text().splitlines()
    cells = lines[5].split(",")
    cells[3], cells[6] = "-1000000000", "7.5"  # nose and left eye confidences
    lines[5] = ",".join(cells)
    csv.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    assert data_cli.main(["convert", "casia-b", "--input", str(csv), "--output", str(out), "--quiet"]) == 0
    ds = load_dataset(out)
    conf = np.asarray(ds.poses[..., 2])
    assert conf.min() >= 0 and conf.max() <= 1
    assert ds.meta["stats"]["confidences outside [0, 1] (clipped)"] == 2
    err = capsys.readouterr().err
    assert "Repaired: 2 confidences outside [0, 1] (clipped) (e.g. " in err and "c.csv:6)" in err
    assert data_cli.main(["convert", "casia-b", "--input", str(csv), "--output", str(out), "--quiet", "--strict"]) == 2
    assert "c.csv:6" in one_line_error(capsys, "gaitgraph-data convert")


def test_importers_clip_confidences_too(tmp_path):
    from gaitgraph.data.importers import import_poses

    people = [{"image_id": f"{i:04d}.jpg", "category_id": 1, "score": 2.0,
               "keypoints": [v for j in range(17) for v in (100 + j + i, 200 + 5 * j, 1.7 if j == 0 else 0.9)]}
              for i in range(12)]
    src = tmp_path / "alphapose-results.json"
    src.write_text(json.dumps(people))
    result = import_poses("alphapose", src, tmp_path / "out", progress=False)
    assert result.meta["stats"]["confidences outside [0, 1] (clipped)"] == 12
    assert float(np.asarray(load_dataset(tmp_path / "out").poses)[..., 2].max()) <= 1.0
    with pytest.raises(DataError, match="entry 0"):
        import_poses("alphapose", src, tmp_path / "out2", strict=True, progress=False)


def test_match_refuses_a_folder_output_before_any_work(tmp_path, capsys):
    from gaitgraph.cli import match

    (tmp_path / "ranked.csv").mkdir()
    # the checkpoint and datasets do not even exist: the output is checked first
    assert match.main(["--checkpoint", str(tmp_path / "none.ckpt"), "--gallery", "g", "--probe", "p",
                       "--output", str(tmp_path / "ranked.csv")]) == 2
    assert "ranked.csv is a folder" in one_line_error(capsys, "gaitgraph match")


def test_fit_with_a_missing_data_path_or_bad_checkpoints(tmp_path, capsys, tiny_dataset):
    from gaitgraph.cli import main as cli_main

    assert cli_main.main(["fit", "--data.data_path", str(tmp_path / "nowhere")]) == 2
    assert "nowhere does not exist" in one_line_error(capsys, "gaitgraph fit")
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"PK\x03\x04 cut short")
    assert cli_main.main(["test", "--data.data_path", str(tiny_dataset), "--ckpt_path", str(bad)]) == 2
    assert "bad.ckpt: truncated" in one_line_error(capsys, "gaitgraph test")
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "last.ckpt").write_bytes(b"")
    assert cli_main.main(["fit", "--data.data_path", str(tiny_dataset), "--trainer.default_root_dir", str(run)]) == 2
    assert "last.ckpt: empty" in one_line_error(capsys, "gaitgraph fit")


def test_debug_flag_and_variable_give_the_traceback(tmp_path, monkeypatch):
    def body(argv):
        raise DataError(f"{tmp_path}/x.csv:3: bad row")

    monkeypatch.setenv("GAITGRAPH_DEBUG", "")  # restored after the test: --debug sets it for nested commands
    assert guarded("prog", body, []) == 2
    with pytest.raises(DataError):
        guarded("prog", body, ["--debug"])
    assert os.environ["GAITGRAPH_DEBUG"] == "1"
    monkeypatch.setenv("GAITGRAPH_DEBUG", "0")
    assert guarded("prog", body, []) == 2
    monkeypatch.setenv("GAITGRAPH_DEBUG", "1")
    with pytest.raises(DataError):
        guarded("prog", body, [])


def test_unexpected_exceptions_are_one_line_too(capsys, monkeypatch):
    monkeypatch.delenv("GAITGRAPH_DEBUG", raising=False)

    def body(argv):
        return {}["missing"]

    assert guarded("prog", body, []) == 2
    line = one_line_error(capsys, "prog")
    assert "KeyError" in line and "--debug" in line


def test_broken_pipe_exits_quietly(dataset):
    r = subprocess.run(f"{sys.executable} -m gaitgraph.cli.data info {dataset} --json | head -c 10", shell=True,
                       env=ENV, capture_output=True, text=True)
    assert r.stderr == "" and len(r.stdout) == 10
    r = subprocess.run([sys.executable, "-c", "import subprocess, sys; p = subprocess.Popen([sys.executable, '-m', "
                        f"'gaitgraph.cli.data', 'info', '{dataset}', '--json'], stdout=subprocess.PIPE, stderr=subprocess.PIPE); "
                        "p.stdout.close(); sys.stdout.write(p.stderr.read().decode()); sys.exit(p.wait())"],
                       env=ENV, capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout == ""


@pytest.mark.slow  # ten interpreters that import torch
def test_every_entry_point_has_the_boundary(tmp_path):
    """A user mistake through each module's main: exit 2, one line, no traceback."""
    cases = [
        ["gaitgraph.cli.data", "info", str(tmp_path / "nowhere")],
        ["gaitgraph.cli.main", "evaluate", "--checkpoint", "x.ckpt", "--data", str(tmp_path), "--output", str(tmp_path)],
        ["gaitgraph.cli.main", "match", "--checkpoint", "x", "--gallery", "g", "--probe", "p", "--output", str(tmp_path / "r.txt")],
        ["gaitgraph.cli.main", "env", "--check", "--lock", str(tmp_path / "nolock.txt")],
        ["gaitgraph.cli.data", "check", "oumvlp-pose", "--root", str(tmp_path), "--id-list", "x", "--keypoints",
         "openpose", "--output", str(tmp_path / "o.json")],
        ["gaitgraph.paper.tables", str(tmp_path / "out"), str(tmp_path / "none.json")],
        ["gaitgraph.ablation.rows", "evaluate", "--checkpoint", "x.ckpt", "--data", str(tmp_path / "no"),
         "--output", str(tmp_path / "m.json"), "--row", "base"],
        ["gaitgraph.viz.ablation_figure", str(tmp_path / "none.json"), str(tmp_path / "out.png")],
        ["gaitgraph.data.download", (tmp_path / "none.zip").as_uri(), str(tmp_path / "d.zip"), "--retries", "0"],
        ["gaitgraph.config_check", str(tmp_path / "none.yaml")],
    ]
    for args in cases:
        r = subprocess.run([sys.executable, "-m", *args], env=ENV, capture_output=True, text=True, timeout=120)
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        assert r.returncode == 2 and len(lines) == 1 and ": error: " in lines[0], (args, r.stderr)
