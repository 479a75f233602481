"""Batched GaitTR / GaitMixer training pipelines vs per-sample oracles with the same random draws.

The oracles below follow the references' per-sample transforms as they are described in
``gaitgraph/transforms/gaittr.py`` and ``gaitmixer.py`` (FastPoseGait ``CollateFn`` fixed_ordered sampling,
``PointNoise``, ``InversePosesPre``, ``JointNoise``, ``GaitTR_MultiInput``; GaitMixer ``MirrorPoses``,
``FlipSequence``, ``RandomSelectSequence``, ``PointNoise``, ``JointNoise``, ``remove_conf``,
``normalize_width``): loops over samples and frames in numpy, consuming the random values that the batched
code drew, so the two must agree value for value.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gaitgraph.skeleton import get_skeleton
from gaitgraph.transforms.augment import gather_frames
from gaitgraph.transforms.gaitmixer import GaitMixerAugment, network_input, train_frame_index
from gaitgraph.transforms.gaittr import GaitTRAugment, bone_parents, gaittr_input, training_input, window_index

COCO = get_skeleton("coco17")
GAITTR_CONNECT = [5, 0, 0, 1, 2, 0, 0, 5, 6, 7, 8, 5, 6, 11, 12, 13, 14]  # FastPoseGait's coco connect_joint


def _sequences(lengths, seed=0):
    g = np.random.default_rng(seed)
    seqs = []
    for t in lengths:
        s = g.uniform(0, 300, size=(t, 17, 3)).astype(np.float32)
        s[..., 2] = g.uniform(0, 1, size=(t, 17))
        seqs.append(s)
    flat = np.concatenate(seqs)
    offsets = np.cumsum([0] + list(lengths[:-1]))
    return seqs, flat, offsets


# ------------------------------------------------------------------ GaitTR oracle (per sample)
def oracle_gaittr_features(data):
    """GaitTR_MultiInput on one (T, V, C) sequence -> (10, T, V), loops as described."""
    d = np.transpose(data, (2, 0, 1))[:2].astype(np.float64)
    c, t, v = d.shape
    new = np.zeros((5, c, t, v))
    new[0] = d
    for i in range(v):
        new[1, :, :, i] = d[:, :, i] - d[:, :, 0]
    for i in range(t - 2):
        new[2, :, i] = d[:, i + 1] - d[:, i]
        new[3, :, i] = d[:, i + 2] - d[:, i]
    for i in range(v):
        new[4, :, :, i] = d[:, :, i] - d[:, :, GAITTR_CONNECT[i]]
    return new.reshape(10, t, v).astype(np.float32)


def oracle_gaittr_sample(seq, length, u_start, point, flip_u, joint, p=0.1):
    seq_len, indices = len(seq), list(range(len(seq)))
    if seq_len < length:  # fixed_ordered: repeat the whole sequence
        it = math.ceil(length / seq_len)
        seq_len, indices = seq_len * it, indices * it
    start = int(u_start * (seq_len - length + 1))  # random.choice(range(0, seq_len - length + 1))
    data = seq[[indices[i] for i in range(seq_len)[start : start + length]]]
    data = data + point  # PointNoise
    for i in range(len(data)):  # InversePosesPre: every frame on its own
        if flip_u[min(i, len(flip_u) - 1)] <= p:
            data[i] = data[i, COCO.flip_idx, :]
    noise = np.hstack((joint, np.zeros((data.shape[1], 1), dtype=np.float32)))  # JointNoise
    return oracle_gaittr_features(data + np.repeat(noise[None], data.shape[0], axis=0))


@pytest.mark.parametrize("per_frame", [True, False])
def test_gaittr_training_pipeline_equals_the_per_sample_oracle(per_frame):
    lengths = [7, 25, 59, 60, 61, 90]
    seqs, flat, offsets = _sequences(lengths)
    g = torch.Generator().manual_seed(0)
    u = torch.rand(len(lengths), generator=g)
    idx = window_index(torch.tensor(lengths), 60, u=u)
    frames = gather_frames(flat, offsets, idx)
    aug = GaitTRAugment(COCO, flip_lr_p=0.3, per_frame_flip=per_frame)  # p raised so that flips happen
    draws = aug.draw(frames.shape, g)
    batched = gaittr_input(aug.apply(frames, draws), COCO).numpy()
    d = {k: v.numpy() for k, v in draws.items()}
    for i, seq in enumerate(seqs):
        expected = oracle_gaittr_sample(seq, 60, float(u[i]), d["point"][i], d["flip_u"][i], d["joint"][i], p=0.3)
        np.testing.assert_allclose(batched[i], expected, rtol=1e-5, atol=1e-4, err_msg=f"sample {i}")
    flips = (d["flip_u"] <= 0.3).mean()
    assert 0 < flips < 1 and d["flip_u"].shape == ((6, 60) if per_frame else (6, 1))


def test_gaittr_window_index_repeats_short_sequences_and_reaches_every_start():
    idx = window_index(torch.tensor([25, 25, 80, 80]), 60, u=torch.tensor([0.0, 0.9999, 0.0, 0.9999]))
    np.testing.assert_array_equal(idx[0].numpy(), np.r_[0:25, 0:25, 0:10])
    np.testing.assert_array_equal(idx[1].numpy(), np.r_[15:25, 0:25, 0:25])  # 75 - 60 + 1 = 16 starts: 0..15
    np.testing.assert_array_equal(idx[2].numpy(), np.arange(60))
    np.testing.assert_array_equal(idx[3].numpy(), np.arange(20, 80))  # the last frame can be in the window
    starts = window_index(torch.full((4000,), 63), 60, generator=torch.Generator().manual_seed(1))[:, 0]
    assert set(starts.tolist()) == {0, 1, 2, 3}
    with pytest.raises(ValueError, match="lengths >= 1"):
        window_index(torch.tensor([0, 5]), 60)


def test_gaittr_augment_distributions():
    x = torch.zeros(400, 30, 17, 3)
    aug = GaitTRAugment(COCO)
    d = aug.draw(x.shape, torch.Generator().manual_seed(2))
    assert abs(d["point"].std().item() - 0.3) < 0.01 and abs(d["joint"].std().item() - 0.3) < 0.02
    assert abs((d["flip_u"] <= 0.1).float().mean().item() - 0.1) < 0.01
    out = aug(torch.randn(8, 30, 17, 3), torch.Generator().manual_seed(3))
    assert out.shape == (8, 30, 17, 3)
    feats = training_input(torch.randn(8, 30, 17, 3), aug)
    assert feats.shape == (8, 1, 10, 30, 17)


def test_gaittr_features_corrected_mode_and_bone_parents():
    x = torch.randn(2, 6, 17, 3)
    ref, cor = gaittr_input(x, COCO), gaittr_input(x, COCO, mode="corrected")
    last = x[:, 5, :, :2] - x[:, 4, :, :2]  # (N, V, 2): the one-frame velocity of frame T - 2
    assert torch.equal(ref[:, 4:6, 4], torch.zeros(2, 2, 17))
    torch.testing.assert_close(cor[:, 4:6, 4], last.permute(0, 2, 1))
    assert torch.equal(ref[:, 4:6, :4], cor[:, 4:6, :4]) and torch.equal(ref[:, 6:], cor[:, 6:])
    assert list(bone_parents("coco17")) == GAITTR_CONNECT
    assert bone_parents("openpose18") == get_skeleton("openpose18").parents  # FastPoseGait's table, unchanged
    with pytest.raises(ValueError, match="unknown GaitTR feature mode"):
        gaittr_input(x, COCO, mode="fixed")


# ------------------------------------------------------------------ GaitMixer oracle (per sample)
def oracle_gaitmixer_sample(seq, length, mirror_u, flip_u, start_u, point, joint):
    data = seq.copy()
    if mirror_u <= 0.5:  # MirrorPoses
        center = np.mean(data[:, :, 0], axis=1, keepdims=True)
        data[:, :, 0] = center - data[:, :, 0] + center
    if flip_u <= 0.5:  # FlipSequence
        data = np.flip(data, axis=0).copy()
    if data.shape[0] != length:  # RandomSelectSequence: np.random.randint(0, T - L)
        start = int(start_u * (data.shape[0] - length))
        data = data[start : start + length]
    data = data + point  # PointNoise
    noise = np.hstack((joint, np.zeros((data.shape[1], 1), dtype=np.float32)))  # JointNoise
    data = data + np.repeat(noise[None], data.shape[0], axis=0)
    return data[:, :, :2] / 320  # remove_conf, normalize_width


def test_gaitmixer_training_pipeline_equals_the_per_sample_oracle():
    lengths = [60, 61, 62, 90, 130, 75]
    seqs, flat, offsets = _sequences(lengths, seed=1)
    g = torch.Generator().manual_seed(4)
    frame_draws = {k: torch.rand(len(lengths), generator=g) for k in ("flip_u", "start_u")}
    idx = train_frame_index(torch.tensor(lengths), 60, 0.5, draws=frame_draws)
    frames = gather_frames(flat, offsets, idx)
    aug = GaitMixerAugment()
    draws = aug.draw(frames.shape, g)
    batched = network_input(aug.apply(frames, draws)).numpy()  # (N, 1, 2, 60, V)
    assert batched.shape == (6, 1, 2, 60, 17)
    d = {k: v.numpy() for k, v in {**draws, **frame_draws}.items()}
    for i, seq in enumerate(seqs):
        expected = oracle_gaitmixer_sample(seq, 60, d["mirror_u"][i], d["flip_u"][i], d["start_u"][i], d["point"][i],
                                           d["joint"][i])
        np.testing.assert_allclose(batched[i, 0], expected.transpose(2, 0, 1), rtol=1e-5, atol=1e-6,
                                   err_msg=f"sample {i}")
    assert 0 < (d["mirror_u"] <= 0.5).mean() < 1 and 0 < (d["flip_u"] <= 0.5).mean() < 1


def test_gaitmixer_frame_index_support():
    starts = train_frame_index(torch.full((4000,), 63), 60, flip_p=0.0, generator=torch.Generator().manual_seed(5))
    assert set(starts[:, 0].tolist()) == {0, 1, 2}  # U{0..T-61}: the window never ends on the last frame
    whole = train_frame_index(torch.tensor([60, 60]), 60, draws={"flip_u": torch.tensor([0.9, 0.1]),
                                                                  "start_u": torch.tensor([0.5, 0.5])})
    np.testing.assert_array_equal(whole[0].numpy(), np.arange(60))
    np.testing.assert_array_equal(whole[1].numpy(), np.arange(59, -1, -1))  # reversed
    with pytest.raises(ValueError, match="at least 60 frames"):
        train_frame_index(torch.tensor([59]), 60)


def test_gaitmixer_augment_distributions_and_mirror():
    aug = GaitMixerAugment()
    d = aug.draw((500, 60, 17, 3), torch.Generator().manual_seed(6))
    assert abs(d["point"].std().item() - 0.05) < 0.002 and abs(d["joint"].std().item() - 0.25) < 0.01
    x = torch.rand(3, 4, 17, 3) * 100
    quiet = {"mirror_u": torch.tensor([0.1, 0.9, 0.5]), "point": torch.zeros(3, 4, 17, 3), "joint": torch.zeros(3, 17, 2)}
    out = aug.apply(x, quiet)
    mean_x = x[..., 0].mean(dim=2, keepdim=True)
    torch.testing.assert_close(out[0, ..., 0], (2 * mean_x - x[..., 0])[0])  # mirrored about the frame's mean x
    assert torch.equal(out[1], x[1]) and not torch.equal(out[2], x[2])  # u <= p mirrors (p = 0.5 included)
    assert torch.equal(out[..., 1:], x[..., 1:])  # y and confidence untouched, joint labels not swapped
    feats = network_input(x, keep_conf=True)
    assert feats.shape == (3, 1, 3, 4, 17) and torch.equal(feats[:, 0, 2], x[..., 2])
