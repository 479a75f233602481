"""Model registry, ResGCN structure (parameter counts, state-dict names), graph partitions, ST-GCN,
and the peers' networks (GaitTR, GaitMixer): every registered model on a tiny batch, names/shapes/counts."""


import pytest
import torch

from conftest import shared_file
from gaitgraph.models import create_model, list_models, model_defaults
from gaitgraph.models.graph import distance_partitions
from gaitgraph.models.resgcn import GraphConv

n_params = lambda m: sum(p.numel() for p in m.parameters() if p.requires_grad)  # noqa: E731
GRAPH_MODELS = [n for n in list_models() if n.startswith(("resgcn-", "stgcn"))]  # any branches x channels, stride 4


# networks whose input is fixed by their design: tiny arguments, input shape, embedding shape
FIXED_INPUT = {
    "gpgait": (dict(channels=(2, 8, 8, 16), share_num=2, embedding_dim=16, num_classes=5), (2, 6, 8, 17), (2, 16, 19)),
}


@pytest.mark.parametrize("name", [n for n in list_models() if n not in FIXED_INPUT])
def test_every_model_embeds_a_tiny_batch(name):
    """The shared interface: (N, I, C, T, V) -> (N, D); forward_features -> a per-joint map (N, F, T', V)."""
    torch.manual_seed(0)
    graph = name in GRAPH_MODELS
    d = model_defaults(name)
    branches, channels = (2, 3) if graph else (d["num_branches"], d["in_channels"])  # graph models take any
    model = create_model(name, skeleton="openpose18", num_branches=branches, in_channels=channels, embedding_dim=16).eval()
    frames = getattr(model, "num_frames", 8)  # GaitMixer takes a fixed number of frames
    x = torch.randn(2, branches, channels, frames, 18)
    with torch.no_grad():
        feats, emb = model.forward_features(x), model(x)
    assert feats.dim() == 4 and feats.shape[:2] == (2, model.num_features) and feats.shape[3] == 18
    assert emb.shape == (2, 16) and torch.isfinite(emb).all()
    assert (emb[0] - emb[1]).abs().max() > 0  # the two samples give different embeddings
    if graph:
        assert feats.shape == (2, 256, 2, 18)  # total temporal stride 4
        assert model.fcn.in_features == 256 and model.fcn.out_features == 16


@pytest.mark.parametrize("name", sorted(FIXED_INPUT))
def test_every_fixed_input_model_embeds_a_tiny_batch_and_rejects_other_inputs(name):
    assert set(FIXED_INPUT) <= set(list_models())
    kwargs, in_shape, out_shape = FIXED_INPUT[name]
    torch.manual_seed(0)
    model = create_model(name, **kwargs).eval()
    x = torch.randn(in_shape)
    with torch.no_grad():
        emb = model(x)
        assert model.forward_features(x).shape[0] == in_shape[0]
    assert emb.shape == out_shape and torch.isfinite(emb).all()
    for misfit in (dict(skeleton="openpose18"), dict(num_branches=2), dict(in_channels=3)):
        with pytest.raises(ValueError, match=name):
            create_model(name, **kwargs, **misfit)


@pytest.mark.parametrize(
    "name, skeleton, branches, channels, expected",
    [
        ("resgcn-n21-r8", "coco17", 3, 5, 350_822),  # GaitGraph2 CASIA-B (fixed multi-branch config)
        ("resgcn-n51-r4", "openpose18", 3, 5, 765_278),  # GaitGraph2 OUMVLP-Pose
        ("resgcn-n51-r4", "openpose18", 1, 3, 645_638),  # OUMVLP ablation, single branch
        ("resgcn-n39-r8", "coco17", 1, 3, 319_530),  # GaitGraph v1
        ("resgcn-n21-r8", "coco17", 1, 15, 255_782),  # GaitGraph2's broken single-branch default
        ("gpgait", "coco17", 3, 2, 3_654_810),  # FastPoseGait GPGait, CASIA-B config
    ],
)
def test_parameter_counts_match_the_original(name, skeleton, branches, channels, expected):
    model = create_model(name, skeleton=skeleton, num_branches=branches, in_channels=channels)
    assert n_params(model) == expected


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(ValueError, match="resgcn-n21-r8"):
        create_model("resgcn-n22-r8")
    with pytest.raises(ValueError, match="gaitmixer"):
        model_defaults("gait-mixer")


@pytest.mark.parametrize(
    "name, skeleton, expected",
    [("gaittr", "coco17", 512_010), ("gaitmixer", "coco17", 166_304)],  # FastPoseGait / exitudio CASIA-B settings
)
def test_peer_parameter_counts_match_the_references(name, skeleton, expected):
    assert n_params(create_model(name, skeleton=skeleton)) == expected


