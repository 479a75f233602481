"""The paper tables: our rank-1 over seeds beside the published numbers.

``build_paper_tables(metrics_files, out_md, out_tex, out_json)`` reads the per-run ``metrics.json``
files (``gaitgraph.evaluation.metrics_file``), groups them by (method, experiment, dataset, keypoints),
takes mean ± sample std (ddof = 1) over the runs of a group for every condition and view, and
writes ``results/tables.md``, ``results/tables.tex`` (booktabs) and the summary
``results/metrics.json`` (``docs/design.md``). Every dataset fact (title, conventions, conditions,
protocol text, published numbers) comes from its dataset module (``gaitgraph.datasets``); a published
number sits in the column of the convention it was measured with.
"""

from __future__ import annotations

import json
from pathlib import Path

from gaitgraph.environment import summary_line
from gaitgraph.evaluation.selection import label as test_set_label
from gaitgraph.datasets import all_published, get_dataset, list_datasets
from gaitgraph.datasets.spec import DatasetSpec, Published, Retrieval
from gaitgraph.outputs import write_json, write_text
from gaitgraph.stats import mean_std
from gaitgraph.table_format import DASH, latex_table, markdown_table

SYNTHETIC_BANNER = (
    "The numbers below come from the embedded SYNTHETIC datasets: they test the pipeline, not the method."
)
KIND_LABEL = {"paper": "paper", "reproduction": "reproduction", "peer": "other method", "ours": "**ours**"}
FILL_LABEL = " [joints filled before training]"
TEST_SET_NOTE = (
    "*test set*: which test sequences a row was measured on: `all`, or `> N frames` where shorter sequences were "
    "left out of gallery and probes (GaitGraph v1's own protocol, also FastPoseGait's `frame_threshold`); numbers "
    "on different test sets are not directly comparable. Ours: `gaitgraph evaluate --test-set` (GaitGraph v1 "
    "checkpoints default to v1's protocol). Published: see *Test protocols of the published rows* below."
)


# ---------------------------------------------------------------- reading and aggregating


