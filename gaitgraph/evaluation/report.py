"""Markdown and LaTeX tables of one evaluation's ``metrics.json``.

CASIA-B: per convention one table, rows NM#5-6 / BG#1-2 / CL#1-2, columns the probe views and their
mean (rank-1 %, 1 decimal), as the GaitGraph2 script prints it. OUMVLP-Pose: per convention the
gallery x probe view matrix with row means, column means and the overall mean in the corner.
Every table is labelled with its convention and the convention's protocol description.
"""

from __future__ import annotations

import os
from pathlib import Path

from gaitgraph.outputs import write_text
from gaitgraph.table_format import fmt, latex_table, markdown_table


def _casia_rows(conv: dict) -> tuple[list[str], list[list[str]]]:
    views = conv["views"]
    header = ["probe"] + [str(v) for v in views] + ["mean"]
    rows = []
    for name, block in conv["conditions"].items():
        rows.append([name] + [fmt(block["per_probe_view"].get(str(v))) for v in views] + [fmt(block["mean"])])
    return header, rows


def _oumvlp_rows(conv: dict, cond: str = "NM") -> tuple[list[str], list[list[str]]]:
    views = conv["views"]
    block = conv["conditions"][cond]
    header = ["gallery \\ probe"] + [str(v) for v in views] + ["mean"]
    rows = []
    for g, row in zip(views, block["matrix"]):
        rows.append([str(g)] + [fmt(x) for x in row] + [fmt(block["per_gallery_view"].get(str(g)))])
    rows.append(["mean"] + [fmt(block["per_probe_view"].get(str(v))) for v in views] + [fmt(block["mean"])])
    return header, rows


METRIC_LABELS = {"rank1": "Rank-1", "rank5": "Rank-5", "rank10": "Rank-10", "rank20": "Rank-20", "mAP": "mAP",
                 "mINP": "mINP"}


def _retrieval_rows(conv: dict) -> tuple[list[str], list[list[str]]]:
    """A retrieval convention (Gait3D, GREW): one row of its metrics (%), or a note when it is not scored here."""
    values = conv.get("metrics")
    if not values:
        return ["gallery", "probes", "metrics"], [[str(conv.get("num_gallery")), str(conv.get("num_probe")),
                                                   "not scored here (withheld identities)"]]
    return [METRIC_LABELS.get(k, k) for k in values], [[fmt(v, 2) for v in values.values()]]


def _rows(metrics: dict, conv: dict) -> tuple[list[str], list[list[str]]]:
    if conv.get("kind") == "retrieval":
        return _retrieval_rows(conv)
    return _oumvlp_rows(conv) if _is_oumvlp(metrics) else _casia_rows(conv)


def _caption(metrics: dict, name: str, conv: dict) -> str:
    return f"{name}: {conv['description']}"


def _source_line(metrics: dict) -> str:
    parts = [
        f"dataset {metrics.get('dataset')}",
        f"keypoints {metrics.get('keypoints')}",
        f"skeleton {metrics.get('skeleton')}",
        f"TTA {'on' if metrics.get('tta') else 'off'}",
    ]
    if metrics.get("checkpoint"):
        parts.append(f"checkpoint `{metrics['checkpoint']}`")
    if metrics.get("method") or metrics.get("experiment"):
        parts.append(f"{metrics.get('method')} / {metrics.get('experiment')} / seed {metrics.get('seed')}")
    test_set = metrics.get("test_set")
    if test_set and test_set.get("name") != "all":
        parts.append(f"test set {test_set['name']}: sequences of fewer than {test_set['min_length']} frames left out "
                     f"({test_set['num_left_out']} of {test_set['num_sequences_total']})")
    return ", ".join(parts)


SYNTHETIC_BANNER = (
    "> **SYNTHETIC DATA.** The numbers below come from the embedded SYNTHETIC datasets: they test the pipeline, "
    "not the method."
)


def metrics_markdown(metrics: dict) -> str:
    """All tables of one ``metrics.json`` as a Markdown document."""
    out = [f"# {_what(metrics)} (%) — {metrics.get('dataset')} / {metrics.get('keypoints')}", ""]
    if metrics.get("synthetic"):
        out += [SYNTHETIC_BANNER, ""]
    out += [_source_line(metrics) + ".", ""]
    oumvlp = _is_oumvlp(metrics)
    for name, conv in metrics["conventions"].items():
        mean = fmt(conv.get("mean"), 2)
        label = "rank-1" if conv.get("kind") == "retrieval" else "mean"  # a retrieval convention's mean is its rank-1
        out += [f"## Convention `{name}` — {label} {mean} %", "", conv["description"] + ".", ""]
        out += [f"Gallery: {conv.get('num_gallery') or 0:,} sequences; probes: {conv.get('num_probe') or 0:,}.", ""]
        if oumvlp:
            out += ["Rows: gallery view; columns: probe view; last column: row mean; last row: column mean"
                    " (per probe view); corner: the convention's mean.", ""]
        out += [markdown_table(*_rows(metrics, conv)), ""]
    return "\n".join(out)


def metrics_latex(metrics: dict) -> str:
    """All tables of one ``metrics.json`` as LaTeX ``table`` environments (booktabs)."""
    out = [f"% {_what(metrics)} (%), {metrics.get('dataset')} / {metrics.get('keypoints')}; {_source_line(metrics)}"]
    if metrics.get("synthetic"):
        out.append("% SYNTHETIC DATA: these numbers test the pipeline, not the method.")
    oumvlp = _is_oumvlp(metrics)
    tag = f"{metrics.get('dataset')}-{metrics.get('keypoints')}".replace("_", "-")
    for name, conv in metrics["conventions"].items():
        header, rows = _rows(metrics, conv)
        matrix = oumvlp and conv.get("kind") != "retrieval"
        if matrix:
            header[0] = "gallery / probe"
        out += ["", latex_table(header, rows, caption=_caption(metrics, name, conv), label=f"tab:{tag}-{name}",
                                bold_last_col=not oumvlp and conv.get("kind") != "retrieval", rule_before_last_row=matrix)]
    return "\n".join(out) + "\n"


def _what(metrics: dict) -> str:
    retrieval = any(c.get("kind") == "retrieval" for c in metrics["conventions"].values())
    return "Rank-k, mAP, mINP" if retrieval else "Rank-1"


def _is_oumvlp(metrics: dict) -> bool:
    return str(metrics.get("dataset", "")).startswith("oumvlp")


def write_tables(metrics: dict, md_path: str | os.PathLike, tex_path: str | os.PathLike) -> tuple[Path, Path]:
    return write_text(md_path, metrics_markdown(metrics)), write_text(tex_path, metrics_latex(metrics))
