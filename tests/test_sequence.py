"""Single-sequence ops: the original PadSequence / SelectSequenceCenter and NormalizeEmpty."""

from pathlib import Path

import numpy as np
import pytest
import torch

from gaitgraph.transforms.sequence import center_crop, fill_missing_joints, pad_indices, pad_sequence, to_length


def frames(t):
    """(T, 2, 3) sequence whose x channel is the frame number, so padding shows as indices."""
    seq = np.zeros((t, 2, 3), dtype=np.float32)
    seq[..., 0] = np.arange(t)[:, None]
    return seq


def test_pad_reflects_without_repeating_the_edge_frame():
    # T=7, L=10: diff 4, pre 2 -> 1 mirrored frame in front, post 3 -> 3 behind, cut to 10
    assert pad_indices(7, 10).tolist() == [1, 0, 1, 2, 3, 4, 5, 6, 5, 4]
    assert pad_sequence(frames(7), 10)[:, 0, 0].tolist() == [1, 0, 1, 2, 3, 4, 5, 6, 5, 4]


def test_pad_tiles_very_short_sequences():
    # T=2, L=10: pre 5 / post 5 exceed T, so the sequence becomes [rev, seq, rev] = 1 0 0 1 1 0 first
    assert pad_indices(2, 10).tolist() == [1, 1, 0, 0, 1, 0, 0, 1, 1, 0]
    assert pad_indices(1, 60).tolist() == [0] * 60


def test_pad_keeps_long_sequences_and_equal_length_ones():
    assert pad_indices(61, 60).tolist() == list(range(61))
    assert pad_indices(60, 60).tolist() == list(range(60))
    assert pad_indices(59, 60).tolist() == list(range(59)) + [57]


def test_center_crop_start_is_int_of_half_difference():
    assert center_crop(frames(97), 60)[:, 0, 0].tolist() == list(range(18, 78))  # int(48.5 - 30) = 18
    assert center_crop(frames(61), 60)[0, 0, 0] == 0  # int(0.5) = 0
    with pytest.raises(ValueError, match="pad it first"):
        center_crop(frames(5), 10)


@pytest.mark.parametrize("t", [1, 3, 25, 59, 60, 61, 140])
def test_to_length_numpy_and_torch_agree(t):
    seq = np.random.default_rng(t).normal(size=(t, 17, 3)).astype(np.float32)
    a, b = to_length(seq, 60), to_length(torch.from_numpy(seq), 60)
    assert isinstance(a, np.ndarray) and isinstance(b, torch.Tensor)
    assert a.shape == (60, 17, 3)
    np.testing.assert_array_equal(a, b.numpy())


def test_fill_missing_joints_uses_the_frame_mean_and_zero_confidence():
    poses = np.array([[[0.0, 5.0, 0.9], [4.0, 2.0, 0.8], [8.0, 8.0, 0.7]]], dtype=np.float32)
    out = fill_missing_joints(poses)
    np.testing.assert_allclose(out[0, 0], [4.0, 5.0, 0.0])  # mean over all joints, the zero included
    np.testing.assert_array_equal(out[0, 1:], poses[0, 1:])
    np.testing.assert_allclose(fill_missing_joints(torch.from_numpy(poses)).numpy(), out)


FIXTURES = Path(__file__).parent / "fixtures"


def normalize_empty_oracle(frame: np.ndarray) -> np.ndarray:
    """One frame (V, 3) through the original loop, as described: list the joints with x == 0 first, then
    fill them one by one in joint order, each with the float32 mean of the frame as it is at that moment."""
    f = np.array(frame, dtype=np.float32)
    for j in np.flatnonzero(f[:, 0] == 0):
        mean = f.mean(axis=0)
        f[j] = [mean[0], mean[1], 0.0]
    return f


