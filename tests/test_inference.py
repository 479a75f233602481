"""embed / embed_batch: shapes, batching, TTA layout and input validation."""

import numpy as np
import pytest
import torch

import gaitgraph
from gaitgraph.checkpoints import LoadedModel, ModelSpec
from gaitgraph.inference import embed_batch, model_input, prepare_sequences
from gaitgraph.skeleton import COCO17


@pytest.fixture(scope="module")
def loaded():
    spec = ModelSpec(backbone="resgcn-n21-r8", skeleton="coco17", sequence_length=12, embedding_dim=8)
    torch.manual_seed(0)
    return LoadedModel(spec.create_model().eval(), spec)


def sequences(lengths, joints=17, seed=0):
    g = np.random.default_rng(seed)
    return [(g.uniform(0, 200, size=(t, joints, 3)) * [1, 1, 0.005]).astype(np.float32) for t in lengths]


def test_shapes_and_batch_size_invariance(loaded):
    seqs = sequences([1, 5, 12, 13, 40])
    a = gaitgraph.embed(loaded, seqs, tta=True, batch_size=2)
    b = gaitgraph.embed(loaded, [torch.from_numpy(s) for s in seqs], tta=True, batch_size=64)
    assert a.shape == (5, 24) and a.dtype == np.float32
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    no_tta = gaitgraph.embed(loaded, seqs, tta=False)
    assert no_tta.shape == (5, 8)
    np.testing.assert_allclose(a[:, :8], no_tta, rtol=1e-5, atol=1e-6)  # first third = plain embedding
    assert gaitgraph.embed(loaded, [], tta=True).shape == (0, 24)


def test_tta_variants_are_reversed_and_label_swapped(loaded):
    x = prepare_sequences(sequences([12, 30]), loaded.spec)  # (2, 12, 17, 3)
    with torch.no_grad():
        out = embed_batch(loaded.model, loaded.spec, x, tta=True)
        one = lambda v: loaded.model(model_input(loaded.spec, v))  # noqa: E731
        expected = torch.cat([one(x), one(x.flip(1)), one(x[:, :, list(COCO17.flip_idx)])], dim=1)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((0, 17, 3), np.float32), "sequence 1: has no frames"),
        (np.full((4, 17, 3), np.nan, np.float32), "sequence 1: contains NaN or inf"),
        (np.full((4, 17, 3), np.inf, np.float32), "sequence 1: contains NaN or inf"),
        (np.zeros((4, 18, 3), np.float32), r"sequence 1: expected shape \(T, 17, 3\)"),
    ],
)
def test_bad_sequences_are_named(loaded, bad, message):
    with pytest.raises(ValueError, match=message):
        gaitgraph.embed(loaded, [sequences([5])[0], bad])


def test_single_branch_15_channel_checkpoints_get_concatenated_features():
    spec = ModelSpec(backbone="resgcn-n21-r8", skeleton="coco17", num_branches=1, in_channels=15, sequence_length=8)
    x = torch.rand(2, 8, 17, 3)
    inp = model_input(spec, x)
    assert inp.shape == (2, 1, 15, 8, 17)
    torch.testing.assert_close(inp[:, 0, 5:10], model_input(ModelSpec("resgcn-n21-r8", "coco17"), x)[:, 1])


def test_tta_auto_is_the_methods_default_and_recorded_as_applied(tiny_dataset, untrained_coco17_checkpoint, tmp_path):
    """``gaitgraph evaluate --tta auto`` (tta=None) applies the method's default (GaitGraph2: on), embeds exactly
    as ``--tta on`` and records ``tta: true``; ``--tta off`` records false; a method with a fixed protocol has
    no switch (None) and refuses an explicit one."""
    import json

    from gaitgraph.cli.main import main as cli_main
    from gaitgraph.evaluation.embed import Embedder, load_embedder
    from gaitgraph.evaluation.evaluate_checkpoint import embed_split

    common = ["evaluate", "--checkpoint", str(untrained_coco17_checkpoint), "--data", str(tiny_dataset), "--quiet"]
    records = {}
    for choice in ("auto", "on", "off"):
        out = tmp_path / f"{choice}.json"
        assert cli_main([*common, "--tta", choice, "--output", str(out)]) == 0
        records[choice] = json.loads(out.read_text())
    assert (records["auto"]["tta"], records["on"]["tta"], records["off"]["tta"]) == (True, True, False)
    assert records["auto"]["conventions"] == records["on"]["conventions"]

    auto, on, off = (embed_split(untrained_coco17_checkpoint, tiny_dataset, tta=t, progress=False)
                     for t in (None, True, False))
    assert (auto.tta, on.tta, off.tta) == (True, True, False)
    np.testing.assert_array_equal(auto.embeddings, on.embeddings)
    assert auto.embeddings.shape != off.embeddings.shape  # TTA concatenates the flipped/reversed embeddings

    embedder = load_embedder(untrained_coco17_checkpoint)
    assert (embedder.resolve_tta(None), embedder.resolve_tta(False)) == (True, False)
    from gaitgraph.methods import get_method

    fixed = Embedder(method=get_method("gaittr"), model=None, ckpt=None, source="(none)")
    assert fixed.resolve_tta(None) is None and fixed.resolve_tta(True) is None
    with pytest.raises(ValueError, match="no switchable test-time augmentation"):
        fixed.embed(sequences([30]), tta=True)
