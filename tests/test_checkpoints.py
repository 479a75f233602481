"""Checkpoint loading: our format, original GaitGraph2 and v1 layouts, and clear errors for bad files."""

import pickle

import pytest
import torch

from gaitgraph.checkpoints import CheckpointError, ModelSpec, checkpoint_dict, load_model, save_checkpoint
from gaitgraph.models import create_model


def small_spec(**kw):
    kw = dict(backbone="resgcn-n21-r8", skeleton="coco17", sequence_length=20) | kw
    return ModelSpec(**kw)


def perturbed(spec):
    torch.manual_seed(0)
    model = spec.create_model()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model.eval()


def same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_our_format_round_trip(tmp_path):
    spec = small_spec(features="corrected", sequence_length=40)
    model = perturbed(spec)
    path = save_checkpoint(tmp_path / "model.ckpt", model, spec, extra_hparams={"learning_rate": 0.01})
    raw = torch.load(path, weights_only=True)
    assert all(k.startswith("backbone.") for k in raw["state_dict"]) and "pytorch-lightning_version" in raw
    assert raw["hyper_parameters"]["backend_name"] == "resgcn-n21-r8"
    assert raw["hyper_parameters"]["learning_rate"] == 0.01
    loaded = load_model(path)
    assert loaded.spec == spec
    assert same_weights(loaded.model, model) and not loaded.model.training


def test_original_gaitgraph2_format_defaults(tmp_path):
    spec = small_spec(backbone="resgcn-n51-r4", skeleton="openpose18")
    ckpt = checkpoint_dict(perturbed(spec), spec, format="gaitgraph2")
    assert set(ckpt["hyper_parameters"]) == {
        "backend_name", "embedding_layer_size", "multi_input", "multi_branch", "tta", "learning_rate", "loss_temperature",
    }
    loaded = load_model(ckpt)
    assert loaded.spec.source_format == "gaitgraph2"
    assert (loaded.spec.skeleton, loaded.spec.sequence_length, loaded.spec.backbone) == ("openpose18", 30, "resgcn-n51-r4")
    assert load_model(ckpt, sequence_length=50).spec.sequence_length == 50


def test_gaitgraph_v1_format_with_dataparallel_prefix(tmp_path):
    spec = small_spec(backbone="resgcn-n39-r8", num_branches=1, in_channels=3, multi_input=False, l2_normalize=True)
    model = perturbed(spec)
    state = {f"module.{k}": v for k, v in model.state_dict().items()}
    torch.save({"model": state, "epoch": 300}, tmp_path / "g1.pth")
    loaded = load_model(tmp_path / "g1.pth")
    s = loaded.spec
    assert (s.source_format, s.backbone, s.num_branches, s.in_channels, s.multi_input, s.l2_normalize, s.sequence_length) == (
        "gaitgraph1", "resgcn-n39-r8", 1, 3, False, True, 60,
    )
    assert same_weights(loaded.model, model)
    with torch.no_grad():
        emb = loaded.model(torch.randn(2, 1, 3, 8, 17))
    torch.testing.assert_close(emb.norm(dim=1), torch.ones(2))


# ------------------------------------------------------------------------------ bad checkpoints
class Payload:  # any non-tensor object: weights_only loading must refuse to build it
    pass


@pytest.mark.parametrize(
    "content, message",
    [
        (b"this is a text file, not a checkpoint\n", "not a readable PyTorch checkpoint"),
        (bytes(range(256)) * 4, "not a readable PyTorch checkpoint"),
        (pickle.dumps({"state_dict": Payload()}), "not a readable PyTorch checkpoint"),
    ],
    ids=["text", "random-bytes", "pickled-object"],
)
def test_files_that_are_not_checkpoints(tmp_path, content, message):
    path = tmp_path / "bad.ckpt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message) as err:
        load_model(path)
    assert str(path) in str(err.value)


def test_arbitrary_objects_are_never_unpickled(tmp_path):
    path = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {}, "obj": Payload()}, path)
    with pytest.raises(CheckpointError, match="not a readable"):
        load_model(path)


def test_missing_file_and_wrong_containers(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_model(tmp_path / "nope.ckpt")
    torch.save(torch.zeros(3), tmp_path / "tensor.pt")
    with pytest.raises(CheckpointError, match="expected a dict"):
        load_model(tmp_path / "tensor.pt")
    torch.save({"weights": {}}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a GaitGraph checkpoint"):
        load_model(tmp_path / "other.pt")


def test_wrong_skeleton_backbone_and_missing_keys(tmp_path):
    spec = small_spec()
    path = save_checkpoint(tmp_path / "m.ckpt", perturbed(spec), spec)
    with pytest.raises(CheckpointError, match="expects 18 joints, checkpoint has 17"):
        load_model(path, skeleton="openpose18")
    with pytest.raises(CheckpointError, match="requested resgcn-n51-r4, but the weights are a resgcn-n21-r8"):
        load_model(path, backbone="resgcn-n51-r4")
    ckpt = torch.load(path, weights_only=True)
    del ckpt["state_dict"]["backbone.fcn.bias"]
    with pytest.raises(CheckpointError, match="fcn.bias"):
        load_model(ckpt)
    ckpt = torch.load(path, weights_only=True)
    ckpt["hyper_parameters"]["backend_name"] = "resgcn-n39-r8"
    with pytest.raises(CheckpointError, match="hyper_parameters name resgcn-n39-r8"):
        load_model(ckpt)
    ckpt = torch.load(path, weights_only=True)
    ckpt["state_dict"]["backbone.fcn.weight"] = torch.zeros(128, 64)
    with pytest.raises(CheckpointError, match=r"fcn.weight: expects \(128, 256\), checkpoint has \(128, 64\)"):
        load_model(ckpt)


def test_stgcn_round_trip(tmp_path):
    spec = small_spec(backbone="stgcn", num_branches=1, in_channels=3, multi_input=False)
    model = create_model("stgcn", num_branches=1, in_channels=3).eval()
    loaded = load_model(save_checkpoint(tmp_path / "st.ckpt", model, spec))
    assert loaded.spec == spec and same_weights(loaded.model, model)


@pytest.mark.parametrize("skeleton", ["coco17", "openpose18"])
def test_variant_is_recognised_from_the_weights_alone(skeleton):
    from gaitgraph.checkpoints import infer_resgcn_name
    from gaitgraph.models import list_models

    for name in list_models():
        if name.startswith("resgcn-"):
            state = create_model(name, skeleton=skeleton, num_branches=1, in_channels=3).state_dict()
            assert infer_resgcn_name(state) == name
