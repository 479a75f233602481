"""GaitMixer against exitudio/GaitMixer's own model and test code (fixture ``tests/fixtures/gaitmixer``, made by
running the reference @ 695fd35 once; see its README): the network, the three-window test pipeline, the
sequences its dataset drops; checkpoint handling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import relative_error as rel
from gaitgraph.checkpoints import CheckpointError
from gaitgraph.methods import gaitmixer
from gaitgraph.methods.common import dropped_rows
from gaitgraph.transforms.gaitmixer import three_window_index

HERE = Path(__file__).parent / "fixtures" / "gaitmixer"
CKPT = HERE / "gaitmixer_random.pth"
TOL = 1e-4  # relative, the tolerance


@pytest.fixture(scope="module")
def ref():
    return torch.load(HERE / "gaitmixer_reference_outputs.pt", weights_only=True)


@pytest.fixture(scope="module")
def loaded():
    return gaitmixer.load_checkpoint(CKPT)


def test_plain_state_dict_is_recognised_and_rebuilt(loaded):
    state = torch.load(CKPT, weights_only=True)
    assert gaitmixer.is_checkpoint(state)
    assert gaitmixer.is_checkpoint({f"module.{k}": v for k, v in state.items()})  # nn.DataParallel names
    assert loaded.method == gaitmixer.NAME and loaded.skeleton == "coco17" and not loaded.network.training
    assert sum(p.numel() for p in loaded.network.parameters()) == 166_304
    assert loaded.options == {"num_frames": 60, "min_length": 61, "keep_conf": False}


def test_network_matches_on_the_reference_windows(ref, loaded):
    x = ref["center_windows"].permute(0, 3, 1, 2).unsqueeze(1)  # reference (B, T, V, C) -> (B, 1, C, T, V)
    with torch.no_grad():
        assert rel(loaded.network(x), ref["center_window_output"]) < TOL


def test_whole_pipeline_matches_and_drops_what_the_reference_drops(ref, loaded):
    out = gaitmixer.embed(loaded, ref["raw_sequences"], batch_size=3)
    kept = ref["kept"].numpy()
    assert [len(s) for s in ref["raw_sequences"]] == [25, 59, 60, 61, 75, 97, 130, 88]
    assert out.shape == (8, 128) and out.dtype == np.float32
    np.testing.assert_array_equal(dropped_rows(out), ~kept)  # T <= 60 dropped, as the reference's dataset
    assert dropped_rows(out).sum() == 3
    for i in np.flatnonzero(kept):  # includes the sequence with (0, 0, 0) missing joints
        assert rel(out[i], ref["embedding"][i]) < TOL, i
    norms = np.linalg.norm(out[kept], axis=1)
    assert (norms < 0.95).all()  # the mean of six unit vectors, not re-normalised (as the reference)


def test_min_length_60_also_embeds_the_60_frame_sequence(ref):
    loaded = gaitmixer.load_checkpoint(CKPT, min_length=60)
    out = gaitmixer.embed(loaded, ref["raw_sequences"])
    expected = ref["embedding_min_length_60"].numpy()
    np.testing.assert_array_equal(dropped_rows(out), np.isnan(expected).all(axis=1))
    assert not dropped_rows(out)[2]  # T = 60
    ok = ~dropped_rows(out)
    assert rel(out[ok], expected[ok]) < TOL
    with pytest.raises(ValueError, match="below the 60 frames"):
        gaitmixer.load_checkpoint(CKPT, min_length=59)


def test_dropped_sequences_can_be_an_error(ref, loaded):
    with pytest.raises(ValueError, match=r"3 sequences have fewer than 61 frames .* indices \[0, 1, 2\]"):
        gaitmixer.embed(loaded, ref["raw_sequences"], on_dropped="error")
    out = gaitmixer.embed(loaded, ref["raw_sequences"][3:], on_dropped="error")
    assert not dropped_rows(out).any()


def test_three_windows_follow_the_reference_rule():
    # T = 100: centre start int(50 - 30) = 20, earlier max(0, 0) = 0, later min(100, 100) - 60 = 40
    idx = three_window_index(torch.tensor([100, 60, 61, 75]))
    assert idx[0, :, 0].tolist() == [0, 20, 40] and idx.shape == (4, 3, 60)
    assert idx[1, :, 0].tolist() == [0, 0, 0] and idx[2, :, 0].tolist() == [0, 0, 1]
    assert idx[3, :, 0].tolist() == [0, 7, 15]
    with pytest.raises(ValueError, match="at least 60 frames"):
        three_window_index(torch.tensor([59]))


def test_other_files_raise_checkpoint_errors_naming_the_file(tmp_path):
    state = torch.load(CKPT, weights_only=True)
    wrapped = tmp_path / "wrapped.pt"
    torch.save({"model": state, "iteration": 0}, wrapped)
    with pytest.raises(CheckpointError, match=r"wrapped\.pt: not a GaitMixer checkpoint"):
        gaitmixer.load_checkpoint(wrapped)
    gaitformer = dict(state, temporal_cls_token=torch.zeros(1, 1, 32))  # the repository's other model
    assert not gaitmixer.is_checkpoint(gaitformer)
    broken = dict(state)
    del broken["conv4.bn_skip.weight"]
    with pytest.raises(CheckpointError, match="1 missing"):
        gaitmixer.load_checkpoint(broken)


def test_bad_sequences_raise_one_line_errors(loaded):
    with pytest.raises(ValueError, match=r"sequence 0: expected shape \(T, 17, 3\)"):
        gaitmixer.embed(loaded, [np.zeros((70, 17, 2))])
    with pytest.raises(ValueError, match="sequence 0: contains NaN"):
        gaitmixer.embed(loaded, [np.full((70, 17, 3), np.inf)])
    with pytest.raises(ValueError, match="expected a gaitmixer model"):
        gaitmixer.embed(object(), [np.zeros((70, 17, 3))])
    assert gaitmixer.embed(loaded, []).shape == (0, 128)
