"""GPGait against FastPoseGait's own outputs: the network, the test pipeline from raw poses, the checkpoint.

The fixture (``tests/fixtures/gpgait_fastposegait_casia-b.pt.xz``, made by running the reference; its README
says how) holds a FastPoseGait checkpoint of the CASIA-B configuration, three raw sequences (T = 23, 41, 58;
tilted; missing joints and a frame without detection), the reference's network inputs and embeddings with
the CASIA-B test transform (no Affine) and with the Affine one of the GREW/Gait3D/CCPG configs, and the
embeddings of the reference's batched forward (sequences concatenated in time).
"""

from __future__ import annotations

import datetime
import io
import lzma
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from gaitgraph.checkpoints import CheckpointError
from gaitgraph.methods import gpgait
from gaitgraph.models import create_model
from gaitgraph.recipes import recipe_path
from gaitgraph.transforms.hod import gpgait_input

FIXTURE = Path(__file__).parent / "fixtures" / "gpgait_fastposegait_casia-b.pt.xz"
RTOL = 1e-4  # relative error allowed on embeddings (float32 rounding of a different summation order)
VARIANTS = {"casia_b": None, "affine": "reference"}


def rel(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


@pytest.fixture(scope="module")
def fx():
    return torch.load(io.BytesIO(lzma.decompress(FIXTURE.read_bytes())), weights_only=True)


@pytest.fixture(scope="module")
def ckpt_path(fx, tmp_path_factory):
    path = tmp_path_factory.mktemp("gpgait") / "gpgait-00000.pt"
    torch.save(fx["checkpoint"], path)  # the dict the reference's save_ckpt wrote, as a file again
    return path


@pytest.fixture(scope="module")
def loaded(ckpt_path):
    return gpgait.load_checkpoint(ckpt_path)


def test_reference_checkpoint_is_recognised_and_loads_every_tensor(fx, ckpt_path, loaded):
    ckpt = fx["checkpoint"]
    assert set(ckpt) == {"model", "optimizer", "scheduler", "iteration"} and gpgait.is_checkpoint(ckpt)
    assert loaded.dataset == "casia-b" and loaded.affine is None and loaded.iteration == 0
    assert loaded.source == str(ckpt_path) and not loaded.model.training
    assert loaded.network == dict(channels=(2, 64, 64, 128, 256), share_num=3, embedding_dim=256, num_classes=74)
    assert sum(p.numel() for p in loaded.model.parameters()) == fx["param_count"] == 3_654_810
    ours = loaded.model.state_dict()
    assert set(ours) == set(ckpt["model"]) and all(torch.equal(ours[k], v) for k, v in ckpt["model"].items())


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_network_on_the_reference_inputs(fx, loaded, variant):
    ref = fx[variant]
    with torch.no_grad():
        for i, x in enumerate(ref["network_input"]):  # (6, T, 17, 1): the reference's own layout
            out = loaded.model(x[None])
            assert out.shape == (1, 256, 19)
            assert rel(out[0], ref["output"][i]) < RTOL, (variant, i)
    # the check is sharp: the three sequences' embeddings are far apart, and so are the two transforms
    assert min(rel(ref["output"][i], ref["output"][j]) for i in range(3) for j in range(i)) > 0.1
    assert rel(fx["affine"]["output"], fx["casia_b"]["output"]) > 0.1


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_pipeline_from_raw_sequences(fx, loaded, variant):
    ref, affine = fx[variant], VARIANTS[variant]
    for raw, x in zip(fx["raw_sequences"], ref["network_input"]):
        ours = gpgait_input(raw, affine)
        # positions and bones to float32 rounding; angles too except where a last-bit difference of the
        # platform's arccos meets a straight angle (none on the machine that made the fixture: all equal)
        torch.testing.assert_close(ours[:4], x[:4, ..., 0], rtol=1e-5, atol=1e-4)
        torch.testing.assert_close(ours, x[..., 0], rtol=0, atol=3e-3)
    selected = gpgait.load_checkpoint(fx["checkpoint"], affine=affine)
    emb = gpgait.embed(selected, fx["raw_sequences"])
    assert emb.shape == (3, 256, 19) and emb.dtype == np.float32
    assert rel(emb, ref["output"]) < RTOL
    for i in range(3):
        assert rel(emb[i], ref["output"][i]) < RTOL


def test_batching_follows_the_reference_per_sequence_and_concatenated(fx, loaded):
    raw, ref = fx["raw_sequences"], fx["casia_b"]
    one = gpgait.embed(loaded, raw, batch_size=1)
    many = gpgait.embed(loaded, list(raw) * 3, batch_size=64)  # equal lengths stacked, never concatenated
    np.testing.assert_allclose(many, np.concatenate([one] * 3), rtol=1e-5, atol=1e-6)
    cat = gpgait.embed(loaded, raw, batch_size=3, concatenate=True)
    assert rel(cat, ref["output_concatenated"]) < RTOL
    assert rel(cat, ref["output"]) > 0.1  # concatenated in time, the sequences change each other's embedding


def test_concatenated_groups_are_filled_up_like_the_reference_sampler(loaded):
    g = np.random.default_rng(0)
    seqs = [g.uniform(50, 250, size=(t, 17, 3)).astype(np.float32) for t in (9, 12, 7)]
    last = gpgait.embed(loaded, seqs, batch_size=2, concatenate=True)[2]
    # the sampler repeats the first sequences to fill the last group: [2, 0] run together
    alone_with_first = gpgait.embed(loaded, [seqs[2], seqs[0]], batch_size=2, concatenate=True)[0]
    np.testing.assert_allclose(last, alone_with_first, rtol=1e-5, atol=1e-6)


def test_every_pa_is_its_own_parameter_and_tying_them_changes_the_embedding(fx, loaded):
    pas = {n: p for n, p in loaded.model.named_parameters() if n.endswith(".PA")}
    assert len(pas) == 19 and len({p.data_ptr() for p in pas.values()}) == 19
    assert all(torch.equal(p, fx["checkpoint"]["model"][n]) for n, p in pas.items())
    assert len({float(p.detach().sum()) for p in pas.values()}) == 19  # distinct, as trained on a GPU
    # the reference's CPU-only load ties them: every PA of a branch becomes the branch's last one
    tied = create_model("gpgait").eval()
    state = dict(fx["checkpoint"]["model"])
    for branch, last in (("pose", "part_3_1.0"), ("bone", "part_3_1.0"), ("angle", "part_2.0")):
        assert fx["cpu_load_pa_tie"][branch]["all_equal_to"] == f"{branch}.{last}.asg.PA"
        for name in pas:
            if name.startswith(branch + "."):
                state[name] = state[f"{branch}.{last}.asg.PA"]
    tied.load_state_dict(state)
    x = fx["casia_b"]["network_input"][1][None]
    with torch.no_grad():
        assert rel(tied(x), fx["casia_b"]["output"][1][None]) > 1e-3


def test_dataset_and_affine_choice(fx):
    ckpt = fx["checkpoint"]
    assert gpgait.load_checkpoint(ckpt, dataset="grew").affine == "reference"
    assert gpgait.load_checkpoint(ckpt, dataset="oumvlp").affine is None
    assert gpgait.load_checkpoint(ckpt, affine="corrected").affine == "corrected"
    with pytest.raises(ValueError, match="unknown dataset 'casia'"):
        gpgait.load_checkpoint(ckpt, dataset="casia")
    with pytest.raises(ValueError, match="affine must be"):
        gpgait.load_checkpoint(ckpt, affine="yes")


def test_other_layouts_load_from_their_shapes(tmp_path):
    args = dict(channels=(2, 8, 8, 16, 16), share_num=2, embedding_dim=32, num_classes=3000)
    model = create_model("gpgait", **args)
    path = tmp_path / "gait3d.pt"
    torch.save({"model": model.state_dict(), "optimizer": {}, "scheduler": {}, "iteration": 60000}, path)
    loaded = gpgait.load_checkpoint(path)
    assert loaded.network == args and loaded.dataset == "gait3d" and loaded.affine == "reference"
    assert loaded.iteration == 60000
    emb = gpgait.embed(loaded, [np.random.default_rng(0).uniform(0, 200, size=(11, 17, 3))])
    assert emb.shape == (1, 32, 19) and np.isfinite(emb).all()
    args["num_classes"] = 7
    torch.save({"model": create_model("gpgait", **args).state_dict()}, path)
    assert gpgait.load_checkpoint(path).dataset is None and gpgait.load_checkpoint(path).affine is None


def test_files_that_are_not_gpgait_checkpoints(fx, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(CheckpointError, match=r"notes\.txt: (truncated, or )?not a readable PyTorch checkpoint"):
        gpgait.load_checkpoint(text)
    unsafe = tmp_path / "unsafe.pt"
    torch.save({"model": {}, "when": datetime.date(2023, 10, 1)}, unsafe)
    with pytest.raises(CheckpointError, match="unsafe.pt: not a readable"):
        gpgait.load_checkpoint(unsafe)
    other = tmp_path / "gaitgraph2.ckpt"
    torch.save({"state_dict": {"backbone.fcn.weight": torch.zeros(2, 2)}}, other)
    assert not gpgait.is_checkpoint(torch.load(other, weights_only=True))
    with pytest.raises(CheckpointError, match="gaitgraph2.ckpt: not a FastPoseGait GPGait checkpoint"):
        gpgait.load_checkpoint(other)
    broken = dict(fx["checkpoint"]["model"])
    del broken["pose.part_2.0.asg.conv_a.1.weight"]
    with pytest.raises(CheckpointError, match=r"<checkpoint dict>: weights do not match gpgait \(1 missing"):
        gpgait.load_checkpoint({"model": broken})
    assert not gpgait.is_checkpoint({"model": {"head.fc_bin": torch.zeros(8, 4, 4)}}) and not gpgait.is_checkpoint([])


def test_sequences_are_checked_one_line_naming_the_sequence(loaded):
    good = np.zeros((5, 17, 3), np.float32) + np.arange(17)[None, :, None]
    with pytest.raises(ValueError, match=r"^sequence 1: expected shape \(T, 17, 3\) for coco17, got \(5, 18, 3\)$"):
        gpgait.embed(loaded, [good, np.zeros((5, 18, 3))])
    bad = good.copy()
    bad[2, 3, 0] = np.nan
    with pytest.raises(ValueError, match="^sequence 0: contains NaN or inf$"):
        gpgait.embed(loaded, [bad])
    with pytest.raises(ValueError, match="^sequence 0: has no frames"):
        gpgait.embed(loaded, [np.zeros((0, 17, 3))])
    with pytest.raises(ValueError, match="batch_size"):
        gpgait.embed(loaded, [good], batch_size=0)
    assert gpgait.embed(loaded, []).shape == (0, 256, 19)


@pytest.mark.parametrize("name", ["casia-b", "oumvlp-pose"])
def test_recipes_agree_with_the_test_side_configs(name):
    """The packaged recipe (gaitgraph/recipes/gpgait/, tests/test_method_recipes.py) and the test side's
    DATASET_CONFIGS name the same class count and Affine step."""
    cfg = yaml.safe_load(recipe_path(f"gpgait/{name}").read_text())
    assert cfg["method"] == gpgait.NAME
    reference = "oumvlp" if name == "oumvlp-pose" else name
    assert gpgait.DATASET_CONFIGS[reference]["num_classes"] == cfg["model"]["num_classes"]
    assert bool(gpgait.DATASET_CONFIGS[reference]["affine"]) == (cfg["model"]["affine"] is not None)
