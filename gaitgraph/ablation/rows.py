"""Evaluation of one ablation row (``docs/ablation.md``): a row's checkpoint on the test split, with or without
TTA, optionally with the frames of every test window shuffled (the original ``test_shuffle_sequence``).

The embeddings come from the GaitGraph test pipeline (``gaitgraph.inference``: the checkpoint's window, TTA
as ``gaitgraph evaluate`` computes it) and the record is ``gaitgraph evaluate``'s
(``gaitgraph.evaluation.metrics_file``) plus ``ablation_row`` and ``test_shuffle``.

    python -m gaitgraph.ablation.rows evaluate --checkpoint M --data D --output metrics.json \\
        --row temporal_shuffle_test --seed 0 [--tta] [--test-shuffle]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from gaitgraph.ablation.study import ROW_BY_NAME


def shuffle_frames(x, generator):
    """(N, L, V, 3) -> the same with the frames of every sequence in an independent random order."""
    import torch

    perm = torch.rand(x.shape[:2], generator=generator).argsort(dim=1)
    return x.gather(1, perm[:, :, None, None].expand_as(x))


def evaluate_row(checkpoint, data_dir, output_json, *, row: str, seed: int | None = None, tta: bool = False,
                 test_shuffle: bool = False, shuffle_seed: int = 0, batch_size: int = 256, device=None) -> dict:
    """Rank-1 of ``checkpoint`` on the test split of ``data_dir`` as ``gaitgraph evaluate`` computes it, the
    frames of every cropped test window shuffled with ``test_shuffle`` (ShuffleSequence after
    SelectSequenceCenter, as the original). Writes ``output_json`` and returns its record."""
    import torch

    from gaitgraph.checkpoints import CheckpointError, LoadedModel
    from gaitgraph.data.format import load_dataset
    from gaitgraph.evaluation.embed import load_embedder
    from gaitgraph.evaluation.metrics_file import metrics_record, write_metrics
    from gaitgraph.evaluation.protocols import evaluate
    from gaitgraph.evaluation.selection import selection
    from gaitgraph.inference import embed_windows, prepare_sequences

    ds = load_dataset(data_dir)
    table = ds.sequences
    table = table[(table["split"] == "test").to_numpy()].reset_index(drop=True)
    if table.empty:
        raise ValueError(f"{data_dir}: no test sequences")
    embedder = load_embedder(checkpoint)
    if not isinstance(embedder.model, LoadedModel):
        raise CheckpointError(f"{checkpoint}: a {embedder.method.title} checkpoint; the ablation rows are GaitGraph's")
    loaded = embedder.model
    x = prepare_sequences([np.array(ds.poses[o : o + n]) for o, n in zip(table["offset"], table["length"])],
                          loaded.spec)
    if test_shuffle:
        x = shuffle_frames(x, torch.Generator().manual_seed(shuffle_seed))
    emb = embed_windows(loaded, x, tta, batch_size=batch_size, device=device)
    result = evaluate(emb, table, ds.meta.get("dataset"), metric=embedder.method.metric)
    record = metrics_record(
        meta=ds.meta, data=data_dir, split="test", checkpoint=checkpoint, result=result, backbone=embedder.backbone,
        tta=tta, metric=embedder.method.metric, embedding_dim=emb.shape[1], method=embedder.method.title, experiment=f"ablation/{row}", seed=seed,
        num_sequences=len(table), test_set=selection("all", None).record(len(table), len(table)), ckpt=embedder.ckpt,
        extra={"ablation_row": row, "test_shuffle": bool(test_shuffle)},
    )
    write_metrics(output_json, record, tables=False)
    return record


def main(argv=None) -> int:
    from gaitgraph.cli.boundary import guarded

    return guarded("python -m gaitgraph.ablation.rows", _main, argv, subcommands=("evaluate",))


def _main(argv) -> int:
    p = argparse.ArgumentParser(prog="python -m gaitgraph.ablation.rows")
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
    from gaitgraph.devices import resolve_device

    check_file_output(args.output, inputs=[args.checkpoint, args.data])  # before the embedding work
    m = evaluate_row(args.checkpoint, args.data, args.output, row=args.row, seed=args.seed, tta=args.tta,
                     test_shuffle=args.test_shuffle, shuffle_seed=args.seed or 0, device=resolve_device(args.device))
    first = next(iter(m["conventions"].values()))
    print(f"{args.row} seed {args.seed}: rank-1 {first['mean']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
