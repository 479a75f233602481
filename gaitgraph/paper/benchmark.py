"""The method x dataset benchmark: every method's runs (mean ± std over seeds, with n) beside the published numbers.

``build_benchmark(metrics_files, out_md, out_tex, out_json)`` reads per-run ``metrics.json`` files of any
registered or unregistered method and dataset and writes one table: a row per method of ours (GaitGraph2,
GaitGraph, ... as ``metrics.json`` names them) and per published result (the dataset modules' ``published``
entries, grouped under the method they name), a column per evaluated (dataset, keypoint source). A cell holds
the dataset's main metric (``gaitgraph.datasets``: the first convention this pipeline scores): CASIA-B's mean
rank-1 over its probe conditions (identical views excluded), OUMVLP-Pose's mean rank-1 over views, the rank-1
of Gait3D's probe set, GREW's local held-out rank-1 (not the official number). A published number measured
otherwise (another convention, keypoint source or test set) says so in its cell. The summary JSON also holds
the per-condition rows of ``gaitgraph.paper.tables.summarize``, from which the figure is drawn
(``gaitgraph.viz.comparison``).
"""

from __future__ import annotations

from dataclasses import dataclass

from gaitgraph.datasets import all_published, get_dataset, list_datasets
from gaitgraph.datasets.spec import Published, Retrieval
from gaitgraph.table_format import markdown_table
from gaitgraph.methods import get_method, list_methods
from gaitgraph.outputs import write_json, write_text
from gaitgraph.paper.tables import (DASH, KIND_LABEL, SYNTHETIC_BANNER, Sources, latex_block, load_runs, pm,
                                    published_cell, rounded, run_variant, summarize)
from gaitgraph.stats import mean_std

OTHERS = "other methods"  # the group of published methods this version has no module for


@dataclass(frozen=True)
class Column:
    """One (dataset, keypoints) of the table and the convention whose main value it shows."""

    dataset: str
    keypoints: str
    convention: str | None  # None: an unknown dataset whose runs hold no convention

    @property
    def header(self) -> str:
        return f"{_title(self.dataset)} {self.keypoints}"


def _spec(dataset: str):
    try:
        return get_dataset(dataset)
    except ValueError:
        return None


def _title(dataset: str) -> str:
    spec = _spec(dataset)
    return spec.title if spec else str(dataset)


def _convention(dataset: str, name: str | None):
    spec = _spec(dataset)
    for c in spec.conventions if spec else ():
        if c.name == name:
            return c
    return None


def main_value(run: dict, convention: str | None) -> float | None:
    """A run's main metric under ``convention``: a view-matrix convention's mean, a retrieval one's rank-1."""
    entry = run["conventions"].get(convention) if convention else None
    if not entry:
        return None
    if entry.get("kind") == "retrieval":
        return (entry.get("metrics") or {}).get("rank1")
    return entry.get("mean")


def columns(runs: list[dict]) -> list[Column]:
    """The evaluated (dataset, keypoints), registry order first; each with its dataset's main convention (an
    unknown dataset: the first convention its runs hold)."""
    pairs = list(dict.fromkeys((m["dataset"], m["keypoints"]) for m in runs))
    order = list_datasets()
    pairs.sort(key=lambda p: (order.index(p[0]) if p[0] in order else len(order), p[0], p[1]))
    out = []
    for ds, kp in pairs:
        spec = _spec(ds)
        if spec is not None and spec.main_convention is not None:
            conv = spec.main_convention
        else:
            conv = next((c for m in runs if (m["dataset"], m["keypoints"]) == (ds, kp) for c in m["conventions"]), None)
        out.append(Column(ds, kp, conv))
    return out


# ---------------------------------------------------------------- ours


def _method_order(name: str, trained: set[str]) -> tuple:
    """Methods with runs of ours first, then the other registered ones, each in registry order (by title),
    unregistered names by name, :data:`OTHERS` last."""
    titles = [get_method(m).title for m in list_methods()]
    index = titles.index(name) if name in titles else len(titles)
    return (name not in trained, name == OTHERS, index, name)


