"""Paper figures from hand-made metrics, summaries and histories: files exist, open, have the
expected size and are not blank; the PDF is written beside the PNG."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from conftest import CASIA_VIEWS, OUMVLP_VIEWS
from gaitgraph.viz import common
from gaitgraph.viz.comparison import plot_comparison
from gaitgraph.viz.rank1_by_view import plot_rank1_by_view
from gaitgraph.viz.training_curves import plot_training_curves
from gaitgraph.viz.view_heatmaps import plot_view_heatmaps
from gaitgraph.viz.style import DPI, save_figure, new_figure



def _matrix(rng, views, base, exclude_identical):
    v = len(views)
    gap = np.abs(np.subtract.outer(np.arange(v), np.arange(v)))
    mat = np.clip(base + 12 - 4.0 * gap + rng.normal(0, 2, (v, v)), 0, 100)
    if exclude_identical:
        np.fill_diagonal(mat, np.nan)
    return mat


def _block(mat, views):
    per_probe = np.nanmean(mat, axis=0)
    return {
        "matrix": [[None if np.isnan(x) else round(float(x), 2) for x in row] for row in mat],
        "per_probe_view": {str(v): round(float(x), 2) for v, x in zip(views, per_probe)},
        "mean": round(float(per_probe.mean()), 2),
    }


def fake_casia_metrics(seed: int = 0, keypoints: str = "hrnet", experiment: str = "gaitgraph2") -> dict:
    """A per-run metrics.json (docs/design.md shape) for CASIA-B with realistic numbers."""
    conventions = {}
    for conv, excl in (("exclude_identical", True), ("include_identical", False)):
        conds = {}
        for cond, base in (("NM#5-6", 82), ("BG#1-2", 72), ("CL#1-2", 62)):
            conds[cond] = _block(_matrix(np.random.default_rng(seed * 7 + base), CASIA_VIEWS, base, excl), CASIA_VIEWS)
        conventions[conv] = {"description": conv, "exclude_identical": excl, "views": CASIA_VIEWS,
                             "conditions": conds, "mean": float(np.mean([c["mean"] for c in conds.values()]))}
    return {"dataset": "casia-b", "keypoints": keypoints, "skeleton": "coco17", "synthetic": True,
            "method": "GaitGraph2", "experiment": experiment, "seed": seed, "tta": True,
            "num_probe": 100, "num_gallery": 200, "conventions": conventions}


def fake_oumvlp_metrics(seed: int = 0, keypoints: str = "alphapose") -> dict:
    conventions = {}
    for conv, excl in (("gaitgraph2", False), ("opengait", True)):
        mat = _matrix(np.random.default_rng(seed), OUMVLP_VIEWS, 55, excl)
        block = _block(mat, OUMVLP_VIEWS)
        conventions[conv] = {"description": conv, "exclude_identical": excl, "views": OUMVLP_VIEWS,
                             "conditions": {"NM": block}, "mean": block["mean"]}
    return {"dataset": "oumvlp-pose", "keypoints": keypoints, "skeleton": "openpose18", "synthetic": True,
            "method": "GaitGraph2", "experiment": "gaitgraph2", "seed": seed, "conventions": conventions}


def fake_summary() -> dict:
    """A summary results/metrics.json (docs/design.md shape), without the ``published`` list."""
    rows = []
    for cond, mean in (("NM#5-6", 80.1), ("BG#1-2", 70.4), ("CL#1-2", 61.0), ("mean", 70.5)):
        rows.append({"method": "GaitGraph2", "experiment": "gaitgraph2", "dataset": "casia-b", "keypoints": "hrnet",
                     "convention": "exclude_identical", "condition": cond, "n_runs": 2, "seeds": [0, 1],
                     "mean": mean, "std": 1.2, "per_view": {}})
    for conv, mean in (("gaitgraph2", 58.0), ("opengait", 55.5)):
        rows.append({"method": "GaitGraph2", "experiment": "gaitgraph2", "dataset": "oumvlp-pose",
                     "keypoints": "alphapose", "convention": conv, "condition": "NM", "n_runs": 1, "seeds": [0],
                     "mean": mean, "std": None, "per_view": {}})
    return {"synthetic": True, "rows": rows}


def fake_history(epochs: int = 30, val_every: int = 5, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    e = np.arange(epochs)
    lr = 0.005 * np.sin(np.pi * np.clip((e + 1) / epochs, 0, 1)) ** 2 + 1e-6
    val = (e + 1) % val_every == 0
    return pd.DataFrame({
        "epoch": e, "step": (e + 1) * 20,
        "train_loss": 6 * np.exp(-e / 10) + 2 + rng.normal(0, 0.05, epochs), "lr": lr,
        "val_loss": np.where(val, 4 * np.exp(-e / 12) + 1, np.nan),
        "val_rank1": np.where(val, 80 * (1 - np.exp(-e / 8)), np.nan),
    })


def check_image(png, pdf, min_std: float = 8.0) -> tuple[int, int]:
    """The PNG opens, is not blank (pixel spread), and the PDF exists; returns the PNG size."""
    assert png.is_file() and pdf.is_file() and pdf.suffix == ".pdf" and pdf.stem == png.stem
    assert pdf.read_bytes()[:5] == b"%PDF-"
    with Image.open(png) as im:
        assert im.format == "PNG"
        pixels = np.asarray(im.convert("L"), dtype=float)
    assert pixels.std() > min_std, f"{png} looks blank (pixel std {pixels.std():.1f})"
    return im.size


def test_save_figure_writes_png_and_pdf_atomically(tmp_path):
    fig = new_figure(4, 3)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1])
    png, pdf = save_figure(fig, tmp_path / "deep" / "folder" / "line.png")
    assert check_image(png, pdf) == (4 * DPI, 3 * DPI)
    assert sorted(p.name for p in png.parent.iterdir()) == ["line.pdf", "line.png"]  # no temporary left


def test_rank1_by_view(tmp_path):
    metrics = [fake_casia_metrics(s) for s in (0, 1, 2)] + [fake_oumvlp_metrics(0)]
    png, pdf = plot_rank1_by_view(metrics, tmp_path / "rank1_by_view.png")
    assert check_image(png, pdf) == (10 * DPI, int(7.7 * DPI))  # two rows of panels: CASIA-B, OUMVLP-Pose


def test_rank1_by_view_without_published_numbers(tmp_path, monkeypatch):
    import gaitgraph.viz.rank1_by_view as module

    monkeypatch.setattr(module, "published_entries", lambda dataset=None: [])
    png, pdf = plot_rank1_by_view([fake_casia_metrics(0)], tmp_path / "r.png")
    check_image(png, pdf)


# (figure inches) CASIA-B: 2 conventions x 3 conditions of 11 x 11 cells of 0.27 in; OUMVLP-Pose: 2 x 14 x 14 of 0.3 in
@pytest.mark.parametrize("make, inches", [(fake_casia_metrics, (3 * (11 * 0.27 + 0.6) + 1, 2 * (11 * 0.27 + 0.7) + 1.2)),
                                          (fake_oumvlp_metrics, (2 * (14 * 0.3 + 0.6) + 1, 14 * 0.3 + 0.7 + 1.2))],
                         ids=["casia-b", "oumvlp-pose"])
def test_view_heatmaps(tmp_path, make, inches):
    png, pdf = plot_view_heatmaps(make(0), tmp_path / "heat.png")
    w, h = check_image(png, pdf)
    assert abs(w - inches[0] * DPI) <= 2 and abs(h - inches[1] * DPI) <= 2


def test_training_curves(tmp_path):
    histories = {"casia-b/hrnet/seed0": fake_history(seed=0), "casia-b/hrnet/seed1": fake_history(seed=1),
                 "no validation": fake_history(8).assign(val_loss=np.nan, val_rank1=np.nan)}
    png, pdf = plot_training_curves(histories, tmp_path / "curves.png")
    assert check_image(png, pdf) == (9 * DPI, int(6.4 * DPI))


def test_comparison(tmp_path):
    png, pdf = plot_comparison(fake_summary(), tmp_path / "comparison.png")
    w, h = check_image(png, pdf)
    assert w == 8 * DPI
    assert len(common.published_entries("casia-b")) > 3  # drawn from the dataset modules


def test_empty_inputs_still_give_a_figure(tmp_path):
    for i, (fn, arg) in enumerate([(plot_rank1_by_view, []), (plot_training_curves, {}),
                                   (plot_comparison, {"rows": []}), (plot_view_heatmaps, {})]):
        png, pdf = fn(arg, tmp_path / f"empty{i}.png")
        check_image(png, pdf, min_std=1.0)


def test_run_labels_tell_trained_here_from_evaluated_here():
    assert common.run_label(fake_casia_metrics(0)) == "ours: gaitgraph2 (hrnet)"
    released = dict(fake_casia_metrics(0), method="GaitGraph2 (released)", experiment="release", seed=None)
    assert common.run_label(released) == "GaitGraph2 (released), evaluated here (hrnet)"
