"""Paper figures from the pipeline's outputs (``docs/figures.md``): PNG for the report, PDF for papers.

Every function takes already-loaded data plus the PNG path ``out``, writes ``out`` and the PDF with
the same stem (``gaitgraph.viz.style.save_figure``), and returns ``(png, pdf)``:

* ``plot_rank1_by_view(metrics)``: rank-1 per probe view, ours as mean ± std over runs, with the
  published GaitGraph2 means and GaitGraph v1's per-view table as references;
* ``plot_view_heatmaps(metrics)``: gallery view x probe view rank-1 of one evaluation;
* ``plot_training_curves(histories)``: loss, learning rate and validation metrics per epoch;
* ``plot_comparison(summary)``: our means beside the published numbers of GaitGraph2 and its peers.

Inputs follow ``docs/design.md`` (per-run ``metrics.json``, summary ``results/metrics.json``,
``history.csv``). Published numbers come from ``gaitgraph.paper.published`` (never copied here).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.patches import Patch
from matplotlib.transforms import offset_copy

from gaitgraph.viz.style import HEATMAP_CMAP, REFERENCE_COLOR, color, new_figure, save_figure

CASIA_CONDITIONS = ("NM#5-6", "BG#1-2", "CL#1-2")
DATASET_NAMES = {"casia-b": "CASIA-B", "oumvlp-pose": "OUMVLP-Pose", "oumvlp": "OUMVLP-Pose"}
CONVENTION_NAMES = {
    "exclude_identical": "identical views excluded (paper)",
    "include_identical": "identical views included",
    "gaitgraph2": "GaitGraph2 code: gallery 00, probe 01, identical views included",
    "opengait": "OpenGait: gallery 01, probe 00, identical views excluded",
}
# which convention of each dataset the per-view figure and the comparison use
MAIN_CONVENTIONS = {"casia-b": ("exclude_identical",), "oumvlp-pose": ("gaitgraph2", "opengait")}
SYNTHETIC_NOTE = "SYNTHETIC DATA: a pipeline check; these numbers say nothing about the method"


# ---------------------------------------------------------------- published numbers


def published_entries(dataset: str | None = None) -> list[dict]:
    """Published results as dicts (``gaitgraph.paper.published.as_dict``); ``[]`` if unavailable."""
    try:
        from gaitgraph.paper.published import as_dict, published
    except ImportError:
        return []
    return [as_dict(p) for p in published(dataset=dataset)]


def _gaitgraph2_paper_means() -> dict[str, float]:
    for p in published_entries("casia-b"):
        if p["method"] == "GaitGraph2" and p["kind"] == "paper":
            return dict(p["values"])
    return {}


def _gaitgraph1_per_view() -> tuple[str, dict[str, dict[str, float]]]:
    for p in published_entries("casia-b"):
        if p["method"].startswith("GaitGraph (") and p["kind"] == "paper" and p.get("per_view"):
            return p["method"], p["per_view"]
    return "", {}


# ---------------------------------------------------------------- helpers


def _dataset_key(name: str) -> str:
    return "oumvlp-pose" if str(name).lower() in ("oumvlp", "oumvlp-pose") else str(name).lower()


def _dataset_name(name: str) -> str:
    return DATASET_NAMES.get(str(name).lower(), str(name))


def _mean_std(values) -> tuple[float, float]:
    v = np.array([np.nan if x is None else float(x) for x in values], dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return np.nan, np.nan
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else np.nan


def _placeholder(fig, text: str) -> None:
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=11, color="0.3")


def _legend_below(fig, handles, labels, ncol: int | None = None) -> None:
    """One figure legend under the panels (no entry twice)."""
    seen: dict[str, object] = {}
    for h, lab in zip(handles, labels):
        if lab and not lab.startswith("_") and lab not in seen:
            seen[lab] = h
    if seen:
        seen = dict(sorted(seen.items(), key=lambda kv: not kv[0].startswith("ours")))  # ours first, stable
        ncol = ncol or min(len(seen), 3)
        fig.legend(list(seen.values()), list(seen), loc="outside lower center", ncol=ncol, frameon=False)


def _run_label(m: dict) -> str:
    """``ours: <experiment> (<keypoints>)`` for our trained runs (they carry a seed); a checkpoint
    evaluated here but not trained here (no seed, e.g. a released one) is named by its method."""
    kp = m.get("keypoints", "?")
    if m.get("seed") is None and m.get("method"):
        return f"{m['method']}, evaluated here ({kp})"
    return f"ours: {m.get('experiment') or m.get('method') or 'run'} ({kp})"


def _sorted_views(views) -> list[str]:
    return sorted({str(v) for v in views}, key=lambda v: float(v))


# ---------------------------------------------------------------- rank-1 per probe view


def plot_rank1_by_view(metrics: list[dict], out: str | os.PathLike) -> tuple[Path, Path]:
    """Rank-1 per probe view: CASIA-B NM/BG/CL panels (+ OUMVLP-Pose per convention when given).

    Ours: mean over the given runs (one line per method/experiment/keypoint source), ± sample std as a
    band. References: the GaitGraph2 paper's condition means (dotted horizontal lines) and GaitGraph
    v1's published per-view table (dashed).
    """
    groups: dict[tuple, list[dict]] = {}
    for m in metrics:
        key = (_dataset_key(m.get("dataset", "?")), m.get("keypoints", "?"), m.get("method"), m.get("experiment"))
        groups.setdefault(key, []).append(m)
    rows = []  # (dataset, convention, [conditions])
    for ds in ("casia-b", "oumvlp-pose"):
        runs = [m for (d, *_), ms in groups.items() if d == ds for m in ms]
        if not runs:
            continue
        present = list(dict.fromkeys(c for m in runs for c in m.get("conventions", {})))
        convs = [c for c in MAIN_CONVENTIONS[ds] if c in present] or present  # else whatever the files hold
        if ds == "casia-b":
            for conv in convs[:1]:
                rows.append((ds, [(conv, c) for c in CASIA_CONDITIONS]))
        elif convs:
            conds = list(dict.fromkeys(c for m in runs for conv in convs
                                       for c in m["conventions"].get(conv, {}).get("conditions", {}))) or ["NM"]
            rows.append((ds, [(conv, cond) for conv in convs for cond in conds]))
    synthetic = any(m.get("synthetic") for m in metrics)

    width = 10.0
    fig = new_figure(width, 3.4 * max(len(rows), 1) + 0.9)
    if not rows:
        _placeholder(fig, "no CASIA-B or OUMVLP-Pose evaluations to plot")
        return save_figure(fig, out)
    subfigs = np.atleast_1d(fig.subfigures(len(rows), 1))
    gg2_means = _gaitgraph2_paper_means()
    gg1_name, gg1_views = _gaitgraph1_per_view()
    group_color = {k: color(i) for i, k in enumerate(groups)}  # one colour per run group across all panels
    handles, labels = [], []
    for subfig, (ds, panels) in zip(subfigs, rows):
        axes = np.atleast_1d(subfig.subplots(1, len(panels), sharey=True))
        keys = [k for k in groups if k[0] == ds]
        for ax, (conv, cond) in zip(axes, panels):
            views: list[str] = []
            for k in keys:
                for m in groups[k]:
                    block = m.get("conventions", {}).get(conv, {}).get("conditions", {}).get(cond)
                    views += list((block or {}).get("per_probe_view", {}))
            views = _sorted_views(views)
            pos = np.arange(len(views))
            for k in keys:
                runs = groups[k]
                blocks = [m.get("conventions", {}).get(conv, {}).get("conditions", {}).get(cond) or {} for m in runs]
                stats = [_mean_std([b.get("per_probe_view", {}).get(v) for b in blocks]) for v in views]
                mu = np.array([s[0] for s in stats])
                sd = np.array([s[1] for s in stats])
                n = sum(1 for b in blocks if b.get("per_probe_view"))
                if n == 0:
                    continue
                label = f"{_run_label(runs[0])}, " + (f"mean ± std of {n} runs" if n > 1 else "single run")
                ax.plot(pos, mu, marker="o", ms=3.5, lw=1.6, color=group_color[k], label=label)
                if np.isfinite(sd).any():
                    ax.fill_between(pos, mu - np.nan_to_num(sd), mu + np.nan_to_num(sd), color=group_color[k],
                                    alpha=0.2, lw=0)
            if ds == "casia-b" and cond in gg2_means:
                ax.axhline(gg2_means[cond], color=REFERENCE_COLOR, ls=":", lw=1.4,
                           label="CASIA-B, published: GaitGraph2 paper (mean over views)")
            if ds == "casia-b" and cond in gg1_views:
                ref = [gg1_views[cond].get(v) for v in views]
                ax.plot(pos, [np.nan if r is None else r for r in ref], color=REFERENCE_COLOR, ls="--", lw=1.1,
                        marker="x", ms=3.5, label=f"CASIA-B, published: {gg1_name}, per view")
            if ds == "oumvlp-pose":
                _oumvlp_references(ax, conv, {k[1]: group_color[k] for k in keys})
            ax.set_xticks(pos, views, rotation=90 if len(views) * len(panels) > 33 else 0)
            ax.set_xlabel("probe view (°)")
            ax.set_title(cond if ds == "casia-b" else f"{cond}, {CONVENTION_NAMES.get(conv, conv)}")
            ax.grid(axis="x", visible=False)
            h, lab = ax.get_legend_handles_labels()
            handles += h
            labels += lab
        axes[0].set_ylabel("rank-1 accuracy (%)")
        lo, hi = axes[0].get_ylim()
        axes[0].set_ylim(max(lo, 0), min(hi, 100.5))
        note = CONVENTION_NAMES.get(panels[0][0], panels[0][0]) if ds == "casia-b" else "one panel per protocol"
        subfig.suptitle(f"{_dataset_name(ds)}: rank-1 per probe view; {note}", fontsize=10)
    if synthetic:
        fig.suptitle(SYNTHETIC_NOTE, color="#d55e00", fontsize=10, fontweight="bold")
    _legend_below(fig, handles, labels, ncol=2)
    return save_figure(fig, out)


def _oumvlp_references(ax, convention: str, colors: dict[str, object]) -> None:
    """Published GaitGraph2 OUMVLP-Pose means (18-point layout) of this protocol, one per keypoint source
    we evaluated, as dotted lines in that source's colour."""
    done = set()
    for p in published_entries("oumvlp-pose"):
        kp = p.get("keypoints")
        if (kp in colors and kp not in done and p["method"].startswith("GaitGraph2")
                and p.get("layout") == "openpose18" and p.get("convention") == convention and "NM" in p["values"]):
            flag = ", unverified" if not p.get("verified", True) else ""
            paper = " paper" if p.get("kind") == "paper" else ""
            ax.axhline(p["values"]["NM"], color=colors[kp], ls=":", lw=1.4,
                       label=f"OUMVLP-Pose, published: {p['method']}{paper} ({kp}{flag})")
            done.add(kp)