def ours_cells(runs: list[dict], cols: list[Column]) -> list[dict]:
    """One entry per (method, experiment, fill, column, test set): mean ± std of the runs' main values."""
    groups: dict[tuple, list[dict]] = {}
    for m in runs:
        test_set, fill = run_variant(m)
        groups.setdefault((m["method"], m["experiment"], fill, m["dataset"], m["keypoints"], test_set), []).append(m)
    by_pair = {(c.dataset, c.keypoints): c for c in cols}
    cells = []
    for (method, experiment, fill, ds, kp, test_set), members in groups.items():
        col = by_pair[(ds, kp)]
        values = [main_value(m, col.convention) for m in members]
        mu, sd, n = mean_std(values)
        cells.append(dict(method=method, experiment=experiment, fill_before_training=fill, dataset=ds, keypoints=kp,
                          convention=col.convention, test_set=test_set, mean=rounded(mu), std=rounded(sd), n_runs=n,
                          seeds=[m.get("seed") for m in members], values=[rounded(v) for v in values],
                          synthetic=any(bool(m.get("synthetic")) for m in members)))
    return cells


def _ours_text(cell: dict) -> str:
    if cell["mean"] is None:
        return DASH
    text = f"{pm(cell['mean'], cell['std'])} (n={cell['n_runs']})"
    return text + (f" [test {cell['test_set']}]" if cell["test_set"] != "all" else "")


# ---------------------------------------------------------------- published


def published_method(p: Published) -> str:
    """The registered method a published entry reports (by title: "GaitGraph2 (FastPoseGait, vanilla)" ->
    GaitGraph2), else :data:`OTHERS`."""
    titles = sorted((get_method(m).title for m in list_methods()), key=len, reverse=True)  # GaitGraph2 before GaitGraph
    for title in titles:
        if p.method == title or p.method.startswith(title + " "):
            return title
    return OTHERS


def _published_column(p: Published, cols: list[Column]) -> Column | None:
    """The column a published entry goes in: same dataset and keypoints, else the dataset's first column."""
    same = [c for c in cols if c.dataset == p.dataset]
    return next((c for c in same if c.keypoints == p.keypoints), same[0] if same else None)


def _published_text(p: Published, col: Column) -> str:
    """The entry's main value, with what differs from the column's protocol in brackets."""
    conv = _convention(p.dataset, p.convention)
    value = p.mean if p.mean is not None else p.values.get("rank1")
    if value is None:
        return DASH
    text = published_cell(value, p, "rank1" if isinstance(conv, Retrieval) else "mean")
    notes = []
    if p.convention != col.convention:
        notes.append(conv.label if conv else p.convention)
    if p.keypoints != col.keypoints:
        notes.append(p.keypoints)
    if p.test_set != "all":
        notes.append(f"test {p.test_set}")
    return text + (f" [{'; '.join(notes)}]" if notes else "")


# ---------------------------------------------------------------- the document


def _legend(cols: list[Column]) -> list[str]:
    out = ["Columns (the dataset's main metric, in %):", ""]
    for c in cols:
        conv = _convention(c.dataset, c.convention)
        if conv is None:
            out.append(f"- **{c.header}**: convention `{c.convention}` as the runs' metrics files name it.")
            continue
        metric = "rank-1 of the probe set" if isinstance(conv, Retrieval) else "mean rank-1"
        out.append(f"- **{c.header}**: {metric}, {conv.label}. {conv.table_text}")
        spec = _spec(c.dataset)
        if spec is not None and spec.withheld_probes:
            out.append(f"  The official {spec.title} number needs the submission file of each run "
                       f"(`results/submission/{c.dataset}/{c.keypoints}/<method>/seed<N>.csv`), scored by the "
                       "dataset's server; published numbers in brackets are the server's.")
    return out + [""]


