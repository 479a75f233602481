"""GPGait's input transforms (test and training side) against a per-sample numpy oracle of the reference.

The oracle re-implements FastPoseGait's ``Affine``, ``RescaleCenter``, ``InversePosesPre``, ``JointNoise`` and
``HOD_MultiInput`` from their description (numpy, one (T, V, 3) float32 sequence at a time, per frame or
per joint loops) and its ``fixed_unordered`` frame choice (``np.random.choice``). The vectorised code gets
the same random draws as the oracle where the result depends on them (exact agreement) and is compared in
distribution where the draws themselves are the subject.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gaitgraph.skeleton import get_skeleton
from gaitgraph.transforms.augment import gather_frames
from gaitgraph.transforms.gpgait_augment import GPGaitAugment, GPGaitDraws, sample_frame_index
from gaitgraph.transforms.hod import (
    ANGLES, BONE_TO, gpgait_input, hod_features, hod_input, rescale_center, spine_vertical,
)

FLIP = list(get_skeleton("coco17").flip_idx)


# ---------------------------------------------------------------- the per-sample oracle (reference)
def oracle_affine(x: np.ndarray, corrected: bool = False) -> np.ndarray:
    x = x.copy()
    nx, ny = (x[:, 5, 0] + x[:, 6, 0]) / 2, (x[:, 5, 1] + x[:, 6, 1]) / 2
    xl, yl = (x[:, 11, 0] + x[:, 12, 0]) / 2 - nx, (x[:, 11, 1] + x[:, 12, 1]) / 2 - ny
    theta = np.zeros_like(xl)
    for t in range(len(x)):  # per frame: no rotation when neck and hip are at one height
        theta[t] = 0 if yl[t] == 0 else np.arctan(xl[t] / yl[t])
    c, s = np.cos(theta)[:, None], np.sin(theta)[:, None]
    x0 = x[:, :, 0].copy()
    x[:, :, 0] = c * x[:, :, 0] - s * x[:, :, 1] + (1 - c) * nx[:, None] + s * ny[:, None]
    src = x0 if corrected else x[:, :, 0]
    x[:, :, 1] = s * src + c * x[:, :, 1] + (1 - c) * ny[:, None] - s * nx[:, None]
    return x


def oracle_rescale(x: np.ndarray) -> np.ndarray:
    x = x.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        for t in range(len(x)):
            scale = 225 / (x[t, :, 1].max() - x[t, :, 1].min())
            x[t, :, :2] *= scale
            x[t, :, :2] -= (x[t, 5, :2] + x[t, 6, :2]) / 2
    return x


def oracle_angle(c, a, b) -> np.ndarray:
    s1 = np.sqrt((c[:, 0] - a[:, 0]) ** 2 + (c[:, 1] - a[:, 1]) ** 2)
    s2 = np.sqrt((c[:, 0] - b[:, 0]) ** 2 + (c[:, 1] - b[:, 1]) ** 2)
    s3 = np.sqrt((a[:, 0] - b[:, 0]) ** 2 + (a[:, 1] - b[:, 1]) ** 2)
    out = np.empty_like(s1)
    for t in range(len(s1)):
        d = s1[t] * s2[t]
        if d == 0:
            out[t] = np.float32(math.pi)
            continue
        cos = (s1[t] * s1[t] + s2[t] * s2[t] - s3[t] * s3[t]) / (2 * d)
        out[t] = math.pi - np.arccos(np.clip(cos, -1, 1) if not np.isnan(cos) else cos)
    return out


def oracle_hod(x: np.ndarray) -> np.ndarray:
    """(T, 17, 3) -> (T, 17, 6): x, y, bone, angle, 0; NaN -> 0."""
    t = len(x)
    out = np.zeros((t, 17, 6), np.float64)
    with np.errstate(invalid="ignore"):
        for j in range(17):
            out[:, j, :2] = x[:, j, :2]
            out[:, j, 2:4] = x[:, j, :2] - x[:, BONE_TO[j], :2]
            c, a, *b = ANGLES[j]
            other = x[:, b[0], :2] if b else np.stack([x[:, c, 0], x[:, a, 1]], axis=1)
            out[:, j, 4] = oracle_angle(x[:, c, :2], x[:, a, :2], other)
    return np.nan_to_num(out).astype(np.float32)


def oracle_train(seq, frames, swap, noise, affine=None):
    """One sample of the training pipeline, given its frame indices, per-frame swaps and joint noise."""
    x = seq[frames].copy()
    if affine:
        x = oracle_affine(x, corrected=affine == "corrected")
    x = oracle_rescale(x)
    for f in range(len(x)):
        if swap[f]:
            x[f] = x[f, FLIP, :]
    x = x + np.concatenate([noise, np.zeros((17, 1), np.float32)], axis=1)[None]
    return oracle_hod(x)


# ---------------------------------------------------------------- poses
def walk(seed: int, t: int = 20, tilt: float = 0.0) -> np.ndarray:
    """A rough COCO-17 walker in pixels, tilted by ``tilt`` degrees, with detector-like noise."""
    g = np.random.default_rng(seed)
    base = np.array([[0, -80], [-4, -84], [4, -84], [-9, -82], [9, -82], [-18, -60], [18, -60], [-22, -30],
                     [22, -30], [-24, -2], [24, -2], [-12, 0], [12, 0], [-13, 45], [13, 45], [-14, 90], [14, 90]], float)
    phase = np.linspace(0, 2 * np.pi, t)[:, None]
    x = np.repeat(base[None], t, axis=0)
    x[:, [13, 15], 0] += 12 * np.sin(phase)
    x[:, [14, 16], 0] -= 12 * np.sin(phase)
    r = np.deg2rad(tilt)
    x = x @ np.array([[np.cos(r), np.sin(r)], [-np.sin(r), np.cos(r)]]) + [160, 120] + g.normal(0, 1.5, x.shape)
    conf = g.uniform(0.3, 1, (t, 17, 1))
    return np.concatenate([x, conf], axis=2).astype(np.float32)


def hard_cases() -> np.ndarray:
    x = walk(1, 12, tilt=17)
    x[2, [7, 9]] = 0  # missing joints
    x[4] = 0  # no detection at all: RescaleCenter -> NaN, HOD -> 0
    x[5, 1, :2] = x[5, 0, :2]  # coincident joints: a zero side, angle pi
    x[6, 2, :2] = (x[6, 0, :2] + x[6, 4, :2]) / 2  # collinear: a straight angle
    x[7, 11, 1] = x[7, 5, 1] = x[7, 6, 1] = x[7, 12, 1]  # neck and hip at one height: no rotation
    return x


# ---------------------------------------------------------------- test-time transforms: exact
@pytest.mark.parametrize("affine", [None, "reference", "corrected"])
def test_test_transform_matches_the_oracle_exactly(affine):
    x = hard_cases()
    ref = x if affine is None else oracle_affine(x, corrected=affine == "corrected")
    ref = oracle_hod(oracle_rescale(ref)).transpose(2, 0, 1)
    ours = gpgait_input(torch.from_numpy(x), affine).numpy()
    np.testing.assert_array_equal(ours, ref)
    assert (ours[:, 4] == 0).all() and not np.isnan(ours).any()  # the frame without detection


def test_batched_calls_equal_per_sequence_calls_and_float64_stays_float64():
    xs = np.stack([walk(s, 15, tilt=10 * s) for s in range(3)])
    batched = gpgait_input(torch.from_numpy(xs), "reference")
    for i in range(3):
        torch.testing.assert_close(batched[i], gpgait_input(torch.from_numpy(xs[i]), "reference"), rtol=0, atol=0)
    x64 = xs[0].astype(np.float64)
    assert rescale_center(torch.from_numpy(x64)).dtype == torch.float64
    np.testing.assert_allclose(gpgait_input(torch.from_numpy(x64)).numpy(),
                               oracle_hod(oracle_rescale(x64)).transpose(2, 0, 1), rtol=1e-6, atol=1e-6)


def test_rescale_center_sets_height_and_neck_and_keeps_confidence():
    x = walk(2, 8)
    out = rescale_center(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(out[..., 1].max(1) - out[..., 1].min(1), 225, rtol=1e-5)
    np.testing.assert_allclose((out[:, 5, :2] + out[:, 6, :2]) / 2, 0, atol=1e-4)
    np.testing.assert_array_equal(out[..., 2], x[..., 2])
    with pytest.raises(ValueError, match="center must be one of"):
        rescale_center(torch.from_numpy(x), center="chest")


def test_spine_vertical_corrected_is_a_rotation_and_reference_skews_y():
    x = torch.from_numpy(walk(3, 6, tilt=25)).double()
    cor, ref = spine_vertical(x, "corrected"), spine_vertical(x, "reference")
    for out in (cor, ref):  # both put the hip straight below the neck (x is right in both)
        neck, hip = out[:, [5, 6], :2].mean(1), out[:, [11, 12], :2].mean(1)
        torch.testing.assert_close(hip[:, 0], neck[:, 0])
    d = lambda p: torch.cdist(p[..., :2], p[..., :2])  # noqa: E731
    torch.testing.assert_close(d(cor), d(x))  # a rotation keeps every distance
    assert (d(ref) - d(x)).abs().max() > 1.0  # the reference's y from the rotated x does not
    neck, hip = x[:, [5, 6], :2].mean(1), x[:, [11, 12], :2].mean(1)
    theta = torch.arctan((hip[:, 0] - neck[:, 0]) / (hip[:, 1] - neck[:, 1]))[:, None]
    torch.testing.assert_close(ref[..., 1] - cor[..., 1], torch.sin(theta) * (ref[..., 0] - x[..., 0]))
    upright = torch.from_numpy(walk(3, 6)).double()
    upright[:, [11, 12], 0] = upright[:, [5, 6], 0]  # spine already vertical: nothing to do
    torch.testing.assert_close(spine_vertical(upright, "reference"), upright)
    with pytest.raises(ValueError, match="affine mode"):
        spine_vertical(x, "fixed")


def test_hod_features_layout():
    x = torch.from_numpy(walk(4, 3))
    f = hod_features(x)
    assert f.shape == (3, 17, 6)
    torch.testing.assert_close(f[..., 2:4], x[..., :2] - x[:, list(BONE_TO), :2])
    assert (f[..., 5] == 0).all() and (f[..., 4] >= 0).all() and (f[..., 4] <= math.pi).all()
    with pytest.raises(ValueError, match="COCO-17"):
        hod_features(torch.zeros(3, 18, 3))


# ---------------------------------------------------------------- training: same draws, exact
@pytest.mark.parametrize("affine, flip_p, noise", [(None, 0.1, 0.3), ("reference", 0.01, 0.3), (None, 0.5, 0.0)])
def test_training_pipeline_matches_the_oracle_with_the_same_draws(affine, flip_p, noise):
    seqs = [walk(s, t, tilt=5 * s) for s, t in enumerate((30, 9, 41, 17))]
    seqs[2][3, [7, 9]] = 0
    lengths = torch.tensor([len(s) for s in seqs])
    gen = torch.Generator().manual_seed(0)
    idx = sample_frame_index(lengths, 16, gen)
    batch = gather_frames(np.concatenate(seqs), np.cumsum([0] + [len(s) for s in seqs[:-1]]), idx)
    aug = GPGaitAugment(affine=affine, flip_p=flip_p, joint_noise=noise)
    draws = aug.draw(len(seqs), 16, gen)
    feats = hod_input(aug.apply(batch, draws)).numpy()
    for i, s in enumerate(seqs):
        ref = oracle_train(s, idx[i].numpy(), draws.swap[i].numpy(), draws.joint_noise[i].numpy(), affine)
        np.testing.assert_allclose(feats[i], ref.transpose(2, 0, 1), rtol=1e-6, atol=1e-5)
    assert aug(batch, gen).shape == (4, 6, 16, 17)


def test_frame_choice_is_np_random_choice():
    n, f = 20000, 4
    gen = torch.Generator().manual_seed(1)
    long_idx = sample_frame_index(torch.full((n,), 6), f, gen).numpy()
    short_idx = sample_frame_index(torch.full((n,), 3), f, gen).numpy()
    mixed = sample_frame_index(torch.tensor([2, 9]), 5, gen)
    assert (mixed[0] < 2).all() and len(set(mixed[1].tolist())) == 5 and (mixed[1] < 9).all()
    rng = np.random.default_rng(1)
    ora_long = np.stack([rng.choice(6, f, replace=False) for _ in range(n)])
    ora_short = np.stack([rng.choice(3, f, replace=True) for _ in range(n)])
    assert all(len(set(r)) == f for r in long_idx[:2000]) and (long_idx < 6).all()
    for ours, ora, k in ((long_idx, ora_long, 6), (short_idx, ora_short, 3)):
        for pos in range(f):  # each position uniform over the frames
            p_ours = np.bincount(ours[:, pos], minlength=k) / n
            p_ora = np.bincount(ora[:, pos], minlength=k) / n
            assert np.abs(p_ours - 1 / k).max() < 0.015 and np.abs(p_ora - 1 / k).max() < 0.015
        # joint law of the first two positions: the same pairs as often as the oracle's
        pairs = lambda a: np.bincount(a[:, 0] * k + a[:, 1], minlength=k * k) / n  # noqa: E731
        assert np.abs(pairs(ours) - pairs(ora)).max() < 0.01
    assert (short_idx[:, 0] == short_idx[:, 1]).mean() == pytest.approx(1 / 3, abs=0.02)  # with replacement
    with pytest.raises(ValueError):
        sample_frame_index(torch.tensor([0, 5]), 4)


def test_draws_follow_the_reference_distributions():
    aug = GPGaitAugment(flip_p=0.1, joint_noise=0.3)
    d = aug.draw(4000, 30, torch.Generator().manual_seed(2))
    swap = d.swap.float()
    assert abs(swap.mean().item() - 0.1) < 0.005  # per frame, probability p
    assert abs(np.corrcoef(swap[:, 0].numpy(), swap[:, 1].numpy())[0, 1]) < 0.05  # frames independent
    rng = np.random.default_rng(2)
    ora = rng.normal(0, 0.3, size=(4000, 17, 2))
    assert abs(d.joint_noise.std().item() - ora.std()) < 0.005 and abs(d.joint_noise.mean().item()) < 0.005
    x = torch.from_numpy(np.stack([walk(s, 30) for s in range(4)]))
    out = aug.apply(x, GPGaitDraws(torch.zeros_like(d.swap[:4]), d.joint_noise[:4]))
    delta = out - rescale_center(x)
    torch.testing.assert_close(delta[:, 1:], delta[:, :1].expand_as(delta[:, 1:]))  # constant over time
    assert (delta[..., 2] == 0).all()  # confidence untouched
    with pytest.raises(ValueError, match=r"\(N, F, 17, 3\)"):
        aug.apply(x[0], d)

