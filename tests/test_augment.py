"""Vectorised augmentations vs a per-sample oracle of the original GaitGraph2 transforms (gaitgraph2.md §3).

The oracle below re-implements the original's per-sample behaviour from the reference description
(PadSequence, RandomFlipSequence, RandomSelectSequence, ShuffleSequence, RandomFlipLeftRight,
JointNoise, PointNoise, RandomMove). Deterministic parts must match exactly, random parts in
distribution (supports, probabilities, means and variances within a few standard errors).
"""

from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
import pytest
import torch

from gaitgraph.skeleton import get_skeleton
from gaitgraph.transforms.augment import (
    BatchAugment, PadTable, center_frame_index, gather_frames, train_frame_index,
)

COCO = get_skeleton("coco17")


# ---------------------------------------------------------------- the per-sample oracle (original)
def oracle_pad(x: np.ndarray, L: int) -> np.ndarray:
    t = len(x)
    if t > L:
        return x
    diff = L + 1 - t
    pre, post = math.ceil(diff / 2), diff // 2 + 1
    while pre > len(x) or post > len(x):
        x = np.concatenate([x[::-1], x, x[::-1]])
    return np.concatenate([x[1:pre][::-1], x, x[-1 - post:-1][::-1]])[:L]


def oracle_flip_sequence(x, p):
    return x[::-1] if random.random() < p else x


def oracle_select(x, L):
    t = len(x)
    if t <= L:
        return x
    start = random.randint(0, t - L - 1)
    return x[start:start + L]


def oracle_center(x, L):
    start = int(len(x) / 2 - L / 2)
    return x[start:start + L]


def oracle_shuffle(x):
    return x[np.random.permutation(len(x))]


def oracle_flip_lr(x, p, flip_idx):
    return x[:, flip_idx] if random.random() < p else x


def oracle_joint_noise(x, a):
    x = x.copy()
    x[:, :, :2] += np.random.uniform(-a, a, size=(x.shape[1], 2))
    return x


def oracle_point_noise(x, b):
    x = x + np.random.uniform(-b, b, size=x.shape)
    x[:, :, 2] = np.clip(x[:, :, 2], 0, 1)
    return x


def oracle_move(x, move):
    x = x.copy()
    x[:, :, 0] += np.random.uniform(-move[0], move[0])
    x[:, :, 1] += np.random.uniform(-move[1], move[1])
    return x


def oracle_train(x, L, flip_p=0.5, shuffle=False, flip_lr_p=0.5, jn=0.1, pn=0.05, move=(3, 1)):
    """The original training pipeline on one (T, V, 3) sequence."""
    x = oracle_pad(x, L)
    x = oracle_flip_sequence(x, flip_p)
    x = oracle_select(x, L)
    if shuffle:
        x = oracle_shuffle(x)
    x = oracle_flip_lr(x, flip_lr_p, list(COCO.flip_idx))
    x = oracle_joint_noise(x, jn)
    x = oracle_point_noise(x, pn)
    return oracle_move(x, move)


# ---------------------------------------------------------------- deterministic parts: exact
@pytest.mark.parametrize("L", [1, 2, 5, 30, 60])
def test_pad_table_matches_oracle_exactly(L):
    table = PadTable(L).table.numpy()
    for t in range(1, L + 1):
        np.testing.assert_array_equal(table[t], oracle_pad(np.arange(t), L), err_msg=f"T={t} L={L}")


@pytest.mark.parametrize("L", [4, 7, 30])
def test_center_index_matches_oracle_exactly(L):
    lengths = torch.arange(1, 3 * L + 2)
    idx = center_frame_index(lengths, PadTable(L)).numpy()
    for t, row in zip(lengths.tolist(), idx):
        np.testing.assert_array_equal(row, oracle_center(oracle_pad(np.arange(t), L), L), err_msg=f"T={t}")


def test_center_index_matches_sequence_to_length():
    from gaitgraph.transforms.sequence import to_length

    L = 12
    for t in (1, 5, 12, 13, 40):
        x = np.arange(t)
        np.testing.assert_array_equal(center_frame_index(torch.tensor([t]), PadTable(L))[0].numpy(), to_length(x, L))


def test_gather_frames_reads_the_indexed_rows():
    poses = np.random.default_rng(0).normal(size=(50, 17, 3)).astype(np.float32)
    offsets = np.array([0, 20, 35])
    index = torch.tensor([[0, 1, 2], [3, 2, 1], [14, 0, 7]])
    out = gather_frames(poses, offsets, index)
    for i in range(3):
        np.testing.assert_array_equal(out[i].numpy(), poses[offsets[i] + index[i].numpy()])
    np.testing.assert_array_equal(gather_frames(torch.from_numpy(poses), offsets, index).numpy(), out.numpy())


