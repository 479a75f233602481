"""Our means beside the published numbers (``docs/figures.md``): horizontal bars, one panel per dataset.

A dataset whose paper convention reports several conditions (CASIA-B) gets one row per method and one
bar per condition of that convention; the others one row per method and keypoint source and one bar
per main convention (OUMVLP-Pose: ``gaitgraph2`` / ``opengait``; Gait3D, GREW: their retrieval
conventions, whose rank-1 is drawn). A missing bar means no number under that convention. Everything
dataset-specific comes from the registry (``gaitgraph.datasets``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.patches import Patch
from matplotlib.transforms import offset_copy

from gaitgraph.datasets import list_datasets
from gaitgraph.datasets.spec import Retrieval
from gaitgraph.viz.common import (SYNTHETIC_NOTE, bar_group, convention_title, dataset_key, dataset_title, group_colours,
                                  main_conventions, placeholder, published_entries, spec_of)
from gaitgraph.viz.style import color, new_figure, save_figure


def _is_condition_group(ds: str) -> bool:
    spec = spec_of(ds)
    return spec is not None and spec.by_condition


def _drawn(ds: str, convention: str, condition: str) -> bool:
    """A value worth a bar: a condition of a view-matrix convention (not the mean over conditions), or a
    retrieval convention's rank-1 (its other metrics are in the tables)."""
    spec = spec_of(ds)
    conv = next((c for c in spec.conventions if c.name == convention), None) if spec else None
    return condition == "rank1" if isinstance(conv, Retrieval) else condition != "mean"


def _ours_bars(summary: dict, ds: str) -> list[dict]:
    bars = []
    for r in summary.get("rows", []):
        if dataset_key(r.get("dataset", "")) != ds or r.get("mean") is None:
            continue
        if r.get("convention") not in main_conventions(ds) or not _drawn(ds, r["convention"], r.get("condition")):
            continue
        n = r.get("n_runs") or 0
        if r.get("seeds") and all(x is None for x in r["seeds"]) and r.get("method"):  # not trained here
            label = f"{r['method']}, evaluated here ({r.get('keypoints')})"
        else:
            label = f"ours: {r.get('experiment') or r.get('method')} ({r.get('keypoints')}, n={n})"
        if r.get("test_set", "all") != "all":  # another test set: issue 11
            label += f" [test {r['test_set']}]"
        if r.get("fill_before_training"):
            label += " [joints filled before training]"
        bars.append(dict(label=label, group=bar_group(ds, r["convention"], r["condition"]), value=r["mean"],
                         std=r.get("std"), ours=True, keypoints=r.get("keypoints")))
    return bars


def _published_bars(summary: dict, ds: str, keypoints: set[str]) -> list[dict]:
    entries = summary.get("published")
    entries = [p for p in entries if dataset_key(p.get("dataset", "")) == ds] if entries else published_entries(ds)
    by_condition = _is_condition_group(ds)
    bars = []
    for p in entries:
        if not by_condition and keypoints and p.get("keypoints") not in keypoints:
            continue
        if p.get("convention") not in main_conventions(ds):
            continue
        notes = ["paper"] if p.get("kind") == "paper" else []
        if not p.get("verified", True):
            notes.append("unverified")
        if p.get("test_set", "all") != "all":
            notes.append(f"test {p['test_set']}")
        kp = p.get("keypoints")
        label = p["method"] + (f" [{', '.join(notes)}]" if notes else "")
        if not by_condition or kp != "hrnet":
            label += f" ({kp})"
        for cond, v in (p.get("values") or {}).items():
            if not _drawn(ds, p["convention"], cond):
                continue
            std = (p.get("std") or {}).get(cond)
            bars.append(dict(label=label, group=bar_group(ds, p["convention"], cond), value=v, std=std, ours=False,
                             keypoints=kp))
    return bars


def _group_label(ds: str, group: str) -> str:
    return f"probe {group}" if _is_condition_group(ds) else f"protocol {convention_title(ds, group)}"


def plot_comparison(summary: dict, out: str | os.PathLike) -> tuple[Path, Path]:
    """Horizontal bars of our mean rank-1 (± std over seeds) beside published numbers; see the module docstring.

    Published numbers: ``summary["published"]`` when present, else the dataset modules' entries.
    """
    datasets = list(dict.fromkeys(dataset_key(r.get("dataset", "")) for r in summary.get("rows", [])))
    panels = []
    for ds in (d for d in list_datasets() if d in datasets):
        ours = _ours_bars(summary, ds)
        bars = ours + _published_bars(summary, ds, {b["keypoints"] for b in ours})
        if bars:
            panels.append((ds, bars))
    heights = [len(dict.fromkeys(b["label"] for b in bars)) * (0.55 if _is_condition_group(ds) else 0.34) + 0.9
               for ds, bars in panels]
    fig = new_figure(8.0, sum(heights) + 1.3 if heights else 4.0)
    if not panels:
        placeholder(fig, "no summary rows to compare")
        return save_figure(fig, out)
    colours = group_colours()
    axes = fig.subplots(len(panels), 1, height_ratios=heights, squeeze=False)[:, 0]
    for ax, (ds, bars) in zip(axes, panels):
        legend = {}
        methods = list(dict.fromkeys(b["label"] for b in bars))
        groups = list(dict.fromkeys(b["group"] for b in bars))
        groups.sort(key=lambda g: colours.get(g, len(colours)))
        k = len(groups)
        height = 0.8 / k
        for b in bars:
            j = groups.index(b["group"])
            y = methods.index(b["label"]) + (j - (k - 1) / 2) * height
            xerr = b["std"] if b["std"] is not None and np.isfinite(b["std"]) else None
            handle = ax.barh(y, b["value"], height=height * 0.9, color=color(colours.get(b["group"], 7)),
                             xerr=xerr, capsize=2, error_kw={"lw": 0.8}, edgecolor="black" if b["ours"] else "none",
                             linewidth=0.8)
            ax.text(b["value"] + (xerr or 0) + 0.8, y, f"{b['value']:.1f}", va="center", fontsize=6.5)
            legend.setdefault(_group_label(ds, b["group"]), Patch(facecolor=handle.patches[0].get_facecolor()))
        ax.set_yticks(np.arange(len(methods)), methods)
        for tick, m in zip(ax.get_yticklabels(), methods):
            if m.startswith("ours"):
                tick.set_fontweight("bold")
        ax.set_ylim(len(methods) - 0.5, -0.5)  # first row on top
        ax.set_xlim(0, 105)
        ax.set_xlabel("rank-1 accuracy (%)")
        ax.grid(axis="y", visible=False)
        spec = spec_of(ds)
        if _is_condition_group(ds):
            what = f"mean over probe views, {convention_title(ds, main_conventions(ds)[0])}"
        elif spec is not None and spec.views:
            what = "mean over views"
        else:
            what = "rank-1 of the probe set"
        ax.set_title(f"{dataset_title(ds)}: {what}", loc="left", wrap=True)  # wrapped at the figure edge
        # legend under the panel's x label, a fixed distance in points whatever the panel's height
        below = offset_copy(ax.transAxes, fig=fig, y=-30, units="points")
        ax.legend(list(legend.values()), list(legend), loc="upper center", bbox_to_anchor=(0.5, 0), bbox_transform=below,
                  ncol=3 if _is_condition_group(ds) else 1, frameon=False)
    title = "Our measurements (outlined; mean ± std over seeds) beside published numbers"
    if summary.get("synthetic"):
        title += f"\n{SYNTHETIC_NOTE}"
    fig.suptitle(title, color="#d55e00" if summary.get("synthetic") else "black")
    return save_figure(fig, out)
