"""Parity with the original GaitGraph2: the shared reference fixture (CASIA-B), the OUMVLP-Pose fixture with
several missing joints per frame (tests/fixtures), and an original-format
OUMVLP-Pose checkpoint (resgcn-n51-r4, 18 joints, length 30) written and read back."""


from pathlib import Path

import numpy as np
import pytest
import torch

import gaitgraph
from conftest import shared_file
from gaitgraph.checkpoints import ModelSpec, load_model, save_checkpoint
from gaitgraph.skeleton import OPENPOSE18
from gaitgraph.transforms.features import build_input
from gaitgraph.transforms.sequence import fill_missing_joints, to_length
from reference_weights import synthetic_weights

FIXTURE = "fixtures/gaitgraph2_reference_casia-b_n21-r8.pt"
OUMVLP_KEYS = "reference/checkpoint_keys_gaitgraph2_oumvlp_resgcn-n51-r4_openpose18.txt"


def rel_err(a, b):
    """Largest per-sequence relative L2 error."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return (np.linalg.norm(a - b, axis=1) / np.linalg.norm(b, axis=1)).max()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    ref = torch.load(shared_file(FIXTURE), weights_only=True)
    path = tmp_path_factory.mktemp("ckpt") / "gaitgraph2_casia-b.ckpt"
    torch.save(ref["checkpoint"], path)  # the original Lightning checkpoint, as a file
    return ref, path


@pytest.mark.parametrize("tta, key, dim", [(False, "embedding", 128), (True, "embedding_tta", 384)])
def test_reference_fixture_embeddings(reference, tta, key, dim):
    ref, path = reference
    emb = gaitgraph.embed(path, ref["raw_sequences"], tta=tta)
    assert emb.shape == (7, dim) and emb.dtype == np.float32
    assert rel_err(emb, ref[key]) < 1e-4


def test_reference_fixture_spec(reference):
    spec = load_model(reference[1]).spec
    assert (spec.backbone, spec.skeleton, spec.num_branches, spec.in_channels, spec.sequence_length) == (
        "resgcn-n21-r8", "coco17", 3, 5, 60,
    )
    assert spec.source_format == "gaitgraph2" and not spec.l2_normalize


def _key_file():
    rows = [line.split("\t") for line in shared_file(OUMVLP_KEYS).read_text().splitlines() if line and not line.startswith("#")]
    return {key: shape for key, shape, _ in rows}


def test_oumvlp_original_format_round_trip(tmp_path):
    spec = ModelSpec(backbone="resgcn-n51-r4", skeleton="openpose18", sequence_length=30)
    torch.manual_seed(1)
    model = spec.create_model()
    with torch.no_grad():  # non-trivial weights and BN statistics, as in the CASIA-B fixture
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.normal_(0, 0.1)
            elif name.endswith("running_var"):
                b.uniform_(0.5, 1.5)
    model.eval()
    path = save_checkpoint(tmp_path / "gaitgraph2_oumvlp.ckpt", model, spec, format="gaitgraph2")

    saved = torch.load(path, weights_only=True)
    expected = _key_file()
    assert set(saved["state_dict"]) == set(expected)
    assert {k: str(tuple(v.shape)) for k, v in saved["state_dict"].items()} == expected
    assert saved["hyper_parameters"]["backend_name"] == "resgcn-n51-r4"
    assert "skeleton" not in saved["hyper_parameters"]  # an original checkpoint has none of our keys

    g = np.random.default_rng(0)
    sequences = []
    for t in (3, 18, 30, 31, 77):
        seq = (g.uniform(50, 250, size=(t, 18, 3)) * [1, 1, 1 / 250]).astype(np.float32)
        seq[g.random((t, 18)) < 0.1] = 0  # missing joints, filled by the OUMVLP test pipeline
        sequences.append(seq)
    loaded = load_model(path)
    assert loaded.spec.source_format == "gaitgraph2" and loaded.spec.sequence_length == 30

    # directly: NormalizeEmpty -> pad -> centre crop -> MultiInput -> model, one sequence at a time
    def direct(seqs):
        with torch.no_grad():
            return torch.cat([model(build_input(torch.from_numpy(s)[None], "openpose18")) for s in seqs]).numpy()

    x = [to_length(fill_missing_joints(s), 30) for s in sequences]
    plain = direct(x)
    tta = np.concatenate([plain, direct([s[::-1].copy() for s in x]), direct([s[:, list(OPENPOSE18.flip_idx)] for s in x])], 1)
    assert rel_err(gaitgraph.embed(path, sequences, tta=False), plain) < 1e-5
    assert rel_err(gaitgraph.embed(loaded, sequences, tta=True, batch_size=2), tta) < 1e-5


# made by running the original GaitGraph2 OUMVLP-Pose test pipeline (tests/fixtures/README.md)
OUMVLP_FIXTURE = Path(__file__).parent / "fixtures" / "gaitgraph2_oumvlp_n51-r4_missing_joints.npz"


@pytest.fixture(scope="module")
def oumvlp_reference(tmp_path_factory):
    """The fixture's sequences and the original-format checkpoint whose weights made its embeddings."""
    ref = np.load(OUMVLP_FIXTURE)
    spec = ModelSpec(backbone="resgcn-n51-r4", skeleton="openpose18", sequence_length=30)
    model = spec.create_model()
    state = model.state_dict()
    weights = synthetic_weights({k: tuple(v.shape) for k, v in state.items()}, seed=int(ref["weights_seed"]))
    assert sum(float(np.abs(v).sum()) for v in weights.values()) == pytest.approx(float(ref["weights_checksum"]), rel=1e-6)
    state.update({k: torch.from_numpy(v) for k, v in weights.items()})
    model.load_state_dict(state)
    path = save_checkpoint(tmp_path_factory.mktemp("ckpt") / "gaitgraph2_oumvlp.ckpt", model, spec, format="gaitgraph2")
    sequences = np.split(ref["poses"], np.cumsum(ref["lengths"])[:-1])
    return ref, path, sequences


def test_oumvlp_fixture_has_several_missing_joints_per_frame(oumvlp_reference):
    _, _, sequences = oumvlp_reference
    missing = np.concatenate([(s[..., 0] == 0).sum(1) for s in sequences])
    assert (missing >= 2).mean() > 0.5 and missing.max() == 18 and len(sequences) == 7


@pytest.mark.parametrize("tta, key, dim", [(False, "embedding", 128), (True, "embedding_tta", 384)])
def test_oumvlp_embeddings_equal_the_original_test_pipeline(oumvlp_reference, tta, key, dim):
    # NormalizeEmpty (one joint at a time) -> pad -> centre crop -> MultiInput -> n51-r4, TTA as test_step
    ref, path, sequences = oumvlp_reference
    emb = gaitgraph.embed(path, sequences, tta=tta, batch_size=3)
    assert emb.shape == (7, dim)
    assert rel_err(emb, ref[key]) < 1e-4