def frames_with_missing(v: int = 18, seed: int = 0) -> np.ndarray:
    """V + 1 frames with 0, 1, ..., V missing joints (0, 0, 0) at random places, pixel coordinates."""
    rng = np.random.default_rng(seed)
    out = np.stack([rng.uniform(100, 900, (v + 1, v)), rng.uniform(100, 900, (v + 1, v)),
                    rng.uniform(0.05, 1, (v + 1, v))], -1).astype(np.float32)
    for k in range(v + 1):
        out[k, rng.permutation(v)[:k]] = 0
    return out


@pytest.mark.parametrize("v", [17, 18])
def test_fill_missing_joints_matches_the_one_by_one_loop_for_any_number_missing(v):
    seq = frames_with_missing(v, seed=v)
    assert sorted((seq[..., 0] == 0).sum(1).tolist()) == list(range(v + 1))
    expected = np.stack([normalize_empty_oracle(f) for f in seq])
    out = fill_missing_joints(seq)
    assert out.dtype == np.float32 and out.shape == seq.shape
    np.testing.assert_allclose(out, expected, rtol=2e-6, atol=1e-4)
    np.testing.assert_array_equal(out[0], seq[0])  # nothing missing: unchanged
    # torch, with leading batch axes: the same numbers
    batch = torch.from_numpy(np.stack([seq, seq[::-1].copy()]))
    out_t = fill_missing_joints(batch)
    assert out_t.dtype == torch.float32 and out_t.shape == batch.shape
    np.testing.assert_allclose(out_t[0].numpy(), expected, rtol=2e-6, atol=1e-4)
    np.testing.assert_allclose(out_t[1].numpy(), expected[::-1], rtol=2e-6, atol=1e-4)


def test_fill_missing_joints_two_missing_sees_the_first_fill():
    # V = 4, x = (0, 0, 4, 8): the first gets 12/4 = 3, the second (12 + 3)/4 = 3.75, not 3 again
    poses = np.array([[[0, 1, 1], [0, 3, 1], [4, 4, 1], [8, 8, 1]]], dtype=np.float32)
    out = fill_missing_joints(poses)
    np.testing.assert_allclose(out[0, :2, 0], [3.0, 3.75])
    # y: the first gets (1+3+4+8)/4 = 4; then its y is 4, so the second gets (4+3+4+8)/4 = 4.75
    np.testing.assert_allclose(out[0, :2, 1], [4.0, 4.75])
    np.testing.assert_array_equal(out[0, :2, 2], [0, 0])


def test_fill_missing_joints_every_joint_missing_and_only_x_decides():
    poses = np.zeros((2, 5, 3), dtype=np.float32)
    poses[0, :, 1] = [10, 0, 20, 0, 30]  # every x is 0: all missing, y filled one by one from its own values
    poses[1] = [[1, 0, 0.5]] * 5  # y == 0 with x set: not missing, unchanged
    out = fill_missing_joints(poses)
    np.testing.assert_allclose(out[0], normalize_empty_oracle(poses[0]), rtol=1e-6)
    assert (out[0, :, 0] == 0).all() and (out[0, :, 2] == 0).all()
    np.testing.assert_array_equal(out[1], poses[1])
    neg = np.array([[[-0.0, 5, 1], [2, 1, 1]]], dtype=np.float32)  # -0.0 == 0: missing, as in the original
    np.testing.assert_allclose(fill_missing_joints(neg)[0, 0], [1.0, 3.0, 0.0])


def test_fill_missing_joints_reproduces_the_original_normalize_empty():
    # made by running the original GaitGraph2 transform (fixtures/README.md): 0 ... 18 missing joints per frame
    ref = np.load(FIXTURES / "gaitgraph2_normalize_empty.npz")
    counts = (ref["input"][..., 0] == 0).sum(1)
    assert set(counts.tolist()) == set(range(19))
    out = fill_missing_joints(ref["input"])
    np.testing.assert_allclose(out, ref["output"], rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(fill_missing_joints(torch.from_numpy(ref["input"])).numpy(), ref["output"], rtol=1e-6, atol=1e-4)
