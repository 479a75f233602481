"""Rank-1 per probe view (``docs/figures.md``): ours as mean ± std over runs beside published references.

One row of panels per dataset with view-matrix conventions. A dataset whose paper convention reports
several conditions (CASIA-B) gets one panel per condition of that convention; the others (OUMVLP-Pose)
one panel per convention and condition. References: published ``paper`` entries of the dataset in the
panel's convention, as dotted lines (a mean) or dashed lines (a per-view table); for single-condition
datasets, the published entries of the runs' own method in the same layout, one per keypoint source we
evaluated, dotted in that source's colour.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from gaitgraph.datasets import list_datasets
from gaitgraph.viz.common import (SYNTHETIC_NOTE, convention_title, dataset_key, dataset_title, legend_below,
                                  main_conventions, mean_std_nan, placeholder, published_entries, run_label,
                                  sorted_views, spec_of)
from gaitgraph.viz.style import REFERENCE_COLOR, color, new_figure, save_figure


def _panels(ds: str, runs: list[dict]) -> list[tuple[str, str]]:
    """(convention, condition) panels of one dataset's row."""
    present = list(dict.fromkeys(c for m in runs for c in m.get("conventions", {})))
    convs = [c for c in main_conventions(ds) if c in present] or present  # else whatever the files hold
    convs = [c for c in convs if any(m["conventions"].get(c, {}).get("conditions") for m in runs)]
    spec = spec_of(ds)
    if spec is not None and spec.by_condition:
        return [(conv, cond) for conv in convs[:1] for cond in spec.condition_names]
    conds = list(dict.fromkeys(c for m in runs for conv in convs for c in m["conventions"].get(conv, {}).get("conditions", {})))
    return [(conv, cond) for conv in convs for cond in conds]


def _paper_references(ax, ds: str, conv: str, cond: str, views: list[str], pos) -> None:
    """Published ``paper`` entries of this convention: a dotted line at the condition's value, or the
    per-view table as a dashed line."""
    for p in published_entries(ds):
        if p["kind"] != "paper" or p["convention"] != conv or cond not in p["values"]:
            continue
        per_view = (p.get("per_view") or {}).get(cond)
        name = dataset_title(ds)
        if per_view:
            ref = [per_view.get(v) for v in views]
            ax.plot(pos, [np.nan if r is None else r for r in ref], color=REFERENCE_COLOR, ls="--", lw=1.1,
                    marker="x", ms=3.5, label=f"{name}, published: {p['method']}, per view")
        elif p.get("verified", True):
            ax.axhline(p["values"][cond], color=REFERENCE_COLOR, ls=":", lw=1.4,
                       label=f"{name}, published: {p['method']} paper (mean over views)")


def _method_references(ax, ds: str, conv: str, cond: str, method: str, layout: str, colors: dict[str, object]) -> None:
    """Published entries of ``method`` in ``layout`` under this convention, one per keypoint source we
    evaluated, as lines in that source's colour: dotted for the paper's own number, dash-dotted for a toolbox's
    (the two share a colour where they share a keypoint source, e.g. OUMVLP-Pose's AlphaPose rows)."""
    done = set()
    for p in published_entries(ds):
        kp = p.get("keypoints")
        if (kp in colors and kp not in done and p["method"].startswith(method) and p.get("layout") == layout
                and p.get("convention") == conv and cond in p["values"]):
            flag = ", unverified" if not p.get("verified", True) else ""
            paper = " paper" if p.get("kind") == "paper" else ""
            ax.axhline(p["values"][cond], color=colors[kp], ls=":" if paper else "-.", lw=1.4,
                       label=f"{dataset_title(ds)}, published: {p['method']}{paper} ({kp}{flag})")
            done.add(kp)


