"""The ablation study's table (``gaitgraph2.md`` §1.2, §8 "Ablations"; ``docs/ablation.md``).

:func:`build_ablation_table` writes ``results/ablation.md`` / ``.tex`` / ``.json`` from the rows' metrics
(``gaitgraph.ablation.rows``): every row as mean ± sample std (ddof 1) over its seeds with the number of
runs, and the differences of the means to the base row and to the full model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from gaitgraph.ablation.study import BASE_ROW, FULL_ROW, ROWS, row_label
from gaitgraph.datasets import dataset_title, get_dataset
from gaitgraph.outputs import write_json, write_text
from gaitgraph.stats import mean_std
from gaitgraph.table_format import DASH, latex_table, markdown_table

# ---------------------------------------------------------------- the table


@dataclass
class RowResult:
    row: str
    label: str
    group: str
    seeds: list = field(default_factory=list)
    values: dict = field(default_factory=dict)  # column -> list of per-run values


def _columns(dataset: str, metrics: dict) -> list[tuple[str, str, str | None]]:
    """(column title, convention, condition or None = the convention's mean), primary column first."""
    convs = list(metrics["conventions"])
    cols = []
    if get_dataset(dataset).by_condition:  # CASIA-B: one column per walking condition
        first = "exclude_identical" if "exclude_identical" in convs else convs[0]
        for cond in metrics["conventions"][first]["conditions"]:
            cols.append((cond, first, cond))
        cols.insert(0, ("mean", first, None))
        return cols
    for name in convs:
        cols.append((f"{name} conv.", name, None))
    return cols


def collect(metrics_files, rows=ROWS, default_normalization: str = "none") -> tuple[list[RowResult], list, dict]:
    """Group the per-run metrics by ``ablation_row`` -> (row results in table order, columns, info)."""
    runs = []
    for f in metrics_files:
        m = json.loads(Path(f).read_text())
        if "ablation_row" not in m:
            raise ValueError(f"{f}: not an ablation evaluation (no 'ablation_row')")
        runs.append(m)
    if not runs:
        raise ValueError("no ablation metrics given")
    datasets = {(m["dataset"], m.get("keypoints")) for m in runs}
    if len(datasets) != 1:
        raise ValueError(f"ablation runs on more than one dataset: {sorted(map(str, datasets))}")
    dataset, keypoints = datasets.pop()
    columns = _columns(dataset, runs[0])
    by_row = {r.name: RowResult(r.name, row_label(r, default_normalization), r.group) for r in rows}
    unknown = sorted({m["ablation_row"] for m in runs} - set(by_row))
    if unknown:
        raise ValueError(f"unknown ablation rows {unknown}; known: {[r.name for r in rows]}")
    for m in sorted(runs, key=lambda m: (m["ablation_row"], m.get("seed") if m.get("seed") is not None else -1)):
        res = by_row[m["ablation_row"]]
        res.seeds.append(m.get("seed"))
        for title, conv, cond in columns:
            block = m["conventions"].get(conv, {})
            value = block.get("mean") if cond is None else (block.get("conditions", {}).get(cond) or {}).get("mean")
            res.values.setdefault(title, []).append(value)
    info = {"dataset": dataset, "keypoints": keypoints, "synthetic": any(m.get("synthetic") for m in runs)}
    return [by_row[r.name] for r in rows if by_row[r.name].seeds], columns, info


def _pm(mean, std, n) -> str:
    if mean is None:
        return DASH
    return f"{mean:.1f} ± {std:.1f}" if std is not None else f"{mean:.1f}"


def _signed(d) -> str:
    return DASH if d is None else f"{d:+.1f}"


def summarize(results: list[RowResult], columns) -> list[dict]:
    """Per row: mean/std/n of every column and the deltas of the primary column to base and full."""
    primary = columns[0][0]
    stats = {r.row: {c: mean_std(r.values.get(c, [])) for c, _, _ in columns} for r in results}
    ref = {name: stats[name][primary][0] if name in stats else None for name in (BASE_ROW, FULL_ROW)}
    out = []
    for r in results:
        s = stats[r.row]
        out.append({
            "row": r.row, "label": r.label, "group": r.group, "n_runs": s[primary][2],
            "seeds": r.seeds, "columns": {c: {"mean": s[c][0], "std": s[c][1], "n": s[c][2]} for c, _, _ in columns},
            "delta_base": None if ref[BASE_ROW] is None or s[primary][0] is None else s[primary][0] - ref[BASE_ROW],
            "delta_full": None if ref[FULL_ROW] is None or s[primary][0] is None else s[primary][0] - ref[FULL_ROW],
        })
    return out


def build_ablation_table(metrics_files, out_md, out_tex, out_json=None, *, rows=ROWS,
                         default_normalization: str = "none") -> list[dict]:
    """Write ``results/ablation.md`` / ``.tex`` (and the summary JSON) from the per-run metrics."""
    results, columns, info = collect(metrics_files, rows, default_normalization)
    summary = summarize(results, columns)
    primary = columns[0][0]
    header = ["configuration", *[f"rank-1 {c}" if i == 0 else c for i, (c, _, _) in enumerate(columns)],
              "Δ base", "Δ full", "n runs"]
    body = []
    for s in summary:
        cells = [_pm(s["columns"][c]["mean"], s["columns"][c]["std"], s["columns"][c]["n"]) for c, _, _ in columns]
        body.append([s["label"], *cells, _signed(s["delta_base"]), _signed(s["delta_full"]), str(s["n_runs"])])
    title = f"Ablation study, {dataset_title(info['dataset'])} ({info['keypoints']})"
    lines = [f"# {title}", ""]
    if info["synthetic"]:
        lines += ["The numbers below come from the embedded SYNTHETIC data with tiny training budgets: they test "
                  "the pipeline, not the method.", ""]
    lines += [
        f"Rank-1 (%) on the test split, mean ± sample std (ddof 1) over the training seeds (n runs; no ± with one "
        f"run). Δ base / Δ full: difference of the mean of `{primary}` to the base row / to the full model "
        "(+ TTA). Every row is its own training per seed, except \"+ TTA (full model)\" (the \"+ augmentation\" "
        "models evaluated with TTA) and the \"shuffled at test\" rows (the ordered / train-shuffled models, "
        "evaluated with the frames of each test window shuffled). Models are the last epoch of each run "
        "(no selection on the test set). See docs/ablation.md for the overlay of each row.", "",
        markdown_table(header, body), "",
    ]
    write_text(out_md, "\n".join(lines))
    tex = latex_table(header, body, caption=f"{title}: rank-1 (%), mean ± std over seeds; Δ to base and full model.",
                      label="tab:ablation")
    write_text(out_tex, tex + "\n")
    if out_json is not None:
        write_json(out_json, {**info, "primary": primary, "rows": summary})
    return summary
