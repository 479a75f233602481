"""Training-batch augmentation throughput: batched (ours) vs per-sample (the original's structure).

    python benchmarks/bench_augment.py [--sequences 3000] [--batch 768] [--length 60] [--threads 1]

Both pipelines start from a memory-mapped converted dataset (CASIA-B-like: COCO-17, 40-120 frames per
sequence) and end with the network input (N, 3, 5, L, V):

* batched: ``train_frame_index`` + ``gather_frames`` (pad / time flip / random window as one index,
  reading only the needed frames) -> ``BatchAugment`` (left/right swap, joint noise, point noise,
  random move) -> ``build_input`` (joint / velocity / bone branches), once per batch.
* per-sample: the original's order, one sequence at a time in numpy (PadSequence, RandomFlipSequence,
  RandomSelectSequence, RandomFlipLeftRight, JointNoise, PointNoise, RandomMove, MultiInput), then the
  batch is stacked. This is a lean re-implementation; the original itself (torch-geometric ``Data``
  objects, its transforms) measured 807 samples/s on one core of this machine (issue 4).

Target: >= 20,000 samples/s for the batched pipeline.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from gaitgraph.process_settings import keep_freed_memory
from gaitgraph.skeleton import get_skeleton
from gaitgraph.transforms.augment import BatchAugment, PadTable, gather_frames, train_frame_index
from gaitgraph.transforms.features import build_input

from common import synthetic_dataset

ORIGINAL_SAMPLES_PER_S = 807
COCO = get_skeleton("coco17")


# ---------------------------------------------------------------- per-sample, the original's structure
def _pad(x, L):
    t = len(x)
    if t > L:
        return x
    diff = L + 1 - t
    pre, post = math.ceil(diff / 2), diff // 2 + 1
    while pre > len(x) or post > len(x):
        x = np.concatenate([x[::-1], x, x[::-1]])
    return np.concatenate([x[1:pre][::-1], x, x[-1 - post:-1][::-1]])[:L]


def _multi_input(x):
    """The original MultiInput on one (T, V, 3) sequence -> (3, 5, T, V), reference channels."""
    t, v, _ = x.shape
    out = np.zeros((t, v, 3, 5), np.float32)
    c = COCO.center
    out[:, :, 0, :3] = x
    out[:, :, 0, 3:] = x[:, :, :2] - x[:, c:c + 1, :2]
    out[: t - 2, :, 1, :2] = x[1:t - 1, :, :2] - x[: t - 2, :, :2]
    out[: t - 2, :, 1, 4] = x[2:, :, 1] - x[: t - 2, :, 1]
    out[:, :, 1, 3] = x[:, :, 2]
    parents = np.asarray(COCO.parents)
    b = x[:, :, :2] - x[:, parents, :2]
    out[:, :, 2, :2] = b
    out[:, :, 2, 3] = x[:, :, 2]
    out[:, :, 2, 4] = np.arccos(b[..., 1] / (np.linalg.norm(b, axis=-1) + 1e-4))
    return out.transpose(2, 3, 0, 1)


def per_sample(ds, rows, L):
    flip = list(COCO.flip_idx)
    out = []
    for r in rows:
        o, n = int(ds.sequences["offset"].iat[r]), int(ds.sequences["length"].iat[r])
        x = np.array(ds.poses[o:o + n])
        x = _pad(x, L)
        if random.random() < 0.5:
            x = x[::-1]
        if len(x) > L:
            s = random.randint(0, len(x) - L - 1)
            x = x[s:s + L]
        if random.random() < 0.5:
            x = x[:, flip]
        x = x.copy()
        x[:, :, :2] += np.random.uniform(-0.1, 0.1, size=(x.shape[1], 2))
        x = x + np.random.uniform(-0.05, 0.05, size=x.shape)
        x[:, :, 2] = np.clip(x[:, :, 2], 0, 1)
        x[:, :, 0] += np.random.uniform(-3, 3)
        x[:, :, 1] += np.random.uniform(-1, 1)
        out.append(torch.from_numpy(_multi_input(x.astype(np.float32))))
    return torch.stack(out)


# ---------------------------------------------------------------- batched
def batched(ds, rows, L, pad: PadTable, aug: BatchAugment, lengths: torch.Tensor, offsets: np.ndarray,
            features: bool = True):
    index = train_frame_index(lengths[rows], pad, 0.5)
    x = aug(gather_frames(ds.poses, offsets[rows], index))
    return build_input(x, COCO, multi_branch=True, mode="reference") if features else x


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sequences", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=768)
    ap.add_argument("--length", type=int, default=60)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the original figure is one core)")
    ap.add_argument("--seconds", type=float, default=3.0, help="minimum timed duration per pipeline")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    malloc = "kept (as the training CLI)" if keep_freed_memory() else "glibc default"
    print(f"freed memory: {malloc}")
    torch.manual_seed(0)
    random.seed(0)
    np.random.seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        ds = synthetic_dataset(Path(tmp) / "ds", args.sequences)  # COCO-17, 40-120 frames
        L, B = args.length, args.batch
        pad, aug = PadTable(L), BatchAugment(COCO)
        lengths = torch.from_numpy(ds.sequences["length"].to_numpy(np.int64))
        offsets = ds.sequences["offset"].to_numpy(np.int64)
        rng = np.random.default_rng(0)

        def timed(fn, batch):
            fn(rng.choice(len(ds), size=batch))  # warm-up
            n, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < args.seconds:
                out = fn(rng.choice(len(ds), size=batch))
                n += batch
            dt = time.perf_counter() - t0
            assert out.shape in ((batch, 3, 5, L, 17), (batch, L, 17, 3)), out.shape
            return n / dt

        ours = timed(lambda r: batched(ds, r, L, pad, aug, lengths, offsets), B)
        aug_only = timed(lambda r: batched(ds, r, L, pad, aug, lengths, offsets, features=False), B)
        theirs = timed(lambda r: per_sample(ds, r, L), min(B, 256))
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    print(f"setting: batch {B}, L={L}, COCO-17, {args.sequences} sequences of 40-120 frames (memmap), "
          f"torch threads {args.threads}, incl. build_input (3 x 5 channels)")
    print(f"batched (ours):              {ours:12,.0f} samples/s")
    print(f"  of which augmentation only: {aug_only:12,.0f} samples/s   (frame index + gather + BatchAugment)")
    print(f"per-sample (original order): {theirs:12,.0f} samples/s   (lean numpy re-implementation)")
    print(f"original GaitGraph2 (issue): {ORIGINAL_SAMPLES_PER_S:12,d} samples/s")
    print(f"speed-up vs original: {ours / ORIGINAL_SAMPLES_PER_S:.0f}x; target >= 20,000 samples/s: "
          f"{'met' if ours >= 20_000 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
