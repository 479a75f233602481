"""The ablation study's evaluation and table (``gaitgraph2.md`` §1.2, §8 "Ablations"; ``docs/ablation.md``).

The study itself (trainings, rows, config merging, the workflow's plan) is defined in
:mod:`gaitgraph.ablation`, re-exported here.

* :func:`evaluate_row`: rank-1 of one row's checkpoint, with or without TTA, optionally with the frames
  of every test window shuffled.
* :func:`build_ablation_table`: ``results/ablation.md`` / ``.tex`` / ``.json``: every row as mean ±
  sample std (ddof 1) over its seeds with the number of runs, and the differences of the means to the
  base row and to the full model.

Command line (the workflow's evaluation step)::

    python -m gaitgraph.paper.ablation evaluate --checkpoint M --data D --output metrics.json \\
        --row temporal_shuffle_test --seed 0 [--tta] [--test-shuffle]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaitgraph.ablation import BASE_ROW, DASH, FULL_ROW, ROW_BY_NAME, ROWS, row_label
from gaitgraph.evaluation.tables import latex_table, markdown_table, write_json_atomic, write_text_atomic
from gaitgraph.stats import mean_std

# ---------------------------------------------------------------- evaluation of one row


def shuffle_frames(x, generator):
    """(N, L, V, 3) -> the same with the frames of every sequence in an independent random order."""
    import torch

    perm = torch.rand(x.shape[:2], generator=generator).argsort(dim=1)
    return x.gather(1, perm[:, :, None, None].expand_as(x))


def evaluate_row(checkpoint, data_dir, output_json, *, row: str, seed: int | None = None, tta: bool = False,
                 test_shuffle: bool = False, shuffle_seed: int = 0, batch_size: int = 256, device=None) -> dict:
    """Rank-1 of ``checkpoint`` on the test split of ``data_dir`` as ``gaitgraph evaluate`` computes it
    (the original test pipeline, ``gaitgraph.inference``), optionally with the frames of every cropped
    test window shuffled (the original ``test_shuffle_sequence``: ShuffleSequence after
    SelectSequenceCenter). Writes ``output_json`` (the evaluation ``metrics.json`` shape plus
    ``ablation_row``, ``test_shuffle``) and returns it."""
    import torch

    from gaitgraph.checkpoints import load_model
    from gaitgraph.data.format import load_dataset
    from gaitgraph.environment import describe
    from gaitgraph.evaluation.protocols import evaluate
    from gaitgraph.evaluation.run import load_checkpoint_dict
    from gaitgraph.inference import embed_batch, prepare_sequences

    ds = load_dataset(data_dir)
    table = ds.sequences
    table = table[(table["split"] == "test").to_numpy()].reset_index(drop=True)
    if table.empty:
        raise ValueError(f"{data_dir}: no test sequences")
    loaded = load_model(checkpoint)
    model, spec = loaded.model, loaded.spec
    if device is not None:
        model = model.to(device)
    dev = next(model.parameters()).device
    seqs = [np.array(ds.poses[o : o + n]) for o, n in zip(table["offset"], table["length"])]
    x = prepare_sequences(seqs, spec)
    if test_shuffle:
        x = shuffle_frames(x, torch.Generator().manual_seed(shuffle_seed))
    out = []
    with torch.inference_mode():
        for s in range(0, len(x), batch_size):
            out.append(embed_batch(model, spec, x[s : s + batch_size].to(dev), tta).float().cpu().numpy())
    emb = np.concatenate(out)
    result = evaluate(emb, table, ds.meta.get("dataset"))
    metrics = {
        "dataset": ds.meta.get("dataset"), "keypoints": ds.meta.get("keypoints"), "skeleton": ds.meta.get("skeleton"),
        "synthetic": bool(ds.meta.get("synthetic", False)), "normalization": ds.meta.get("normalization"),
        "data": str(data_dir), "split": "test", "checkpoint": str(checkpoint), "backbone": spec.backbone,
        "tta": bool(tta), "test_shuffle": bool(test_shuffle), "embedding_dim": int(emb.shape[1]),
        "method": "GaitGraph2", "experiment": f"ablation/{row}", "ablation_row": row, "seed": seed,
        "num_sequences": int(len(table)), "environment": describe(),
        "training_environment": (load_checkpoint_dict(checkpoint) or {}).get("environment"), **result,
    }
    write_json_atomic(output_json, metrics)
    return metrics


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
    if dataset == "casia-b":
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
    ds_name = {"casia-b": "CASIA-B", "oumvlp-pose": "OUMVLP-Pose"}.get(info["dataset"], info["dataset"])
    title = f"Ablation study, {ds_name} ({info['keypoints']})"
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
    write_text_atomic(out_md, "\n".join(lines))
    tex = latex_table(header, body, caption=f"{title}: rank-1 (%), mean ± std over seeds; Δ to base and full model.",
                      label="tab:ablation")
    write_text_atomic(out_tex, tex + "\n")
    if out_json is not None:
        write_json_atomic(out_json, {**info, "primary": primary, "rows": summary})
    return summary


# ---------------------------------------------------------------- command line


def main(argv=None) -> int:
    from gaitgraph.cli.boundary import guarded

    return guarded("python -m gaitgraph.paper.ablation", _main, argv, subcommands=("evaluate",))


def _main(argv) -> int:
    p = argparse.ArgumentParser(prog="python -m gaitgraph.paper.ablation")
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("evaluate", help="evaluate one ablation row's checkpoint")
    e.add_argument("--checkpoint", required=True)
    e.add_argument("--data", required=True)
    e.add_argument("--output", required=True)
    e.add_argument("--row", required=True, choices=sorted(ROW_BY_NAME))
    e.add_argument("--seed", type=int, default=None)
    e.add_argument("--tta", action="store_true")
    e.add_argument("--test-shuffle", action="store_true")
    e.add_argument("--device", default="auto", help="auto (cuda if available, else cpu; the default), cpu, cuda, ...")
    args = p.parse_args(argv)
    from gaitgraph.outputs import check_file_output
    from gaitgraph.runtime import resolve_device

    check_file_output(args.output, inputs=[args.checkpoint, args.data])  # before the embedding work
    m = evaluate_row(args.checkpoint, args.data, args.output, row=args.row, seed=args.seed, tta=args.tta,
                     test_shuffle=args.test_shuffle, shuffle_seed=args.seed or 0, device=resolve_device(args.device))
    first = next(iter(m["conventions"].values()))
    print(f"{args.row} seed {args.seed}: rank-1 {first['mean']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
