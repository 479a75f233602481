"""OUMVLP-scale rank-1 evaluation benchmark: 144,284 TTA embeddings (384-d), both conventions.

    python benchmarks/bench_evaluate.py [--subjects 5154] [--dim 384] [--threads N] [--seed 0]

The embeddings are random but clustered (one centre per subject plus noise), laid out like the
OUMVLP-Pose test split: 5,154 subjects x 14 views x 2 sequences = 144,312 slots, of which 28 are
dropped at random to reach 144,284 (real data has holes). Prints the seconds of the shared
matching step (one float32 product per view-pair block serves both conventions), of each
convention's bookkeeping, the total, and the machine load (`uptime`) because the benchmark machine
may be shared. Reference points on the 2-core development machine: original GaitGraph2-style
evaluation 49 s, bare matrix-product floor about 18 s, target <= 25 s. The CPU time printed beside
the wall times does not grow with the load of a shared machine (up to cache effects): CPU time /
cores is what the wall time would be on an idle machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import torch

from gaitgraph.evaluation import distance, protocols

VIEWS = list(range(0, 91, 15)) + list(range(180, 271, 15))
TARGET_N = 144_284


def make_data(subjects: int, dim: int, seed: int, target_n: int | None = TARGET_N):
    rng = np.random.default_rng(seed)
    subj = np.repeat(np.arange(1, subjects + 1), len(VIEWS) * 2)
    view = np.tile(np.repeat(VIEWS, 2), subjects)
    seq = np.tile([0, 1], subjects * len(VIEWS))
    keep = np.ones(len(subj), bool)
    if target_n is not None and target_n < len(subj):
        keep[rng.choice(len(subj), len(subj) - target_n, replace=False)] = False
    df = pd.DataFrame({"subject": subj, "condition": "nm", "sequence": seq, "view": view})[keep].reset_index(drop=True)
    centres = rng.standard_normal((subjects + 1, dim), dtype=np.float32)
    noise = rng.standard_normal((len(df), dim), dtype=np.float32)
    emb = centres[df["subject"].to_numpy()] + 2.2 * noise  # clustered: rank-1 well above chance, below 100 %
    return emb, df


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=5154)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's choice)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=None, help="evaluate()'s block threads (default: torch threads)")
    ap.add_argument("--backend", choices=distance.BACKENDS, default=None, help="kernel (default: numpy where possible)")
    ap.add_argument("--baseline", action="store_true",
                    help="also time an original-style loop: per convention and view pair, cdist + argmin")
    ap.add_argument("--skip-floor", action="store_true", help="do not time the bare matrix products")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    target = TARGET_N if args.subjects == 5154 else None

    t0 = time.perf_counter()
    emb, df = make_data(args.subjects, args.dim, args.seed, target)
    t_make = time.perf_counter() - t0
    print(f"data: {len(df):,} embeddings x {emb.shape[1]} (generated in {t_make:.1f} s); torch threads "
          f"{torch.get_num_threads()}, CPUs {os.cpu_count()}")
    print(f"load before: {_uptime()}")

    # the bare matrix-product floor: the same 196 float32 view-pair products, nothing else
    backend = args.backend or distance.default_backend()
    print(f"kernel backend: {backend}")
    floor = None
    if not args.skip_floor:
        x = protocols.l2_normalize(emb)
        seqn, view = df["sequence"].to_numpy(), df["view"].to_numpy()
        if backend == "numpy":
            x = x.numpy()
            rows = [x[np.flatnonzero((seqn == 0) & (view == v))] for v in VIEWS]
            cols = [np.ascontiguousarray(x[np.flatnonzero((seqn == 1) & (view == v))].T) for v in VIEWS]
        else:
            rows = [x[torch.from_numpy(np.flatnonzero((seqn == 0) & (view == v)))] for v in VIEWS]
            cols = [x[torch.from_numpy(np.flatnonzero((seqn == 1) & (view == v)))].T.contiguous() for v in VIEWS]
        t0, c0 = time.perf_counter(), time.process_time()
        for r in rows:
            for c in cols:
                r @ c
        floor, floor_cpu = time.perf_counter() - t0, time.process_time() - c0
        del x, rows, cols

    # the public call, as the pipeline runs it, with its two stages timed from inside
    timings: dict[str, float] = {}
    _time(protocols, "_match", timings, lambda a, k: "matching")
    _time(protocols, "_convention", timings, lambda a, k: "tables " + ("gaitgraph2" if k.get("cell_mean") else "opengait"))
    t0, c0 = time.perf_counter(), time.process_time()
    out = protocols.evaluate(emb, df, "oumvlp-pose", workers=args.workers, backend=backend)
    total, total_cpu = time.perf_counter() - t0, time.process_time() - c0

    baseline = None
    if args.baseline:
        t0 = time.perf_counter()
        base_means = _baseline(emb, df)
        baseline = time.perf_counter() - t0

    print(f"load after:  {_uptime()}")
    if floor is not None:
        print(f"matrix-product floor (196 view-pair products)   {floor:7.2f} s   ({backend} @, its own threads, nothing else;"
              f" CPU time {floor_cpu:.1f} s)")
    print(f"evaluate(): shared view-pair matching            {timings['matching']:7.2f} s   (serves both conventions)")
    print(f"            gaitgraph2 convention tables         {timings['tables gaitgraph2']:7.2f} s")
    print(f"            opengait convention tables           {timings['tables opengait']:7.2f} s")
    print(f"TOTAL evaluate(), both conventions               {total:7.2f} s   (target <= 25 s; original 49 s;"
          f" CPU time {total_cpu:.1f} s)")
    if baseline is not None:
        print(f"original-style baseline (cdist + argmin, per convention) {baseline:7.2f} s   "
              f"rank-1 gaitgraph2 {base_means['gaitgraph2']:.2f} %, opengait {base_means['opengait']:.2f} %")
        agree = all(abs(base_means[k] - out["conventions"][k]["mean"]) < 1e-3 for k in base_means)
        print(f"baseline and evaluate() agree on both means: {'yes' if agree else 'NO'}")
    for name, conv in out["conventions"].items():
        print(f"  {name:10s} rank-1 {conv['mean']:6.2f} %  probes {conv['num_probe']:,}  gallery {conv['num_gallery']:,}")
    print("command: python " + " ".join([os.path.relpath(__file__)] + (argv if argv is not None else sys.argv[1:])))
    return 0


def _baseline(emb: np.ndarray, df: pd.DataFrame) -> dict[str, float]:
    """The original's way: for each convention, gallery view and probe view, L2-normalise, Euclidean
    distances (torch.cdist, as pytorch-metric-learning's LpDistance) and an arg-min per probe."""
    x = torch.nn.functional.normalize(torch.from_numpy(emb), dim=1)
    subj = torch.from_numpy(df["subject"].to_numpy())
    seqn, view = df["sequence"].to_numpy(), df["view"].to_numpy()
    means = {}
    for name, gseq, pseq, excl in (("gaitgraph2", 0, 1, False), ("opengait", 1, 0, True)):
        acc = np.full((len(VIEWS), len(VIEWS)), np.nan)
        for gi, g in enumerate(VIEWS):
            gm = torch.from_numpy(np.flatnonzero((seqn == gseq) & (view == g)))
            for pi, p in enumerate(VIEWS):
                if excl and gi == pi:
                    continue
                pm = torch.from_numpy(np.flatnonzero((seqn == pseq) & (view == p)))
                nearest = torch.cdist(x[pm], x[gm]).argmin(dim=1)
                acc[gi, pi] = 100.0 * (subj[gm][nearest] == subj[pm]).double().mean().item()
        means[name] = float(np.nanmean(np.nanmean(acc, axis=0)) if excl else np.nanmean(acc))
    return means


def _time(module, name: str, timings: dict, label) -> None:
    """Wrap ``module.name`` so that its wall time accumulates under ``label(args, kwargs)``."""
    fn = getattr(module, name)

    def timed(*a, **k):
        t0 = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            key = label(a, k)
            timings[key] = timings.get(key, 0.0) + time.perf_counter() - t0

    setattr(module, name, timed)


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "n/a"


if __name__ == "__main__":
    raise SystemExit(main())
