"""Training curves of the runs (``docs/figures.md``): loss, learning rate, validation loss and rank-1 per epoch."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from gaitgraph.viz.common import legend_below, placeholder
from gaitgraph.viz.style import color, new_figure, save_figure

_CURVES = (
    ("train_loss", "training loss (SupCon, epoch mean)", False),
    ("lr", "learning rate (end of epoch)", True),
    ("val_loss", "validation loss", False),
    ("val_rank1", "validation rank-1 accuracy (%)", False),
)


_SEED = re.compile(r"^(?P<group>.*?)[/_ \-]?seed[ _=]?(?P<seed>\d+)$")
_LINESTYLES = ("-", "--", ":", "-.")


def _run_styles(labels: list[str]) -> dict[str, dict]:
    """Colour per run group, line style per seed, for labels like ``casia-b/hrnet/gaitgraph2/seed0``."""
    groups: dict[str, int] = {}
    seeds: dict[str, int] = {}
    out = {}
    for label in labels:
        m = _SEED.match(label)
        group, seed = (m["group"], m["seed"]) if m else (label, None)
        g = groups.setdefault(group, len(groups))
        k = 0 if seed is None else seeds.setdefault(f"{group}|{seed}", sum(1 for x in seeds if x.startswith(group + "|")))
        out[label] = {"color": color(g), "ls": _LINESTYLES[k % len(_LINESTYLES)]}
    return out


def plot_training_curves(histories: dict[str, pd.DataFrame], out: str | os.PathLike) -> tuple[Path, Path]:
    """Loss, learning rate, validation loss and rank-1 per epoch; one colour per run.

    ``histories``: run label -> ``history.csv`` frame (``epoch, step, train_loss, lr, val_loss,
    val_rank1``; NaN where not measured). Sparse validation points are drawn with markers.
    """
    fig = new_figure(9.0, 6.4)
    if not histories:
        placeholder(fig, "no training histories to plot")
        return save_figure(fig, out)
    axes = fig.subplots(2, 2, sharex=True)
    styles = _run_styles(list(histories))
    handles, labels = [], []
    for (key, ylabel, log), ax in zip(_CURVES, axes.flat):
        drawn = False
        for label, df in histories.items():
            if key not in df or "epoch" not in df:
                continue
            d = df[["epoch", key]].apply(pd.to_numeric, errors="coerce").dropna()
            if log:
                d = d[d[key] > 0]
            if d.empty:
                continue
            sparse = len(d) < 0.5 * len(df) or len(d) <= 12
            ax.plot(d["epoch"] + 1, d[key], lw=1.4, marker="o" if sparse else None, ms=3, label=label, **styles[label])
            drawn = True
        if log and drawn:
            ax.set_yscale("log")
        if key == "val_rank1" and drawn:
            lo, hi = ax.get_ylim()
            ax.set_ylim(max(lo, 0), min(hi, 101))
        if not drawn:
            ax.text(0.5, 0.5, "not measured", transform=ax.transAxes, ha="center", va="center", color="0.4")
        ax.set_title(ylabel)
        ax.set_ylabel(ylabel.split(" (")[0] if key != "val_rank1" else "rank-1 (%)")
        h, lab = ax.get_legend_handles_labels()
        handles += h
        labels += lab
    for ax in axes[1]:
        ax.set_xlabel("epochs completed")
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.suptitle("Training curves (colour: run group; line style: seed)")
    legend_below(fig, handles, labels, ncol=min(max(len(histories), 1), 3))
    return save_figure(fig, out)