@pytest.mark.parametrize(
    "name, bad, message",
    [
        ("gaittr", dict(num_branches=3), "num_branches=3"),
        ("gaittr", dict(channels=(60, 64)), "divisible by num_heads"),
        ("gaitmixer", dict(num_branches=2), "num_branches=2"),
        ("gaitmixer", dict(num_frames=20), "num_frames >= kernel_frames"),
        ("gaitmixer", dict(spatial_dim=30), "divisible by num_heads"),
    ],
)
def test_peer_networks_reject_arguments_that_do_not_fit(name, bad, message):
    with pytest.raises(ValueError, match=message):
        create_model(name, **bad)


def test_defaults_are_per_model_and_keep_the_resgcn_ones():
    assert model_defaults("resgcn-n21-r8") == dict(skeleton="coco17", num_branches=3, in_channels=5, embedding_dim=128)
    assert model_defaults("gaittr")["in_channels"] == 10 and model_defaults("gaitmixer")["in_channels"] == 2
    assert create_model("resgcn-n21-r8").num_branches == 3  # the registry-wide defaults still hold


def test_peer_networks_check_their_input():
    with pytest.raises(ValueError, match=r"\(N, 1, 10, T, 17\)"):
        create_model("gaittr")(torch.randn(2, 1, 3, 8, 17))
    with pytest.raises(ValueError, match="exactly 60 frames"):
        create_model("gaitmixer")(torch.randn(2, 1, 2, 61, 17))


def _key_file(name):
    path = shared_file(f"reference/{name}")
    rows = [line.split("\t") for line in path.read_text().splitlines() if line and not line.startswith("#")]
    prefix = "backbone." if "gaitgraph2" in name else ""  # GaitGraph2's LightningModule wraps the network
    return {k.removeprefix(prefix): tuple(int(d) for d in shape.strip("(),").split(",") if d.strip()) for k, shape, _ in rows}


@pytest.mark.parametrize(
    "name, skeleton, key_file",
    [
        ("resgcn-n21-r8", "coco17", "checkpoint_keys_gaitgraph2_casia-b_resgcn-n21-r8_coco17.txt"),
        ("resgcn-n51-r4", "openpose18", "checkpoint_keys_gaitgraph2_oumvlp_resgcn-n51-r4_openpose18.txt"),
        ("gaittr", "coco17", "checkpoint_keys_gaittr_casia-b.txt"),  # FastPoseGait checkpoint['model']
        ("gaitmixer", "coco17", "checkpoint_keys_gaitmixer_casia-b.txt"),  # exitudio plain state dict
        ("gpgait", "coco17", "checkpoint_keys_gpgait_casia-b.txt"),
    ],
)
def test_state_dict_names_and_shapes_equal_the_original(name, skeleton, key_file):
    expected = _key_file(key_file)
    state = create_model(name, skeleton=skeleton).state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == expected


def test_distance_partitions():
    A = distance_partitions("coco17")
    assert A.shape == (4, 17, 17)
    # columns of the summed partitions are normalised: every joint spreads a total of 1
    torch.testing.assert_close(A.sum(dim=(0, 1)), torch.ones(17))
    assert A[0, 0, 0] == pytest.approx(1 / 7)  # nose reaches 7 joints within 3 hops
    assert A[1, 5, 6] > 0 and A[1, 5, 12] == 0  # shoulder-shoulder 1 hop, shoulder-hip 2
    assert distance_partitions("openpose18").shape == (4, 18, 18)


def test_init_follows_the_original():
    model = create_model("resgcn-n21-r8")
    assert torch.equal(model.main_stream[0].edge, torch.ones(4, 17, 17))
    assert torch.equal(model.main_stream[0].scn.bn_up.weight, torch.zeros(128))
    assert torch.equal(model.main_stream[0].scn.bn.weight, torch.ones(16))
    assert model.fcn.weight.std() < 0.01 and torch.equal(model.fcn.bias, torch.zeros(128))


