"""Gallery view x probe view rank-1 of one evaluation as heat maps (``docs/figures.md``)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import seaborn as sns
from matplotlib.patches import Patch

from gaitgraph.viz.common import SYNTHETIC_NOTE, convention_title, dataset_title, placeholder
from gaitgraph.viz.style import HEATMAP_CMAP, new_figure, save_figure


def plot_view_heatmaps(metrics: dict, out: str | os.PathLike, *, conventions: list[str] | None = None,
                       annotate: bool = True) -> tuple[Path, Path]:
    """Gallery view (rows) x probe view (columns) rank-1 of one evaluation, one panel per condition
    and convention; excluded cells are hatched. ``conventions`` defaults to all in the file."""
    convs = metrics.get("conventions", {})
    names = [c for c in (conventions or list(convs)) if c in convs and convs[c].get("conditions")]
    panels = [(c, cond) for c in names for cond in convs[c]["conditions"]]
    single_condition = all(len(convs[c]["conditions"]) == 1 for c in names)
    if single_condition:  # OUMVLP-Pose: one condition, conventions side by side
        nrows, ncols = 1, max(len(panels), 1)
    else:
        nrows, ncols = len(names), max(len(convs[c]["conditions"]) for c in names)
    n_views = max((len(convs[c].get("views", [])) for c in names), default=0)
    cell = 0.27 if n_views <= 11 else 0.3  # inches per cell: room for a 3-digit annotation
    side = max(n_views * cell, 2.2)
    fig = new_figure(ncols * (side + 0.6) + 1.0, nrows * (side + 0.7) + 1.2)
    ds, kp = dataset_title(metrics.get("dataset", "?")), metrics.get("keypoints", "?")
    who = ", ".join(str(x) for x in (metrics.get("experiment"), f"seed {metrics['seed']}" if metrics.get("seed")
                                     is not None else None) if x)
    title = f"{ds} ({kp} keypoints{', ' + who if who else ''}): rank-1 (%) per gallery × probe view"
    if metrics.get("synthetic"):
        title += f"\n{SYNTHETIC_NOTE}"
    fig.suptitle(title, color="#d55e00" if metrics.get("synthetic") else "black")
    if not panels:
        placeholder(fig, "no view matrices in this metrics file")
        return save_figure(fig, out)
    axes = np.atleast_2d(fig.subplots(nrows, ncols, squeeze=False))
    mappable = None
    font = 6.5 if n_views <= 11 else 6
    any_excluded = False
    for idx, (conv, cond) in enumerate(panels):
        r, c = (0, idx) if single_condition else (names.index(conv), list(convs[conv]["conditions"]).index(cond))
        ax = axes[r, c]
        block = convs[conv]["conditions"][cond]
        views = [str(v) for v in convs[conv].get("views", [])]
        mat = np.array([[np.nan if x is None else float(x) for x in row] for row in block.get("matrix", [])], dtype=float)
        if mat.size == 0:
            ax.axis("off")
            continue
        any_excluded |= bool(np.isnan(mat).any())
        sns.heatmap(mat, ax=ax, vmin=0, vmax=100, cmap=HEATMAP_CMAP, cbar=False, square=True, mask=np.isnan(mat),
                    annot=annotate, fmt=".0f", annot_kws={"fontsize": font}, linewidths=0.3, linecolor="white",
                    xticklabels=views, yticklabels=views)
        ax.set_facecolor("white")
        ax.patch.set_hatch("////")
        ax.patch.set_edgecolor("0.7")
        mappable = ax.collections[0]
        mean = block.get("mean")
        ax.set_title(f"{cond}: {convention_title(metrics.get('dataset', '?'), conv)}" + (f"\nmean {mean:.1f} %" if mean is not None else ""),
                     fontsize=8.5)
        ax.set_xlabel("probe view (°)" if r == nrows - 1 else "")
        ax.set_ylabel("gallery view (°)" if c == 0 else "")
        ax.tick_params(axis="x", labelrotation=0 if n_views <= 11 else 90, labelsize=7)
        ax.tick_params(axis="y", labelrotation=0, labelsize=7)
    for ax in axes.flat:
        if not ax.has_data():
            ax.axis("off")
    if mappable is not None:
        cbar = fig.colorbar(mappable, ax=axes.ravel().tolist(), shrink=0.7, pad=0.02)
        cbar.set_label("rank-1 accuracy (%)")
    if any_excluded:
        fig.legend(handles=[Patch(facecolor="white", edgecolor="0.6", hatch="////", label="excluded cell")],
                   loc="outside lower center", frameon=False)
    return save_figure(fig, out)
