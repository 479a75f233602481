"""The method x dataset benchmark table (gaitgraph.paper.benchmark) on hand-made metrics files: ours as
mean ± std with n, the published numbers beside under the method they report, unknown names kept."""

from __future__ import annotations

import json

from gaitgraph.datasets import all_published
from gaitgraph.paper.benchmark import build_benchmark, published_method
from test_paper_tables import casia_run, gait3d_run, grew_run, write_runs  # sibling test module (tests/ is on sys.path)


def v1(run: dict) -> dict:
    return run | {"method": "GaitGraph", "experiment": "gaitgraph1"}


def build(tmp_path, runs):
    out = tmp_path / "results"
    summary = build_benchmark(write_runs(tmp_path, runs), out / "benchmark.md", out / "benchmark.tex",
                              out / "benchmark.json")
    return summary, (out / "benchmark.md").read_text(), (out / "benchmark.tex").read_text()


def table(md: str) -> tuple[list[str], list[list[str]]]:
    """The benchmark table of the Markdown file: its header and rows (cells stripped)."""
    lines = [line for line in md.split("## Sources")[0].splitlines() if line.startswith("| ")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    return cells[0], cells[1:]


def cell(md: str, result: str, column: str) -> str:
    header, rows = table(md)
    hits = [r for r in rows if r[1] == result]
    assert len(hits) == 1, (result, hits)
    return hits[0][header.index(column)]


def test_ours_mean_std_and_n_per_method_and_dataset(tmp_path):
    # CASIA-B main value = the mean of NM/BG/CL (identical views excluded): 1 of 4 BG subjects wrong -> BG 75 %,
    # mean (100 + 75 + 100) / 3 = 91.67; 2 wrong -> 83.33. Gait3D rank-1: (4 - wrong) / 4.
    runs = [casia_run(1, 0), casia_run(2, 1), v1(casia_run(0, 0)), gait3d_run(0, 1), gait3d_run(1, 2), gait3d_run(2, 0),
            grew_run(0, 1)]
    summary, md, tex = build(tmp_path, runs)
    header, rows = table(md)
    assert header[:3] == ["method", "result", "kind"] and header[3:-1] == ["CASIA-B hrnet", "Gait3D hrnet", "GREW hrnet"]
    assert cell(md, "gaitgraph2", "CASIA-B hrnet") == "87.5 ± 5.9 (n=2)"
    assert cell(md, "gaitgraph2", "Gait3D hrnet") == "75.0 ± 25.0 (n=3)"
    assert cell(md, "gaitgraph2", "GREW hrnet") == "75.0 ± – (n=1)"  # local held-out rank-1, 3 of 4 probes right
    assert cell(md, "gaitgraph1", "CASIA-B hrnet") == "100.0 ± – (n=1)" and cell(md, "gaitgraph1", "Gait3D hrnet") == "–"
    g2 = next(c for c in summary["ours"] if c["method"] == "GaitGraph2" and c["dataset"] == "gait3d")
    assert (g2["n_runs"], g2["values"], g2["convention"]) == (3, [75.0, 50.0, 100.0], "official")
    assert [c["convention"] for c in summary["columns"]] == ["exclude_identical", "official", "local_heldout"]
    # ours first within each method, methods with runs of ours before the others
    methods = [r[0] for r in rows]
    assert methods.index("GaitGraph") < methods.index("GaitTR") and methods.index("GaitGraph2") < methods.index("GaitTR")
    assert rows[methods.index("GaitGraph2")][1] == "gaitgraph2" and rows[methods.index("GaitGraph2")][2] == "**ours**"
    assert methods[-1] == "other methods"
    # GREW's column is labelled as not the official number, and says where the submission files are
    assert "NOT the official GREW number" in md and "results/submission/grew/hrnet/<method>/seed<N>.csv" in md
    assert "SYNTHETIC DATA" in md and "SYNTHETIC DATA" in tex and "\\label{tab:benchmark}" in tex
    assert "87.5 $\\pm$ 5.9 (n=2)" in tex


def test_published_numbers_sit_beside_ours_with_sources_and_protocol_differences(tmp_path):
    summary, md, _ = build(tmp_path, [casia_run(0, 0), gait3d_run(0, 0)])
    # every published entry of the evaluated datasets is in the table, under the method it reports
    entries = all_published("casia-b") + all_published("gait3d")
    assert len(summary["published"]) == len(entries)
    header, rows = table(md)
    for p in entries:
        assert any(r[1] == p.method and r[0] == published_method(p) for r in rows), p.method
    assert published_method(next(p for p in entries if p.method == "GaitGraph2 (FastPoseGait, vanilla)")) == "GaitGraph2"
    assert published_method(next(p for p in entries if p.method == "GaitGraph (FastPoseGait, vanilla)")) == "GaitGraph"
    assert published_method(next(p for p in entries if p.method == "GaitPT")) == "other methods"
    assert cell(md, "GaitGraph2", "CASIA-B hrnet") == "72.93"  # the paper's mean, same protocol: no bracket
    assert cell(md, "GaitGraph2 (FastPoseGait, vanilla)", "Gait3D hrnet") == "11.2"
    # measured otherwise: the bracket says how (v1's test set drops short sequences; GaitPT uses ViTPose)
    assert cell(md, "GaitGraph (released model)", "CASIA-B hrnet") == "76.27 [test > 60 frames]"
    assert "vitpose" in cell(md, "GaitPT", "CASIA-B hrnet")
    # sources are numbered references listed under the table
    ref = cell(md, "GaitGraph (released model)", "source")
    number = int(ref.strip("[]"))
    sources = md.split("## Sources")[1].split("## Runs")[0]
    assert f"{number}. {next(p.source for p in entries if p.method == 'GaitGraph (released model)')}" in sources
    # a dataset without runs of ours brings no column and no published rows
    assert "OUMVLP" not in md.split("## Sources")[0]


def test_unknown_method_and_dataset_names_get_their_own_row_and_column(tmp_path):
    mine = gait3d_run(0, 1) | {"method": "MyNet", "experiment": "mynet", "dataset": "my-set", "synthetic": False}
    summary, md, _ = build(tmp_path, [mine, casia_run(0, 0, synthetic=False)])
    header, rows = table(md)
    assert "my-set hrnet" in header and cell(md, "mynet", "my-set hrnet") == "75.0 ± – (n=1)"
    assert cell(md, "mynet", "CASIA-B hrnet") == "–" and cell(md, "gaitgraph2", "my-set hrnet") == "–"
    assert next(r for r in rows if r[1] == "mynet")[0] == "MyNet"
    assert "convention `official` as the runs' metrics files name it" in md
    assert "SYNTHETIC" not in md  # real data: no banner
    assert json.loads((tmp_path / "results" / "benchmark.json").read_text())["columns"][-1] == {
        "dataset": "my-set", "keypoints": "hrnet", "convention": "official"}


def test_test_set_variants_are_labelled(tmp_path):
    """GaitGraph v1's own protocol (short test sequences dropped) is said in its cell."""
    run = v1(casia_run(1, 0)) | {"test_set": {"name": "gaitgraph1", "min_length": 61, "num_left_out": 3}}
    _, md, _ = build(tmp_path, [run])
    assert cell(md, "gaitgraph1", "CASIA-B hrnet") == "91.7 ± – (n=1) [test > 60 frames]"