def _plain_stgcn_layers(in_channels: int, partitions: int, embedding_dim: int = 128) -> dict:
    """The original ST-GCN's trainable layers as plain torch modules, built in its order (data BN; per layer
    graph 1x1 conv to C_out * K, temporal BN / 9x1 conv / BN, residual 1x1 conv + BN where needed; the
    embedding Linear), named as our STGCN names them."""
    from torch import nn

    layers = {}
    c_in = in_channels
    for i, (c_out, stride) in enumerate(((64, 1),) * 4 + ((128, 2), (128, 1), (128, 1), (256, 2), (256, 1), (256, 1))):
        layers[f"layers.{i}.gcn.gcn"] = nn.Conv2d(c_in, c_out * partitions, 1)
        layers[f"layers.{i}.tcn.0"] = nn.BatchNorm2d(c_out)
        layers[f"layers.{i}.tcn.2"] = nn.Conv2d(c_out, c_out, (9, 1), (stride, 1), (4, 0))
        layers[f"layers.{i}.tcn.3"] = nn.BatchNorm2d(c_out)
        if i > 0 and (c_in != c_out or stride != 1):
            layers[f"layers.{i}.residual.0"] = nn.Conv2d(c_in, c_out, 1, (stride, 1))
            layers[f"layers.{i}.residual.1"] = nn.BatchNorm2d(c_out)
        c_in = c_out
    layers["fcn"] = nn.Linear(256, embedding_dim)
    return layers


@pytest.mark.parametrize("seed", [0, 5318008])
def test_stgcn_starts_from_pytorch_default_init_as_the_original(seed):
    # the original models/st_gcn sets no initialisation: same seed -> the same weights as the plain layers
    torch.manual_seed(seed)
    model = create_model("stgcn", skeleton="openpose18", num_branches=1, in_channels=3)
    torch.manual_seed(seed)
    plain = _plain_stgcn_layers(3, 4)
    state = model.state_dict()
    for name, layer in plain.items():
        for key, value in layer.state_dict().items():
            assert torch.equal(state[f"{name}.{key}"], value), f"{name}.{key}"
    assert all(torch.equal(e, torch.ones(4, 18, 18)) for e in model.edge_importance)
    assert torch.equal(model.data_bn.weight, torch.ones(54)) and torch.equal(model.data_bn.bias, torch.zeros(54))
    # PyTorch's default: kaiming_uniform(a=sqrt(5)) = U(+-1/sqrt(fan_in)); the old scheme had N(0, 0.001)
    bound = 1 / 256 ** 0.5
    assert model.fcn.weight.abs().max() <= bound and model.fcn.weight.std() > 0.5 * bound / 3 ** 0.5


def test_stgcn_kaiming_init_is_a_named_option():
    torch.manual_seed(0)
    model = create_model("stgcn", skeleton="openpose18", num_branches=1, in_channels=3, init="kaiming")
    assert model.fcn.weight.std() < 0.002 and torch.equal(model.fcn.bias, torch.zeros(128))
    conv = model.layers[1].tcn[2]
    assert torch.equal(conv.bias, torch.zeros(64)) and abs(conv.weight.std() / (2 / (64 * 9)) ** 0.5 - 1) < 0.1
    with pytest.raises(ValueError, match="unknown ST-GCN initialisation"):
        create_model("stgcn", init="xavier")
    from gaitgraph.training import GaitGraph2  # --model.stgcn_init; default: the original's

    assert GaitGraph2(backend_name="stgcn", multi_input=False, stgcn_init="kaiming").backbone.fcn.weight.std() < 0.002
    assert GaitGraph2(backend_name="stgcn", multi_input=False).backbone.fcn.weight.std() > 0.02


def test_graph_conv_equals_the_original_einsum_formulation():
    torch.manual_seed(0)
    conv = GraphConv(6, 10)
    A = distance_partitions("coco17") * (1 + 0.1 * torch.randn(4, 17, 17))
    x = torch.randn(3, 6, 5, 17, requires_grad=True)
    ours = conv(x, A)
    y = conv.gcn(x).view(3, 3, 10, 5, 17)  # the original: 1x1 conv, then contract (K, V) with A
    original = torch.einsum("nkctv,kvw->nctw", y, A[:3])
    torch.testing.assert_close(ours, original, rtol=1e-5, atol=1e-5)
    g_ours = torch.autograd.grad(ours.square().sum(), [x, conv.gcn.weight, conv.gcn.bias])
    g_orig = torch.autograd.grad(original.square().sum(), [x, conv.gcn.weight, conv.gcn.bias])
    for a, b in zip(g_ours, g_orig):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_l2_normalize_option_and_input_check():
    model = create_model("resgcn-n39-r8", num_branches=1, in_channels=3, l2_normalize=True).eval()
    with torch.no_grad():
        emb = model(torch.randn(2, 1, 3, 8, 17))
    torch.testing.assert_close(emb.norm(dim=1), torch.ones(2))
    with pytest.raises(ValueError, match=r"\(N, 1, 3, T, V\)"):
        model(torch.randn(2, 3, 5, 8, 17))