# ---------------------------------------------------------------- frame selection: distributions
def _freq(rows) -> Counter:
    return Counter(tuple(int(v) for v in r) for r in rows)


@pytest.mark.parametrize("T,L", [(9, 5), (5, 5), (3, 8), (6, 5)])
@pytest.mark.parametrize("flip_p", [0.5, 0.2])
def test_train_index_distribution_matches_oracle(T, L, flip_p):
    n = 6000
    torch.manual_seed(0)
    random.seed(0)
    vec = _freq(train_frame_index(torch.full((n,), T), PadTable(L), flip_p).numpy())
    ora = _freq(oracle_select(oracle_flip_sequence(oracle_pad(np.arange(T), L), flip_p), L) for _ in range(n))
    assert set(vec) == set(ora), "different supports"
    for key in ora:  # each outcome's probability, compared with a 5-sigma binomial tolerance
        p = ora[key] / n
        sd = math.sqrt(max(p * (1 - p), 1e-4) * 2 / n)
        assert abs(vec[key] / n - p) < 5 * sd + 1e-3, (key, vec[key], ora[key])


def test_train_index_exact_probabilities():
    T, L, n = 10, 4, 20000
    torch.manual_seed(1)
    idx = train_frame_index(torch.full((n,), T), PadTable(L), 0.5).numpy()
    flipped = idx[:, 1] < idx[:, 0]
    assert abs(flipped.mean() - 0.5) < 0.02
    # RandomSelectSequence: start ~ U{0..T-L-1} on the (reversed) sequence -> 6 windows each way
    starts = np.where(flipped, T - 1 - idx[:, 0], idx[:, 0])
    counts = np.bincount(starts, minlength=T)
    assert counts[T - L:].sum() == 0
    np.testing.assert_allclose(counts[: T - L] / n, 1 / (T - L), atol=0.015)


def test_shuffle_permutes_frames():
    torch.manual_seed(2)
    L = 8
    base = train_frame_index(torch.full((3000,), 30), PadTable(L), 0.0, shuffle=False)
    torch.manual_seed(2)
    shuf = train_frame_index(torch.full((3000,), 30), PadTable(L), 0.0, shuffle=True)
    np.testing.assert_array_equal(np.sort(shuf.numpy(), 1), np.sort(base.numpy(), 1))
    pos_of_first = (shuf == base[:, :1]).float().argmax(dim=1)
    assert np.allclose(np.bincount(pos_of_first.numpy(), minlength=L) / 3000, 1 / L, atol=0.03)


def test_bad_lengths_raise():
    with pytest.raises(ValueError):
        train_frame_index(torch.tensor([0, 5]), PadTable(4))


# ---------------------------------------------------------------- value noise: distributions
def _batch(n=4000, t=6, seed=0):
    g = np.random.default_rng(seed)
    x = g.uniform(0, 300, size=(n, t, 17, 3)).astype(np.float32)
    x[..., 2] = g.uniform(0, 1, size=(n, t, 17))
    x[:, :, 0, 2] = 1.0  # conf at the clamp boundary
    return x


def _moments(delta: np.ndarray):
    return delta.mean(), delta.var()


def test_flip_lr_only_permutes_joints_with_probability_p():
    x = _batch(n=4000)
    aug = BatchAugment(COCO, flip_lr_p=0.5, joint_noise=0, point_noise=0, random_move=(0, 0))
    torch.manual_seed(0)
    out = aug(torch.from_numpy(x)).numpy()
    same = (out == x).all(axis=(1, 2, 3))
    swapped = (out == x[:, :, list(COCO.flip_idx)]).all(axis=(1, 2, 3))
    assert (same ^ swapped).all(), "coordinates must not be mirrored"
    random.seed(0)
    ora = np.mean([oracle_flip_lr(xi, 0.5, list(COCO.flip_idx)) is not xi for xi in x[:2000]])
    assert abs(swapped.mean() - 0.5) < 0.03 and abs(swapped.mean() - ora) < 0.05