def load_runs(metrics_files) -> list[dict]:
    """Read the per-run metrics files; each gets ``_file``. A file lacking the essentials is an error."""
    runs = []
    for f in metrics_files:
        f = Path(f)
        try:
            m = json.loads(f.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise ValueError(f"{f}: cannot read metrics ({e})") from None
        missing = [k for k in ("dataset", "keypoints", "conventions") if k not in m]
        if missing:
            raise ValueError(f"{f}: not an evaluation metrics.json (lacks {', '.join(missing)})")
        m.setdefault("method", "GaitGraph2")
        m.setdefault("experiment", "gaitgraph2")
        m.setdefault("seed", None)
        m["_file"] = str(f)
        runs.append(m)
    if not runs:
        raise ValueError("no metrics files given")
    return runs


def rounded(x):
    """A value as stored in the summaries: 4 decimals, None kept."""
    return None if x is None else round(float(x), 4)


def run_variant(m: dict) -> tuple[str, bool]:
    """(test-set label, joints filled before training): runs that differ here are separate rows."""
    return test_set_label(m.get("test_set")), bool((m.get("normalization") or {}).get("fill_missing_joints"))


def _group_key(m: dict) -> tuple:
    return (m["method"], m["experiment"], m["dataset"], m["keypoints"], *run_variant(m))


def _sort_seed(m: dict):
    return (m["seed"] is None, m["seed"] if isinstance(m["seed"], (int, float)) else str(m["seed"]), m["_file"])


def _blocks(conv: dict) -> dict:
    """A convention's per-condition blocks; a retrieval convention (Gait3D, GREW) gives one per metric
    (``rank1``, ``mAP``, ...), its value as the block's ``mean``."""
    if conv.get("kind") == "retrieval":
        return {name: {"mean": value} for name, value in (conv.get("metrics") or {}).items()}
    return conv["conditions"]


def _convention_names(dataset: str) -> tuple[str, ...]:
    try:
        return tuple(c.name for c in get_dataset(dataset).conventions)
    except ValueError:  # a dataset this version does not know: its conventions as the runs have them
        return ()


def summarize(runs: list[dict]) -> list[dict]:
    """Summary rows (design.md): one per group x convention x condition (retrieval conventions: x
    metric), plus a ``mean`` row per rank-1 convention when it has several conditions."""
    groups: dict[tuple, list[dict]] = {}
    for m in runs:
        groups.setdefault(_group_key(m), []).append(m)
    rows = []
    for key, members in groups.items():
        members.sort(key=_sort_seed)
        method, experiment, dataset, keypoints, test_set, fill = key
        names = list(dict.fromkeys([*_convention_names(dataset), *(c for m in members for c in m["conventions"])]))
        for conv in names:
            present = [m for m in members if conv in m["conventions"]]
            if not present:
                continue
            conds = list(dict.fromkeys(c for m in present for c in _blocks(m["conventions"][conv])))
            base = dict(method=method, experiment=experiment, dataset=dataset, keypoints=keypoints, convention=conv,
                        test_set=test_set, fill_before_training=fill,
                        skeleton=present[0].get("skeleton"), synthetic=any(bool(m.get("synthetic")) for m in present))
            for cond in conds:
                blocks = [_blocks(m["conventions"][conv]).get(cond) for m in present]
                vals = [b.get("mean") if b else None for b in blocks]
                mu, sd, n = mean_std(vals)
                views = list(dict.fromkeys(v for b in blocks if b for v in b.get("per_probe_view", {})))
                per_view = {}
                for v in views:
                    vm, vs, _ = mean_std([b.get("per_probe_view", {}).get(v) if b else None for b in blocks])
                    per_view[v] = [rounded(vm), rounded(vs)]
                rows.append(dict(base, condition=cond, n_runs=n, seeds=[m["seed"] for m in present],
                                 mean=rounded(mu), std=rounded(sd), per_view=per_view, values=[rounded(x) for x in vals]))
            if len(conds) > 1 and present[0]["conventions"][conv].get("kind") != "retrieval":
                vals = [m["conventions"][conv].get("mean") for m in present]
                mu, sd, n = mean_std(vals)
                rows.append(dict(base, condition="mean", n_runs=n, seeds=[m["seed"] for m in present],
                                 mean=rounded(mu), std=rounded(sd), per_view={}, values=[rounded(x) for x in vals]))
    return rows


# ---------------------------------------------------------------- formatting


def pm(mean, std, n: int | None = None, digits: int = 1) -> str:
    """``80.1 ± 1.2``; one run: ``80.1 ± –``; nothing: ``–``."""
    if mean is None:
        return DASH
    return f"{mean:.{digits}f} ± " + (DASH if std is None else f"{std:.{digits}f}")


def published_cell(x, p: Published, cond: str | None = None) -> str:
    if x is None:
        return DASH
    s = f"{x:.2f}".rstrip("0").rstrip(".") if round(x, 1) != x else f"{x:.1f}"
    if p.std and cond in p.std:
        s += f" ± {p.std[cond]:.1f}"
    if not p.verified:
        s += " (unverified)"
    return s


class Sources:
    """Numbered references: the same source string gets the same number."""

    def __init__(self):
        self.items: list[str] = []

    def ref(self, source: str) -> str:
        if source not in self.items:
            self.items.append(source)
        return f"[{self.items.index(source) + 1}]"


def _find(rows, **kw) -> dict | None:
    for r in rows:
        if all(r.get(k) == v for k, v in kw.items()):
            return r
    return None


def _ours_label(method: str, experiment: str, fill: bool = False) -> str:
    return f"{method} / {experiment}" + (FILL_LABEL if fill else "")


def _sel(group: tuple) -> dict:
    """``_find`` keys of one group of our runs: (method, experiment, test set, fill)."""
    method, experiment, test_set, fill = group
    return dict(method=method, experiment=experiment, test_set=test_set, fill_before_training=fill)


def _protocol_notes(pubs) -> list[str]:
    """The test-set legend and one line per published row saying which test sequences its source used."""
    out = [TEST_SET_NOTE, "", "Test protocols of the published rows:", ""]
    out += [f"- {p.method} ({p.keypoints}, {p.layout}): {p.test_set} — {p.test_protocol}" for p in pubs]
    return out + [""]


def _n_label(row: dict | None) -> str:
    if row is None:
        return "0"
    seeds = ", ".join(str(s) for s in row["seeds"])
    return f"{row['n_runs']} (seed {seeds})" if row["seeds"] and any(s is not None for s in row["seeds"]) else str(row["n_runs"])


# ---------------------------------------------------------------- sections, by the shape of the protocol


def _title(spec: DatasetSpec, keypoints: str) -> str:
    return f"{spec.title} — {keypoints} keypoints"


def _heading(rows, spec: DatasetSpec, keypoints: str) -> str:
    synthetic = any(r["synthetic"] for r in rows if r["dataset"] == spec.name and r["keypoints"] == keypoints)
    return f"## {_title(spec, keypoints)}" + (" (SYNTHETIC data)" if synthetic else "")


def _by_condition_section(rows, spec: DatasetSpec, keypoints, groups, sources: Sources, latex: list[str]) -> list[str]:
    """A dataset whose paper convention reports several probe conditions (CASIA-B): one column per condition,
    further conventions as tables of ours alone, per-view tables of ours and of published entries that have them."""
    dataset, paper, others = spec.name, spec.conventions[0], spec.conventions[1:]
    conditions = tuple(p.label for p in paper.probes)
    title = _title(spec, keypoints)
    out = [_heading(rows, spec, keypoints), "", "Protocol of every column: " + paper.table_text, ""]
    header = ["result", "kind", "keypoints", "test set", "n", *conditions, "mean", "source"]
    body = []
    for group in groups:
        sel = dict(_sel(group), dataset=dataset, keypoints=keypoints, convention=paper.name)
        cells = [_find(rows, condition=c, **sel) for c in (*conditions, "mean")]
        body.append([_ours_label(group[0], group[1], group[3]), KIND_LABEL["ours"], keypoints, group[2],
                     _n_label(cells[0]), *[pm(c["mean"], c["std"]) if c else DASH for c in cells], "this pipeline"])
    pubs = all_published(dataset=dataset, convention=paper.name)
    for p in pubs:
        body.append([p.method, KIND_LABEL[p.kind], p.keypoints, p.test_set, "",
                     *[published_cell(p.values.get(c), p, c) for c in conditions], published_cell(p.mean, p), sources.ref(p.source)])
    out += [markdown_table(header, body, "llllr" + "r" * (len(conditions) + 1) + "l"), ""]
    notes = [f"{p.method}: {p.note}" for p in pubs if p.note]
    if notes:
        out += ["Notes: " + "; ".join(notes) + ".", ""]
    out += _protocol_notes(pubs)
    latex.append(latex_block(header, body, f"{title}: rank-1 (%), {paper.label}; ours mean ± std over seeds",
                              f"tab:{dataset}-{keypoints}-summary"))

    for conv in others:  # ours under the other conventions: no published counterpart
        inc = []
        for group in groups:
            sel = dict(_sel(group), dataset=dataset, keypoints=keypoints, convention=conv.name)
            cells = [_find(rows, condition=c, **sel) for c in (*conditions, "mean")]
            if cells[0] is not None:
                inc.append([_ours_label(group[0], group[1], group[3]), group[2], _n_label(cells[0]),
                            *[pm(c["mean"], c["std"]) if c else DASH for c in cells]])
        if inc:
            out += [conv.table_text, ""]
            out += [markdown_table(["result", "test set", "n", *conditions, "mean"], inc, "lll" + "r" * (len(conditions) + 1)), ""]

    # per view, ours (mean ± std over seeds) and published per-view tables
    for group in groups:
        sel = dict(_sel(group), dataset=dataset, keypoints=keypoints, convention=paper.name)
        cond_rows = [_find(rows, condition=c, **sel) for c in conditions]
        if not any(cond_rows):
            continue
        method, experiment = group[0], group[1]
        views = list(dict.fromkeys(v for r in cond_rows if r for v in r["per_view"]))
        n = _n_label(next((r for r in cond_rows if r), None))
        out += [f"### Per probe view — ours, {_ours_label(method, experiment, group[3])}, test set {group[2]}, "
                f"{paper.label}, mean ± std over n = {n}", ""]
        header = ["probe set", *views, "mean"]
        body = [[c, *[pm(*r["per_view"].get(v, [None, None])) if r else DASH for v in views], pm(r["mean"], r["std"]) if r else DASH]
                for c, r in zip(conditions, cond_rows)]
        out += [markdown_table(header, body), ""]
        latex.append(latex_block(header, body, f"{title}: ours ({method} / {experiment}) per probe view, {paper.label}, "
                                  f"test set {group[2]}, mean ± std over n = {n}",
                                  f"tab:{dataset}-{keypoints}-{experiment}-views-{groups.index(group)}"))
    for p in pubs:
        if not p.per_view:
            continue
        views = list(next(iter(p.per_view.values())))
        out += [f"### Per probe view — published: {p.method} {sources.ref(p.source)}, test set {p.test_set}", ""]
        header = ["probe set", *views, "mean"]
        body = [[c, *[published_cell(p.per_view[c].get(v), p) for v in views], published_cell(p.values.get(c), p)] for c in p.per_view]
        out += [markdown_table(header, body), ""]
        latex.append(latex_block(header, body, f"{title}: published per probe view, {p.method}",
                                  f"tab:{dataset}-published-views-{len(latex)}"))
    return out


def _by_convention_section(rows, spec: DatasetSpec, keypoints, groups, sources: Sources, latex: list[str]) -> list[str]:
    """A dataset with one reported condition under several conventions (OUMVLP-Pose): one column per convention."""
    dataset, convs = spec.name, spec.conventions
    condition = convs[0].probes[0].label
    title = _title(spec, keypoints)
    out = [_heading(rows, spec, keypoints), ""]
    out += ["The two columns are two protocols on the same embeddings; a published number sits in the column of the "
            "protocol it used and is not comparable with the other column:", ""]
    out += [f"- {c.table_text}" + (";" if i < len(convs) - 1 else ".") for i, c in enumerate(convs)] + [""]
    header = ["result", "kind", "layout", "test set", "n", *(c.label for c in convs), "source"]
    body = []
    for group in groups:
        sel = dict(_sel(group), dataset=dataset, keypoints=keypoints, condition=condition)
        found = [_find(rows, convention=c.name, **sel) for c in convs]
        first = next((f for f in found if f), None)
        body.append([_ours_label(group[0], group[1], group[3]), KIND_LABEL["ours"], str((first or {}).get("skeleton")),
                     group[2], _n_label(first), *[pm(f["mean"], f["std"]) if f else DASH for f in found], "this pipeline"])
    pubs = all_published(dataset=dataset, keypoints=keypoints)
    for p in pubs:
        cell = published_cell(p.values.get(condition), p)
        body.append([p.method, KIND_LABEL[p.kind], p.layout, p.test_set, "",
                     *[cell if p.convention == c.name else DASH for c in convs], sources.ref(p.source)])
    out += [markdown_table(header, body, "lllll" + "r" * len(convs) + "l"), ""]
    notes = [f"{p.method}: {p.note}" for p in pubs if p.note]
    if notes:
        out += ["Notes: " + "; ".join(notes) + ".", ""]
    out += _protocol_notes(pubs)
    latex.append(latex_block(header, body, f"{title}: rank-1 (%) under both conventions; ours mean ± std over seeds",
                              f"tab:{dataset}-{keypoints}-summary"))

    for group in groups:
        sel = dict(_sel(group), dataset=dataset, keypoints=keypoints, condition=condition)
        conv_rows = [(c.name, _find(rows, convention=c.name, **sel)) for c in convs]
        conv_rows = [(c, r) for c, r in conv_rows if r]
        if not conv_rows:
            continue
        method, experiment = group[0], group[1]
        views = list(dict.fromkeys(v for _, r in conv_rows for v in r["per_view"]))
        n = _n_label(conv_rows[0][1])
        out += [f"### Per probe view — ours, {_ours_label(method, experiment, group[3])}, test set {group[2]}, "
                f"mean ± std over n = {n}", ""]
        header = ["convention", *views, "mean"]
        body = [[c, *[pm(*r["per_view"].get(v, [None, None])) for v in views], pm(r["mean"], r["std"])] for c, r in conv_rows]
        out += [markdown_table(header, body), ""]
        latex.append(latex_block(header, body, f"{title}: ours ({method} / {experiment}) per probe view, test set "
                                  f"{group[2]}, mean ± std over n = {n}",
                                  f"tab:{dataset}-{keypoints}-{experiment}-views-{groups.index(group)}"))
    return out


def _retrieval_section(rows, spec: DatasetSpec, keypoints, groups, sources: Sources, latex: list[str]) -> list[str]:
    """A retrieval dataset (Gait3D, GREW): per convention, ours with every metric beside published rank-1 numbers."""
    dataset, title = spec.name, _title(spec, keypoints)
    out = [_heading(rows, spec, keypoints), ""]
    for conv in spec.conventions:
        metrics = [f"rank{k}" for k in conv.ranks] + ["mAP", "mINP"]
        pubs = all_published(dataset=dataset, convention=conv.name)
        body = []
        for group in groups:
            sel = dict(_sel(group), dataset=dataset, keypoints=keypoints, convention=conv.name)
            cells = [_find(rows, condition=m, **sel) for m in metrics]
            if any(cells) or not conv.scored:
                body.append([_ours_label(group[0], group[1], group[3]), KIND_LABEL["ours"], keypoints, group[2],
                             _n_label(next((c for c in cells if c), None)),
                             *[pm(c["mean"], c["std"]) if c else DASH for c in cells], "this pipeline"])
        for p in pubs:
            body.append([p.method, KIND_LABEL[p.kind], p.keypoints, p.test_set, "",
                         *[published_cell(p.values.get(m), p, m) if m in p.values else DASH for m in metrics], sources.ref(p.source)])
        if not body:
            continue
        header = ["result", "kind", "keypoints", "test set", "n", *metrics, "source"]
        out += [f"### {conv.label}", "", conv.table_text, ""]
        out += [markdown_table(header, body, "llllr" + "r" * len(metrics) + "l"), ""]
        notes = [f"{p.method}: {p.note}" for p in pubs if p.note]
        if notes:
            out += ["Notes: " + "; ".join(notes) + ".", ""]
        if pubs:
            out += _protocol_notes(pubs)
        latex.append(latex_block(header, body, f"{title}, {conv.label}: rank-k, mAP, mINP (%); ours mean ± std over seeds",
                                  f"tab:{dataset}-{keypoints}-{conv.name}"))
    return out


def _section(rows, dataset: str, keypoints: str, groups, sources: Sources, latex: list[str]) -> list[str]:
    """The section of one (dataset, keypoints), shaped by the dataset's protocol (its first convention)."""
    try:
        spec = get_dataset(dataset)
    except ValueError:
        return []
    if not spec.conventions:
        return []
    if isinstance(spec.conventions[0], Retrieval):
        return _retrieval_section(rows, spec, keypoints, groups, sources, latex)
    if len(spec.conventions[0].probes) > 1:
        return _by_condition_section(rows, spec, keypoints, groups, sources, latex)
    return _by_convention_section(rows, spec, keypoints, groups, sources, latex)


# ---------------------------------------------------------------- LaTeX


NUMERIC_COLUMNS = {label for name in list_datasets() for c in get_dataset(name).conventions
                   for label in (c.label, *(p.label for p in getattr(c, "probes", ())))}
NUMERIC_COLUMNS |= {f"rank{k}" for name in list_datasets() for c in get_dataset(name).conventions
                    for k in getattr(c, "ranks", ())} | {"mAP", "mINP"}


def latex_block(header, body, caption, label) -> str:
    numeric = {"mean", *NUMERIC_COLUMNS}
    align = "l" + "".join("r" if str(h).isdigit() or h in numeric else "l" for h in header[1:])

    def plain(cells):  # Markdown bold (**ours**) has no place in LaTeX cells
        return [str(c).replace("**", "") for c in cells]

    return latex_table(plain(header), [plain(r) for r in body], caption=caption, label=label, align=align,
                       size="scriptsize")


# ---------------------------------------------------------------- the whole document


def build_paper_tables(metrics_files, out_md, out_tex, out_json, *, title: str | None = None) -> dict:
    """Write ``out_md``, ``out_tex`` and the summary ``out_json``; return the summary dict."""
    runs = load_runs(metrics_files)
    rows = summarize(runs)
    synthetic = any(bool(m.get("synthetic")) for m in runs)
    sources = Sources()
    latex: list[str] = []

    md = [f"# {title or 'Rank-1 accuracy (%): our runs beside the published numbers'}", ""]
    if synthetic:
        which = sorted({f"{m['dataset']}/{m['keypoints']}" for m in runs if m.get("synthetic")})
        md += [f"> **SYNTHETIC DATA.** {SYNTHETIC_BANNER} (synthetic: {', '.join(which)})", ""]
    md += ["Rank-1 accuracy in %. **ours**: mean ± sample standard deviation (ddof = 1) over the *n* training seeds; "
           f"`± {DASH}` means a single run (no spread). Published numbers are copied from the files named under "
           "*Sources* (each dataset module's `published` entries, `gaitgraph/datasets/`) and placed in the column of the "
           "protocol they used.", ""]

    sections = list(dict.fromkeys((m["dataset"], m["keypoints"]) for m in runs))
    order = list_datasets()
    sections.sort(key=lambda s: (order.index(s[0]) if s[0] in order else len(order), s[1]))
    for dataset, keypoints in sections:
        groups = list(dict.fromkeys((m["method"], m["experiment"], *run_variant(m)) for m in runs
                                    if m["dataset"] == dataset and m["keypoints"] == keypoints))
        md += _section(rows, dataset, keypoints, groups, sources, latex)

    md += ["## Sources", ""] + [f"{i}. {s}" for i, s in enumerate(sources.items, 1)] + [""]
    md += ["## Runs", ""]
    run_rows = [[m["dataset"], m["keypoints"], _ours_label(m["method"], m["experiment"], run_variant(m)[1]), str(m["seed"]),
                 "yes" if m.get("synthetic") else "no", "on" if m.get("tta") else "off", run_variant(m)[0],
                 str(m.get("config_hash") or "")[:12], f"`{m['_file']}`"] for m in sorted(runs, key=_run_order)]
    md += [markdown_table(["dataset", "keypoints", "method / experiment", "seed", "synthetic", "TTA", "test set", "config",
                           "metrics file"], run_rows, "lllllllll"), ""]

    environments = environment_rows(runs)
    md += ["## Software environment", "",
           "The packages that trained and evaluated the runs above (each run's `environment.json` and its metrics file "
           "hold the full record; `gaitgraph env` prints the current one).", ""]
    md += [markdown_table(["used for", "runs", "environment"],
                          [[e["role"], str(e["runs"]), summary_line(e["record"]) if e["record"] else "not recorded"]
                           for e in environments], "lrl"), ""]

    tex = ["% Rank-1 accuracy (%): generated by gaitgraph.paper.tables; needs \\usepackage{booktabs}"]
    if synthetic:
        tex.append("% SYNTHETIC DATA: " + SYNTHETIC_BANNER)
    tex += ["", "\n\n".join(latex), "", "% Sources:"] + [f"% [{i}] {s}" for i, s in enumerate(sources.items, 1)]

    summary = {
        "synthetic": synthetic,
        "rows": rows,
        "published": [p.as_dict() for ds, kp in sections for p in _published_of(ds, kp)],
        "runs": [{k: m.get(k) for k in ("dataset", "keypoints", "method", "experiment", "seed", "synthetic", "tta",
                                        "checkpoint", "config_hash", "test_set", "normalization")} | {"file": m["_file"]}
                 for m in runs],
        "environments": environments,
    }
    write_text(out_md, "\n".join(md))
    write_text(out_tex, "\n".join(tex) + "\n")
    write_json(out_json, summary)
    return summary


def _published_of(dataset: str, keypoints: str) -> list[Published]:
    """The published entries a section shows: by convention (every keypoint source) when the paper's
    convention has several conditions or is a retrieval one, else those of the section's keypoints."""
    try:
        spec = get_dataset(dataset)
    except ValueError:
        return []
    by_keypoints = spec.conventions and not isinstance(spec.conventions[0], Retrieval) and \
        len(spec.conventions[0].probes) == 1
    return all_published(dataset=dataset, keypoints=keypoints if by_keypoints else None)


def environment_rows(runs: list[dict]) -> list[dict]:
    """The distinct software environments of the runs: ``{"role", "runs", "record"}`` per (role, record),
    role ``training`` (from the checkpoint) or ``evaluation``; ``record`` None where none was recorded."""
    out: dict[tuple[str, str], dict] = {}
    for m in sorted(runs, key=_run_order):
        for role, key in (("training", "training_environment"), ("evaluation", "environment")):
            record = m.get(key)
            entry = out.setdefault((role, json.dumps(record, sort_keys=True)), {"role": role, "runs": 0, "record": record})
            entry["runs"] += 1
    return list(out.values())


def _run_order(m: dict):
    return (m["dataset"], m["keypoints"], m["method"], m["experiment"], _sort_seed(m))


def main(argv=None) -> int:
    """``python -m gaitgraph.paper.tables OUT_DIR metrics.json...``: writes tables.md, tables.tex, metrics.json."""
    from gaitgraph.cli.boundary import guarded

    return guarded("python -m gaitgraph.paper.tables", _main, argv)


def _main(args: list[str]) -> int:
    import sys

    if len(args) < 2:
        print("usage: python -m gaitgraph.paper.tables OUT_DIR METRICS_JSON...", file=sys.stderr)
        return 2
    from gaitgraph.outputs import check_file_output

    out = Path(args[0])
    for name in ("tables.md", "tables.tex", "metrics.json"):
        check_file_output(out / name, inputs=args[1:])
    build_paper_tables(args[1:], out / "tables.md", out / "tables.tex", out / "metrics.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
