"""``gaitgraph match``: identify probe walkers against an enrolled gallery with a checkpoint.

    gaitgraph match --checkpoint model.ckpt --gallery data/mine/gallery --probe data/mine/probe \
        --output ranked.csv [--top-k 5] [--no-tta] [--batch-size 256] [--device cpu|cuda]

Gallery and probe are converted datasets (``gaitgraph-data import`` or ``convert``) in the checkpoint's
skeleton layout. Both are embedded with ``gaitgraph.inference.embed`` (TTA by default, as the original
test step), gallery identities are ranked per probe (``gaitgraph.matching``) and written as a CSV
and/or JSON ranked list (by extension). When the probes are labelled, rank-1 and rank-5 are printed and
written (JSON: in the file; CSV: in ``<name>.metrics.json`` beside it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gaitgraph.cli.boundary import guarded
from gaitgraph.devices import resolve_device

PROBE_COLUMNS = ("subject", "condition", "sequence", "view", "source")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gaitgraph match",
        description="Embed a gallery and probes with a checkpoint and write the ranked gallery identities of every probe.",
    )
    p.add_argument("--checkpoint", required=True, type=Path, metavar="CKPT", help="ours or an original GaitGraph2 checkpoint")
    p.add_argument("--gallery", required=True, type=Path, metavar="DIR", help="converted dataset of enrolled walkers")
    p.add_argument("--probe", required=True, type=Path, metavar="DIR", help="converted dataset of walkers to identify")
    p.add_argument("--output", required=True, type=Path, nargs="+", metavar="FILE",
                   help="ranked list(s): .csv and/or .json (give both to get both)")
    p.add_argument("--top-k", type=int, default=5, metavar="K", help="identities listed per probe (default 5)")
    p.add_argument("--no-tta", dest="tta", action="store_false", help="one 128-d embedding instead of the 3-view TTA one")
    p.add_argument("--batch-size", type=int, default=256, metavar="N", help="sequences per forward pass (default 256)")
    p.add_argument("--device", default="auto", help="auto (cuda if available, else cpu; the default), cpu, cuda, cuda:1, ...")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


class MatchError(ValueError):
    pass


def _open(path: Path, role: str, skeleton: str):
    from gaitgraph.data.format import load_dataset

    ds = load_dataset(path, mmap=False)  # read into memory: all of it is embedded anyway
    if ds.meta["skeleton"] != skeleton:
        raise MatchError(
            f"{role} {path} is in the {ds.meta['skeleton']} layout but the checkpoint expects {skeleton}; "
            f"import it again with `gaitgraph-data import ... --skeleton {skeleton}` (or --checkpoint CKPT)"
        )
    if len(ds) == 0:
        raise MatchError(f"{role} {path} has no sequences")
    return ds


def _embed(loaded, ds, args, role: str):
    import numpy as np

    from gaitgraph.inference import embed

    if not args.quiet:
        print(f"embedding {len(ds)} {role} sequences", file=sys.stderr)
    seqs = [np.asarray(poses) for _, poses in ds.iter_sequences()]
    return embed(loaded, seqs, tta=args.tta, batch_size=args.batch_size, device=args.device, progress=not args.quiet)


def _records(ranking, gallery, probe, top_k: int, labelled: bool) -> list[dict]:
    g, p = gallery.sequences, probe.sequences
    out = []
    for i, row in enumerate(p.itertuples(index=False)):
        for r in range(min(top_k, ranking.identities.shape[1])):
            j = int(ranking.gallery_index[i, r])
            rec = {"probe": i, **{f"probe_{c}": getattr(row, c) for c in PROBE_COLUMNS}, "rank": r + 1,
                   "gallery_subject": int(ranking.identities[i, r]), "distance": float(ranking.distances[i, r]),
                   "gallery_sequence": j, "gallery_source": str(g["source"].iloc[j])}
            if labelled:
                rec["correct"] = bool(rec["gallery_subject"] == row.subject)
            out.append({k: (v.item() if hasattr(v, "item") else v) for k, v in rec.items()})
    return out


def run(args) -> dict:
    import numpy as np
    import pandas as pd
    import torch

    from gaitgraph.checkpoints import load_model
    from gaitgraph.matching import rank_accuracy, rank_identities

    from gaitgraph.outputs import atomic_write, check_file_output, write_json

    bad = [o for o in args.output if o.suffix.lower() not in (".csv", ".json")]
    if bad:
        raise MatchError(f"--output {bad[0]}: unknown extension (use .csv or .json)")
    for out in args.output:  # before any embedding work
        check_file_output(out, inputs=[args.checkpoint, args.gallery, args.probe], what="--output")
        if out.suffix.lower() == ".csv":
            check_file_output(out.with_suffix(".metrics.json"), inputs=[args.checkpoint], what="--output's metrics file")
    if args.top_k < 1 or args.batch_size < 1:
        raise MatchError("--top-k and --batch-size must be at least 1")
    args.device = resolve_device(args.device)
    loaded = load_model(args.checkpoint)
    skeleton = loaded.spec.skeleton
    gallery = _open(args.gallery, "gallery", skeleton)
    probe = _open(args.probe, "probe", skeleton)
    norm = {role: (ds.meta.get("normalization") or {}).get("mode", "none") for role, ds in (("gallery", gallery), ("probe", probe))}
    if norm["gallery"] != norm["probe"]:
        raise MatchError(f"gallery {args.gallery} has normalization {norm['gallery']!r} but probe {args.probe} has "
                         f"{norm['probe']!r}; run `gaitgraph-data normalize` with the same --mode on both")
    labelled = probe.meta.get("labelled", True) is not False
    g_emb = _embed(loaded, gallery, args, "gallery")
    p_emb = _embed(loaded, probe, args, "probe")

    g_ids = gallery.sequences["subject"].to_numpy()
    ranking = rank_identities(p_emb, g_emb, g_ids, top_k=max(args.top_k, 5))
    records = _records(ranking, gallery, probe, args.top_k, labelled)
    summary = {
        "checkpoint": str(args.checkpoint), "skeleton": skeleton, "tta": args.tta, "normalization": norm["probe"],
        "gallery": str(args.gallery), "probe": str(args.probe),
        "num_gallery": len(gallery), "num_gallery_identities": int(len(np.unique(g_ids))), "num_probe": len(probe),
        "gallery_labelled": gallery.meta.get("labelled", True) is not False, "probe_labelled": labelled,
    }
    if labelled:
        p_ids = probe.sequences["subject"].to_numpy()
        summary.update(rank_accuracy(ranking, p_ids))
        summary["probes_without_gallery_identity"] = int((~np.isin(p_ids, g_ids)).sum())

    for out in args.output:
        if out.suffix.lower() == ".csv":
            table = pd.DataFrame.from_records(records)
            atomic_write(out, lambda tmp: table.to_csv(tmp, index=False, float_format="%.6f"))
            if labelled:
                write_json(out.with_suffix(".metrics.json"), summary, allow_nan=True)
        else:
            write_json(out, {**summary, "top_k": args.top_k, "matches": records}, allow_nan=True)
    return summary


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def main(argv: list[str] | None = None) -> int:
    return guarded("gaitgraph match", _main, argv)


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    summary = run(args)
    if not args.quiet:
        print(f"matched {summary['num_probe']} probes against {summary['num_gallery']} gallery sequences "
              f"({_plural(summary['num_gallery_identities'], 'identity', 'identities')}); wrote {', '.join(map(str, args.output))}", file=sys.stderr)
    if summary["probe_labelled"]:
        ids = summary["num_gallery_identities"]
        r5 = f"{summary['rank5']:.1f} %" if "rank5" in summary else f"n/a (gallery has {_plural(ids, 'identity', 'identities')})"
        print(f"rank-1: {summary['rank1']:.1f} %  rank-5: {r5}  "
              f"({_plural(summary['probes_without_gallery_identity'], 'probe')} without a gallery identity, counted as misses)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