# ---------------------------------------------------------------- view x view heat maps


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
    ds, kp = _dataset_name(metrics.get("dataset", "?")), metrics.get("keypoints", "?")
    who = ", ".join(str(x) for x in (metrics.get("experiment"), f"seed {metrics['seed']}" if metrics.get("seed")
                                     is not None else None) if x)
    title = f"{ds} ({kp} keypoints{', ' + who if who else ''}): rank-1 (%) per gallery × probe view"
    if metrics.get("synthetic"):
        title += f"\n{SYNTHETIC_NOTE}"
    fig.suptitle(title, color="#d55e00" if metrics.get("synthetic") else "black")
    if not panels:
        _placeholder(fig, "no view matrices in this metrics file")
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
        ax.set_title(f"{cond}: {CONVENTION_NAMES.get(conv, conv)}" + (f"\nmean {mean:.1f} %" if mean is not None else ""),
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


# ---------------------------------------------------------------- training curves

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
        _placeholder(fig, "no training histories to plot")
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
    _legend_below(fig, handles, labels, ncol=min(max(len(histories), 1), 3))
    return save_figure(fig, out)


# ---------------------------------------------------------------- comparison with published numbers

_GROUP_COLORS = {"NM#5-6": 0, "BG#1-2": 1, "CL#1-2": 2, "gaitgraph2": 4, "opengait": 9}


def _ours_bars(summary: dict, ds: str) -> list[dict]:
    bars = []
    for r in summary.get("rows", []):
        if _dataset_key(r.get("dataset", "")) != ds or r.get("mean") is None:
            continue
        if r.get("convention") not in MAIN_CONVENTIONS.get(ds, ()) or r.get("condition") == "mean":
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
        group = r["condition"] if ds == "casia-b" else r["convention"]
        bars.append(dict(label=label, group=group, value=r["mean"], std=r.get("std"), ours=True,
                         keypoints=r.get("keypoints")))
    return bars


def _published_bars(summary: dict, ds: str, keypoints: set[str]) -> list[dict]:
    entries = summary.get("published")
    entries = [p for p in entries if _dataset_key(p.get("dataset", "")) == ds] if entries else published_entries(ds)
    bars = []
    for p in entries:
        if ds == "oumvlp-pose" and keypoints and p.get("keypoints") not in keypoints:
            continue
        if p.get("convention") not in MAIN_CONVENTIONS.get(ds, ()):
            continue
        notes = ["paper"] if p.get("kind") == "paper" else []
        if not p.get("verified", True):
            notes.append("unverified")
        if p.get("test_set", "all") != "all":
            notes.append(f"test {p['test_set']}")
        kp = p.get("keypoints")
        label = p["method"] + (f" [{', '.join(notes)}]" if notes else "")
        if ds != "casia-b" or kp != "hrnet":
            label += f" ({kp})"
        for cond, v in (p.get("values") or {}).items():
            group = cond if ds == "casia-b" else p["convention"]
            std = (p.get("std") or {}).get(cond)
            bars.append(dict(label=label, group=group, value=v, std=std, ours=False, keypoints=kp))
    return bars


def _group_label(group: str) -> str:
    if group in CASIA_CONDITIONS:
        return f"probe {group}"
    return f"protocol {CONVENTION_NAMES.get(group, group)}"


def plot_comparison(summary: dict, out: str | os.PathLike) -> tuple[Path, Path]:
    """Horizontal bars: our mean rank-1 (± std over seeds) beside published numbers, one panel per dataset.

    CASIA-B: one row per method, one bar per probe condition (NM#5-6, BG#1-2, CL#1-2), identical views
    excluded (the paper's convention). OUMVLP-Pose: one row per method and keypoint source, one bar per
    protocol (``gaitgraph2`` / ``opengait``); a missing bar means no number under that protocol.
    Published numbers: ``summary["published"]`` when present, else ``gaitgraph.paper.published``.
    """
    datasets = list(dict.fromkeys(_dataset_key(r.get("dataset", "")) for r in summary.get("rows", [])))
    panels = []
    for ds in (d for d in ("casia-b", "oumvlp-pose") if d in datasets):
        ours = _ours_bars(summary, ds)
        bars = ours + _published_bars(summary, ds, {b["keypoints"] for b in ours})
        if bars:
            panels.append((ds, bars))
    heights = [len(dict.fromkeys(b["label"] for b in bars)) * (0.55 if ds == "casia-b" else 0.34) + 0.9
               for ds, bars in panels]
    fig = new_figure(8.0, sum(heights) + 1.3 if heights else 4.0)
    if not panels:
        _placeholder(fig, "no summary rows to compare")
        return save_figure(fig, out)
    axes = fig.subplots(len(panels), 1, height_ratios=heights, squeeze=False)[:, 0]
    for ax, (ds, bars) in zip(axes, panels):
        legend = {}
        methods = list(dict.fromkeys(b["label"] for b in bars))
        groups = list(dict.fromkeys(b["group"] for b in bars))
        order = list(CASIA_CONDITIONS) + list(MAIN_CONVENTIONS["oumvlp-pose"])
        groups.sort(key=lambda g: order.index(g) if g in order else len(order))
        k = len(groups)
        height = 0.8 / k
        for b in bars:
            j = groups.index(b["group"])
            y = methods.index(b["label"]) + (j - (k - 1) / 2) * height
            xerr = b["std"] if b["std"] is not None and np.isfinite(b["std"]) else None
            handle = ax.barh(y, b["value"], height=height * 0.9, color=color(_GROUP_COLORS.get(b["group"], 7)),
                             xerr=xerr, capsize=2, error_kw={"lw": 0.8}, edgecolor="black" if b["ours"] else "none",
                             linewidth=0.8)
            ax.text(b["value"] + (xerr or 0) + 0.8, y, f"{b['value']:.1f}", va="center", fontsize=6.5)
            legend.setdefault(_group_label(b["group"]), Patch(facecolor=handle.patches[0].get_facecolor()))
        ax.set_yticks(np.arange(len(methods)), methods)
        for tick, m in zip(ax.get_yticklabels(), methods):
            if m.startswith("ours"):
                tick.set_fontweight("bold")
        ax.set_ylim(len(methods) - 0.5, -0.5)  # first row on top
        ax.set_xlim(0, 105)
        ax.set_xlabel("rank-1 accuracy (%)")
        ax.grid(axis="y", visible=False)
        what = "mean over probe views, identical views excluded" if ds == "casia-b" else "normal walking, mean over views"
        ax.set_title(f"{_dataset_name(ds)}: {what}", loc="left")
        # legend under the panel's x label, a fixed distance in points whatever the panel's height
        below = offset_copy(ax.transAxes, fig=fig, y=-30, units="points")
        ax.legend(list(legend.values()), list(legend), loc="upper center", bbox_to_anchor=(0.5, 0), bbox_transform=below,
                  ncol=3 if ds == "casia-b" else 1, frameon=False)
    title = "Our measurements (outlined; mean ± std over seeds) beside published numbers"
    if summary.get("synthetic"):
        title += f"\n{SYNTHETIC_NOTE}"
    fig.suptitle(title, color="#d55e00" if summary.get("synthetic") else "black")
    return save_figure(fig, out)


__all__ = ["plot_rank1_by_view", "plot_view_heatmaps", "plot_training_curves", "plot_comparison",
           "published_entries"]