def build_benchmark(metrics_files, out_md, out_tex, out_json) -> dict:
    """Write the benchmark table (``out_md``, ``out_tex``) and its summary (``out_json``); return the summary."""
    runs = load_runs(metrics_files)
    cols = columns(runs)
    cells = ours_cells(runs, cols)
    synthetic = any(bool(m.get("synthetic")) for m in runs)
    sources = Sources()

    rows: list[tuple[tuple, list[str]]] = []  # (sort key, table row)
    ours = list(dict.fromkeys((c["method"], c["experiment"], c["fill_before_training"]) for c in cells))
    trained = {method for method, _, _ in ours}
    for method, experiment, fill in ours:
        texts = []
        for col in cols:
            mine = [c for c in cells if (c["method"], c["experiment"], c["fill_before_training"], c["dataset"],
                                         c["keypoints"]) == (method, experiment, fill, col.dataset, col.keypoints)]
            texts.append("; ".join(_ours_text(c) for c in mine) or DASH)
        label = f"{experiment}" + (" [joints filled before training]" if fill else "")
        rows.append(((*_method_order(method, trained), 0, label), [method, label, KIND_LABEL["ours"], *texts, "this pipeline"]))

    published = [p for ds in dict.fromkeys(c.dataset for c in cols) if _spec(ds) for p in all_published(dataset=ds)]
    names = list(dict.fromkeys(p.method for p in published))
    for name in names:
        entries = [p for p in published if p.method == name]
        texts = []
        for col in cols:
            mine = [p for p in entries if _published_column(p, cols) == col]
            texts.append("; ".join(_published_text(p, col) for p in mine) or DASH)
        group = published_method(entries[0])
        refs = " ".join(dict.fromkeys(sources.ref(p.source) for p in entries))
        kinds = "/".join(dict.fromkeys(KIND_LABEL[p.kind] for p in entries))
        rows.append(((*_method_order(group, trained), 1, ""), [group, name, kinds, *texts, refs]))
    rows.sort(key=lambda r: r[0][:5])  # stable: ours first within a method, published in the dataset modules' order
    body = [r for _, r in rows]
    header = ["method", "result", "kind", *(c.header for c in cols), "source"]

    md = ["# Benchmark: every method on every dataset", ""]
    if synthetic:
        which = sorted({f"{m['dataset']}/{m['keypoints']}" for m in runs if m.get("synthetic")})
        md += [f"> **SYNTHETIC DATA.** {SYNTHETIC_BANNER} With tiny training budgets it shows that every method "
               f"trains and evaluates through the same pipeline, not how good the methods are (synthetic: "
               f"{', '.join(which)}).", ""]
    md += ["**ours**: mean ± sample standard deviation (ddof = 1) over the *n* training seeds of this pipeline "
           f"(`± {DASH}`: a single run); `[test > N frames]`: evaluated without the test sequences of at most N frames "
           "(the method's own protocol). Published numbers are copied from the sources below (the dataset modules' "
           "`published` entries, `gaitgraph/datasets/`); brackets say where their protocol differs from the column's "
           "(convention, keypoint source, test set), so such numbers are not directly comparable.", ""]
    md += _legend(cols)
    md += [markdown_table(header, body, "lll" + "r" * len(cols) + "l"), ""]
    md += ["## Sources", ""] + [f"{i}. {s}" for i, s in enumerate(sources.items, 1)] + [""]
    md += ["## Runs", ""]
    md += [markdown_table(["method / experiment", "dataset", "keypoints", "seed", "test set", "metrics file"],
                          [[f"{m['method']} / {m['experiment']}", m["dataset"], m["keypoints"], str(m["seed"]),
                            run_variant(m)[0], f"`{m['_file']}`"] for m in runs], "llllll"), ""]

    caption = "Benchmark: main metric (%) per dataset and keypoint source; ours mean ± std over seeds"
    tex = ["% Benchmark: generated by gaitgraph.paper.benchmark; needs \\usepackage{booktabs}"]
    if synthetic:
        tex.append("% SYNTHETIC DATA: " + SYNTHETIC_BANNER)
    tex += ["", latex_block(header, body, caption, "tab:benchmark"), "", "% Sources:"]
    tex += [f"% [{i}] {s}" for i, s in enumerate(sources.items, 1)]

    summary = {
        "synthetic": synthetic,
        "columns": [{"dataset": c.dataset, "keypoints": c.keypoints, "convention": c.convention} for c in cols],
        "ours": cells,
        "published": [p.as_dict() | {"benchmark_method": published_method(p)} for p in published],
        "rows": summarize(runs),  # per condition and convention: the figure's input (gaitgraph.viz.comparison)
        "runs": [{k: m.get(k) for k in ("dataset", "keypoints", "method", "experiment", "seed", "synthetic", "tta",
                                        "config_hash", "test_set")} | {"file": m["_file"]} for m in runs],
    }
    write_text(out_md, "\n".join(md))
    write_text(out_tex, "\n".join(tex) + "\n")
    write_json(out_json, summary)
    return summary
