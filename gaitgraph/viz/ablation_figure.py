"""Figure of the ablation study: ``results/figures/ablation.png`` / ``.pdf``.

One horizontal bar per row of ``results/ablation.json`` (``gaitgraph.ablation.table``): the mean rank-1
of the primary column with the sample std over seeds as an error bar, coloured by group, the number of
runs beside it, and dashed reference lines at the base row and the full model.

    python -m gaitgraph.viz.ablation_figure results/ablation.json results/figures/ablation.png
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

from gaitgraph.ablation.study import GROUP_TITLES
from gaitgraph.viz.style import REFERENCE_COLOR, apply_style, color, new_figure, save_figure

GROUP_ORDER = tuple(GROUP_TITLES)


def plot_ablation(summary: dict, out: str | os.PathLike) -> tuple[Path, Path]:
    apply_style()
    rows = summary.get("rows", [])
    fig = new_figure(8.0, 0.32 * max(len(rows), 1) + 1.6, layout="constrained")
    ax = fig.subplots()
    if not rows:
        ax.text(0.5, 0.5, "no ablation rows", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return save_figure(fig, out)
    primary = summary.get("primary", "rank-1")
    seen = {}
    for i, r in enumerate(rows):
        col = r["columns"][primary]
        mean, std = col["mean"], col["std"]
        g = r.get("group", "ours")
        c = color(GROUP_ORDER.index(g) if g in GROUP_ORDER else len(GROUP_ORDER))
        if mean is None:
            ax.text(1, i, "no result", va="center", fontsize=6.5)
            continue
        bar = ax.barh(i, mean, height=0.7, color=c, xerr=std if std is not None else None, capsize=2,
                      error_kw={"lw": 0.8})
        ax.text(mean + (std or 0) + 0.8, i, f"{mean:.1f}  (n={r['n_runs']})", va="center", fontsize=6.5)
        seen.setdefault(g, bar.patches[0])
    by_name = {r["row"]: r["columns"][primary]["mean"] for r in rows}
    for name, style in (("base", ":"), ("full", "--")):
        if by_name.get(name) is not None:
            ax.axvline(by_name[name], color=REFERENCE_COLOR, ls=style, lw=0.8, label=f"{name}")
    ax.set_yticks(np.arange(len(rows)), [r["label"] for r in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    top = max((r["columns"][primary]["mean"] or 0) + (r["columns"][primary]["std"] or 0) for r in rows)
    ax.set_xlim(0, min(max(top * 1.25, 10), 110))
    ax.set_xlabel(f"rank-1 accuracy (%), {primary}: mean ± std over seeds")
    ax.grid(axis="y", visible=False)
    title = f"Ablation, {summary.get('dataset', '')} ({summary.get('keypoints', '')})"
    if summary.get("synthetic"):
        title += " – synthetic data, tiny budgets"
    ax.set_title(title, loc="left")
    handles = [seen[g] for g in GROUP_ORDER if g in seen] + [l for l in ax.get_lines()]
    labels = [GROUP_TITLES[g] for g in GROUP_ORDER if g in seen] + [l.get_label() for l in ax.get_lines()]
    ax.legend(handles, labels, loc="lower right", fontsize=6.5, frameon=True)
    return save_figure(fig, out)


def main(argv=None) -> int:
    from gaitgraph.cli.boundary import guarded

    return guarded("python -m gaitgraph.viz.ablation_figure", _main, argv)


def _main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m gaitgraph.viz.ablation_figure SUMMARY.json OUT.png", file=sys.stderr)
        return 2
    from gaitgraph.outputs import check_file_output

    check_file_output(argv[1], inputs=[argv[0]])
    plot_ablation(json.loads(Path(argv[0]).read_text()), argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
