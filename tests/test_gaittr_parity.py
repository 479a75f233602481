"""GaitTR against FastPoseGait's own outputs (shared fixture ``fastposegait_gaittr_casia-b.pt``, made by running
BNU-IVC/FastPoseGait @ 94da9c8 once; see ``../shared/fixtures/README.md``): the network, the input transform,
the whole test pipeline, variable lengths with missing joints, the stacked batch; checkpoint handling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import relative_error as rel, shared_file
from gaitgraph.checkpoints import CheckpointError
from gaitgraph.methods import gaittr
from gaitgraph.methods.common import dropped_rows
from gaitgraph.transforms.gaittr import gaittr_input

TOL = 1e-4  # relative, the tolerance


@pytest.fixture(scope="module")
def fixture():
    return torch.load(shared_file("fixtures/fastposegait_gaittr_casia-b.pt"), weights_only=True)


@pytest.fixture(scope="module")
def loaded(fixture):
    return gaittr.load_checkpoint(fixture["checkpoint"])


def test_checkpoint_is_recognised_and_rebuilt(fixture, loaded):
    assert gaittr.is_checkpoint(fixture["checkpoint"])
    assert loaded.method == gaittr.NAME and loaded.skeleton == "coco17" and not loaded.network.training
    assert sum(p.numel() for p in loaded.network.parameters()) == fixture["param_count"] == 512_010
    assert loaded.info["iteration"] == fixture["checkpoint"]["iteration"]


def test_network_matches_on_the_reference_input(fixture, loaded):
    x = fixture["network_input"].permute(0, 4, 1, 2, 3)  # reference (N, C, T, V, M) -> (N, M=1, C, T, V)
    with torch.no_grad():
        out = torch.cat([loaded.network(x[i : i + 1]) for i in range(len(x))])
    assert rel(out, fixture["output"][..., 0]) < TOL


def test_input_transform_equals_the_reference_bit_for_bit(fixture):
    x = torch.stack(fixture["raw_sequences"])
    assert torch.equal(gaittr_input(x, "coco17"), fixture["network_input"][..., 0])
    for raw, expected in zip(fixture["varlen"]["raw_sequences"], fixture["varlen"]["network_inputs"]):
        assert torch.equal(gaittr_input(raw[None], "coco17"), expected[..., 0])


def test_whole_pipeline_matches_one_sequence_per_forward(fixture, loaded):
    out = gaittr.embed(loaded, fixture["raw_sequences"])
    assert out.shape == (4, 128, 1) and out.dtype == np.float32
    assert rel(out, fixture["output"]) < TOL
    assert not dropped_rows(out).any()


def test_variable_lengths_and_missing_joints(fixture, loaded):
    varlen = fixture["varlen"]
    assert sorted(len(s) for s in varlen["raw_sequences"]) == [31, 58, 117]
    out = gaittr.embed(loaded, varlen["raw_sequences"])
    for i in range(3):
        assert rel(out[i], varlen["outputs"][i]) < TOL, i


def test_stacked_batch_reproduces_the_batched_output(fixture, loaded):
    """Equal-length sequences stacked in one forward (the fixture's N = 4 forward) give the same embeddings."""
    out = gaittr.embed(loaded, fixture["raw_sequences"], batch_size=4)
    assert rel(out, fixture["output_batched"]) < TOL and rel(out, fixture["output"]) < TOL
    # mixed lengths: grouped by length, each embedding still its own
    mixed = list(fixture["raw_sequences"][:2]) + list(fixture["varlen"]["raw_sequences"])
    out = gaittr.embed(loaded, mixed, batch_size=8)
    assert rel(out[:2], fixture["output"][:2]) < TOL and rel(out[2:], fixture["varlen"]["outputs"]) < TOL


def test_checkpoint_file_loads_with_weights_only(fixture, tmp_path):
    path = tmp_path / "GaitTR-40000.pt"
    torch.save(fixture["checkpoint"], path)
    loaded = gaittr.load_checkpoint(path)
    assert loaded.source == str(path)
    assert rel(gaittr.embed(loaded, fixture["raw_sequences"][:1]), fixture["output"][:1]) < TOL


def test_other_files_raise_checkpoint_errors_naming_the_file(fixture, tmp_path):
    assert not gaittr.is_checkpoint({"state_dict": {}}) and not gaittr.is_checkpoint(fixture["checkpoint"]["model"])
    assert not gaittr.is_checkpoint({"model": {k: 1 for k in fixture["checkpoint"]["model"]}})  # not tensors
    bad = tmp_path / "plain.pth"
    torch.save(fixture["checkpoint"]["model"], bad)  # the state dict without FastPoseGait's wrapper
    with pytest.raises(CheckpointError, match=r"plain\.pth: not a FastPoseGait GaitTR checkpoint"):
        gaittr.load_checkpoint(bad)
    (tmp_path / "junk.pt").write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match=r"junk\.pt: (truncated, or )?not a readable PyTorch checkpoint"):
        gaittr.load_checkpoint(tmp_path / "junk.pt")
    broken = {**fixture["checkpoint"], "model": dict(fixture["checkpoint"]["model"])}
    broken["model"]["fcn.weight"] = broken["model"]["fcn.weight"][:64]
    with pytest.raises(CheckpointError, match="fcn.bias: expects"):
        gaittr.load_checkpoint(broken)


def test_bad_sequences_raise_one_line_errors(loaded):
    good = np.zeros((5, 17, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"sequence 1: expected shape \(T, 17, 3\)"):
        gaittr.embed(loaded, [good, np.zeros((5, 18, 3))])
    with pytest.raises(ValueError, match="sequence 0: has no frames"):
        gaittr.embed(loaded, [np.zeros((0, 17, 3))])
    with pytest.raises(ValueError, match="sequence 0: contains NaN"):
        gaittr.embed(loaded, [np.full((4, 17, 3), np.nan)])
    assert gaittr.embed(loaded, [good[:1]]).shape == (1, 128, 1)  # a single frame works (velocities 0)
