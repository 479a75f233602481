"""Single-sequence ops: the original PadSequence / SelectSequenceCenter and NormalizeEmpty."""

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