def plot_rank1_by_view(metrics: list[dict], out: str | os.PathLike) -> tuple[Path, Path]:
    """Rank-1 per probe view of the given evaluations (``metrics.json`` dicts); see the module docstring."""
    groups: dict[tuple, list[dict]] = {}
    for m in metrics:
        key = (dataset_key(m.get("dataset", "?")), m.get("keypoints", "?"), m.get("method"), m.get("experiment"))
        groups.setdefault(key, []).append(m)
    rows = []  # (dataset, [(convention, condition)])
    for ds in list_datasets():
        runs = [m for (d, *_), ms in groups.items() if d == ds for m in ms]
        panels = _panels(ds, runs) if runs else []
        if panels:
            rows.append((ds, panels))
    synthetic = any(m.get("synthetic") for m in metrics)

    width = 10.0
    fig = new_figure(width, 3.4 * max(len(rows), 1) + 0.9)
    if not rows:
        placeholder(fig, "no evaluations with per-view rank-1 to plot")
        return save_figure(fig, out)
    subfigs = np.atleast_1d(fig.subfigures(len(rows), 1))
    group_color = {k: color(i) for i, k in enumerate(groups)}  # one colour per run group across all panels
    handles, labels = [], []
    for subfig, (ds, panels) in zip(subfigs, rows):
        axes = np.atleast_1d(subfig.subplots(1, len(panels), sharey=True))
        keys = [k for k in groups if k[0] == ds]
        by_condition = spec_of(ds) is not None and spec_of(ds).by_condition
        for ax, (conv, cond) in zip(axes, panels):
            views: list[str] = []
            for k in keys:
                for m in groups[k]:
                    block = m.get("conventions", {}).get(conv, {}).get("conditions", {}).get(cond)
                    views += list((block or {}).get("per_probe_view", {}))
            views = sorted_views(views)
            pos = np.arange(len(views))
            for k in keys:
                runs = groups[k]
                blocks = [m.get("conventions", {}).get(conv, {}).get("conditions", {}).get(cond) or {} for m in runs]
                stats = [mean_std_nan([b.get("per_probe_view", {}).get(v) for b in blocks]) for v in views]
                mu = np.array([s[0] for s in stats])
                sd = np.array([s[1] for s in stats])
                n = sum(1 for b in blocks if b.get("per_probe_view"))
                if n == 0:
                    continue
                label = f"{run_label(runs[0])}, " + (f"mean ± std of {n} runs" if n > 1 else "single run")
                ax.plot(pos, mu, marker="o", ms=3.5, lw=1.6, color=group_color[k], label=label)
                if np.isfinite(sd).any():
                    ax.fill_between(pos, mu - np.nan_to_num(sd), mu + np.nan_to_num(sd), color=group_color[k],
                                    alpha=0.2, lw=0)
            if by_condition:
                _paper_references(ax, ds, conv, cond, views, pos)
            else:
                first = groups[keys[0]][0]
                _method_references(ax, ds, conv, cond, first.get("method") or "", first.get("skeleton") or "",
                                   {k[1]: group_color[k] for k in keys})
            ax.set_xticks(pos, views, rotation=90 if len(views) * len(panels) > 33 else 0)
            ax.set_xlabel("probe view (°)")
            ax.set_title(cond if by_condition else f"{cond}, {convention_title(ds, conv)}")
            ax.grid(axis="x", visible=False)
            h, lab = ax.get_legend_handles_labels()
            handles += h
            labels += lab
        axes[0].set_ylabel("rank-1 accuracy (%)")
        lo, hi = axes[0].get_ylim()
        axes[0].set_ylim(max(lo, 0), min(hi, 100.5))
        note = convention_title(ds, panels[0][0]) if by_condition else "one panel per protocol"
        subfig.suptitle(f"{dataset_title(ds)}: rank-1 per probe view; {note}", fontsize=10)
    if synthetic:
        fig.suptitle(SYNTHETIC_NOTE, color="#d55e00", fontsize=10, fontweight="bold")
    legend_below(fig, handles, labels, ncol=2)
    return save_figure(fig, out)