def test_joint_noise_matches_oracle():
    x = _batch()
    aug = BatchAugment(COCO, flip_lr_p=0, joint_noise=0.1, point_noise=0, random_move=(0, 0))
    torch.manual_seed(0)
    d = aug(torch.from_numpy(x)).numpy() - x
    np.random.seed(0)
    d_ora = np.stack([oracle_joint_noise(xi, 0.1) for xi in x]) - x
    assert np.allclose(d[..., 2], 0) and np.allclose(d[:, 1:, :, :2], d[:, :1, :, :2], atol=1e-4)  # const in time
    assert np.abs(d[..., :2]).max() <= 0.1 + 1e-4
    for a, b in zip(_moments(d[:, 0, :, :2]), _moments(d_ora[:, 0, :, :2])):
        assert abs(a - b) < 3e-4
    assert abs(d[:, 0, :, :2].var() - 0.1**2 / 3) < 1e-4
    # independent per joint and axis
    assert abs(np.corrcoef(d[:, 0, 5, 0], d[:, 0, 6, 0])[0, 1]) < 0.05


def test_point_noise_matches_oracle_and_clamps_conf():
    x = _batch(n=2000)
    aug = BatchAugment(COCO, flip_lr_p=0, joint_noise=0, point_noise=0.05, random_move=(0, 0))
    torch.manual_seed(0)
    out = aug(torch.from_numpy(x)).numpy()
    np.random.seed(0)
    ora = np.stack([oracle_point_noise(xi, 0.05) for xi in x])
    d, d_ora = out - x, ora - x
    for a, b in zip(_moments(d[..., :2]), _moments(d_ora[..., :2])):
        assert abs(a - b) < 5e-5
    assert abs(d[..., :2].var() - 0.05**2 / 3) < 2e-5
    assert out[..., 2].min() >= 0 and out[..., 2].max() <= 1
    at_one = out[:, :, 0, 2]  # inputs at conf 1.0: half the draws clamp back to 1
    assert abs((at_one == 1.0).mean() - (ora[:, :, 0, 2] == 1.0).mean()) < 0.02
    inner = (x[..., 2] > 0.06) & (x[..., 2] < 0.94)  # away from the clamp: plain uniform noise on conf
    assert abs(d[..., 2][inner].var() - 0.05**2 / 3) < 2e-5


def test_random_move_matches_oracle():
    x = _batch(n=6000, t=3)
    aug = BatchAugment(COCO, flip_lr_p=0, joint_noise=0, point_noise=0, random_move=(3, 1))
    torch.manual_seed(0)
    d = aug(torch.from_numpy(x)).numpy() - x
    np.random.seed(0)
    d_ora = np.stack([oracle_move(xi, (3, 1)) for xi in x]) - x
    assert np.allclose(d, d[:, :1, :1], atol=1e-3)  # one offset per sequence
    assert np.allclose(d[..., 2], 0)
    for axis, (lim, var) in enumerate([(3, 3.0), (1, 1 / 3)]):
        v = d[:, 0, 0, axis]
        assert np.abs(v).max() <= lim + 1e-3
        assert abs(v.var() - var) < 0.06 * var and abs(v.var() - d_ora[:, 0, 0, axis].var()) < 0.08 * var
        assert abs(v.mean()) < 4 * math.sqrt(var / len(v))


def test_full_pipeline_moments_match_oracle():
    """Whole training pipeline, batched vs per-sample: the same first and second moments."""
    g = np.random.default_rng(3)
    L, n = 8, 1500
    seqs = [g.uniform(0, 100, size=(int(g.integers(3, 20)), 17, 3)).astype(np.float32) for _ in range(n)]
    for s in seqs:
        s[..., 2] = g.uniform(0, 1, size=s.shape[:2])
    random.seed(0)
    np.random.seed(0)
    ora = np.stack([oracle_train(s, L) for s in seqs])
    flat = np.concatenate(seqs)
    offsets = np.cumsum([0] + [len(s) for s in seqs[:-1]])
    lengths = torch.tensor([len(s) for s in seqs])
    torch.manual_seed(0)
    vec = gather_frames(flat, offsets, train_frame_index(lengths, PadTable(L), 0.5))
    vec = BatchAugment(COCO)(vec).numpy()
    assert vec.shape == ora.shape == (n, L, 17, 3)
    for c in range(3):
        assert abs(vec[..., c].mean() - ora[..., c].mean()) < 0.02 * max(1, abs(ora[..., c].mean()))
        assert abs(vec[..., c].std() - ora[..., c].std()) < 0.03 * ora[..., c].std()


def test_batch_augment_runs_on_the_batch_device_and_dtype():
    x = torch.rand(4, 5, 17, 3, dtype=torch.float64)
    out = BatchAugment(COCO)(x)
    assert out.dtype == x.dtype and out.device == x.device and out.shape == x.shape
    with pytest.raises(ValueError):
        BatchAugment(COCO)(torch.rand(4, 5, 18, 3))
