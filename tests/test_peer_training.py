"""GaitTR, GPGait and GaitMixer trained through `gaitgraph fit` (issue 16): the P x K sampler, the per-part
distance, our checkpoints read by each method's test side, and (slow) a short training beats the untrained network
while `gaitgraph test` writes the record `gaitgraph evaluate` writes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from conftest import make_pose_dataset
from gaitgraph.cli import main as cli_main
from gaitgraph.evaluation.distance import block_hits, columns, prepare
from gaitgraph.evaluation.retrieval import distances
from gaitgraph.methods import get_method, method_of
from gaitgraph.training.pk_sampler import PKSampler

# ---- P x K batches ---------------------------------------------------------------------------------------------


def test_pk_sampler_batches_are_p_identities_times_k_sequences():
    labels = np.repeat([10, 11, 12, 13, 14], [6, 6, 2, 6, 6])  # identity 12 has fewer than K sequences
    sampler = PKSampler(labels, identities=3, per_identity=4, num_batches=40, seed=1)
    batches = list(sampler.global_batches())
    assert len(batches) == 40 and len(sampler) == 40 * 12 and len(list(sampler)) == 40 * 12
    drawn = set()
    for batch in batches:
        ids = labels[batch].reshape(3, 4)
        assert (ids == ids[:, :1]).all() and len(set(ids[:, 0])) == 3  # P distinct identities, K rows each
        for identity, rows in zip(ids[:, 0], batch.reshape(3, 4)):
            drawn.add(identity)
            if identity != 12:
                assert len(set(rows)) == 4  # without replacement when the identity has K or more
            else:
                assert set(rows) <= {12, 13}  # with replacement from its 2 sequences (item numbers 12, 13)
    assert drawn == {10, 11, 12, 13, 14}
    again = list(PKSampler(labels, 3, 4, num_batches=40, seed=1).global_batches())
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))  # same seed and epoch, same batches
    sampler.set_epoch(1)
    assert not all(np.array_equal(a, b) for a, b in zip(batches, sampler.global_batches()))


def test_pk_sampler_ranks_share_one_global_batch():
    labels = np.repeat(np.arange(6), 5)
    whole = np.concatenate(list(PKSampler(labels, 2, 4, num_batches=3, seed=7).global_batches()))
    ranks = [list(PKSampler(labels, 2, 4, num_batches=3, num_replicas=2, rank=r, seed=7)) for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == 12
    assert sorted(ranks[0] + ranks[1]) == sorted(whole.tolist())
    with pytest.raises(ValueError, match="does not divide among 3 processes"):
        PKSampler(labels, 2, 4, num_replicas=3)


def test_pk_sampler_every_identity_and_repeated_items():
    labels = np.array([0, 0, 0, 1, 1, 1])
    sampler = PKSampler(labels, None, 2, copies=[3, 1, 1, 1, 1, 1], num_batches=600, seed=0)
    assert sampler.identities == 2 and sampler.batch_size == 4
    picks = np.concatenate(list(sampler.global_batches()))
    share = (picks == 0).sum() / (labels[picks] == 0).sum()
    assert share == pytest.approx(0.6, abs=0.05)  # item 0 counts 3 times in a pool of 5
    assert PKSampler(labels, None, 2).num_batches == 1  # one pass over 6 items in batches of 4


# ---- GPGait's distance: per part, averaged over the parts --------------------------------------------------------


def test_part_mean_euclidean_ranks_unlike_the_flattened_distance():
    """Probe at 0; gallery a has both parts at distance 3, gallery b one part at 0 and one at 4.5. Flattened,
    a is nearer (sqrt 18 = 4.24 < 4.5); part by part, b is (mean 2.25 < 3)."""
    probe = np.zeros((1, 2, 2), np.float32)  # (N, C, P)
    gallery = np.zeros((2, 2, 2), np.float32)
    gallery[0, 0, :] = 3.0  # a: parts (3, 0) and (3, 0)
    gallery[1, 0, 1] = 4.5  # b: parts (0, 0) and (4.5, 0)
    d = distances(prepare(probe, "euc").numpy(), prepare(gallery, "euc").numpy(), "euc")
    np.testing.assert_allclose(d, [[3.0, 2.25]], rtol=1e-6)
    flat = distances(prepare(probe.reshape(1, -1), "euc").numpy(), prepare(gallery.reshape(2, -1), "euc").numpy(),
                     "euc")
    np.testing.assert_allclose(flat, [[np.sqrt(18), 4.5]], rtol=1e-6)
    # the view-matrix kernel agrees: the probe (subject 2) hits b (subject 2) only under the part mean
    subjects = np.array([1, 2])
    for emb_g, emb_p, hit in ((gallery, probe, True), (gallery.reshape(2, -1), probe.reshape(1, -1), False)):
        col_hit, *_ = block_hits(prepare(emb_g, "euc").numpy(), columns(prepare(emb_p, "euc").numpy()), subjects,
                                np.array([2]))
        assert bool(col_hit[0]) is hit


def test_part_mean_cosine_is_the_mean_of_the_parts_cosines():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(5, 8, 3, generator=g)
    rows = prepare(x, "cos")
    sim = (rows @ columns(rows)).numpy()
    parts = torch.nn.functional.normalize(x, dim=1)
    expected = torch.einsum("acp,bcp->ab", parts, parts).numpy() / 3
    np.testing.assert_allclose(sim, expected, rtol=1e-5, atol=1e-6)


# ---- our checkpoints through each method's test side -------------------------------------------------------------

SMALL = {"gaittr": {"channels": (32, 32, 32, 32), "embedding_dim": 32}, "gpgait": {"num_classes": 8, "channels": (2, 8, 8, 16, 16), "embedding_dim": 16},
         "gaitmixer": {"sequence_length": 31, "kernel_frames": 31}}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_our_checkpoints_load_in_the_test_side(name):
    """What `gaitgraph fit` saves (backbone.<names>, hyper-parameters, gaitgraph_method) is recognised and gives
    the LightningModule's own test-time embeddings, through gaitgraph.methods.<name>.embed."""
    torch.manual_seed(0)
    module = get_method(name).lightning_classes()[0](**SMALL[name]).eval()
    ckpt = {"state_dict": module.state_dict(), "hyper_parameters": dict(module.hparams), "gaitgraph_method": name}
    assert method_of(ckpt).name == name
    side = get_method(name).test_side()
    assert side.is_checkpoint(ckpt)
    rng = np.random.default_rng(0)
    seqs = [np.concatenate([rng.uniform(50, 250, (t, 17, 2)), rng.uniform(0.5, 1, (t, 17, 1))], -1).astype(np.float32)
            for t in (35, 47)]
    with torch.no_grad():
        ours = module.embed([torch.from_numpy(s) for s in seqs]).numpy()
    loaded = side.embed(side.load_checkpoint(ckpt), seqs)
    assert ours.shape == loaded.shape and np.isfinite(loaded).all()
    np.testing.assert_allclose(ours, loaded, rtol=1e-5, atol=1e-6)
    if name == "gpgait":
        assert loaded.shape == (2, 16, 19)  # (N, C, P): the BNNeck part features
    # a checkpoint file gives tuples back as lists (GaitMixer's temporal_channels): the architecture check must
    # accept them, and still refuse another architecture
    as_saved = {k: list(v) if isinstance(v, tuple) else v for k, v in module.hparams.items()}
    module.on_load_checkpoint({"hyper_parameters": as_saved})
    key = module.arch_keys[0]
    other = {**as_saved, key: [7] if isinstance(as_saved[key], list) else "other"}
    with pytest.raises(ValueError, match=key):
        module.on_load_checkpoint({"hyper_parameters": other})


# ---- a short training beats the untrained network; gaitgraph test == gaitgraph evaluate --------------------------

CPU = ["--trainer.accelerator", "cpu", "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary",
       "false", "--trainer.log_every_n_steps", "1", "--data.num_workers", "0", "--data.validation", "none"]
# small batches and windows, a few minutes on 2 cores; the recipes' reference values otherwise. Each was run by hand
# with these arguments (rank-1, identical views excluded, untrained -> trained): GaitTR 29.2 -> 89.6, GPGait
# 81.3 -> 97.9, GaitMixer 25.0/39.6/33.3/18.8 -> 100 with data seeds 0-3. GaitMixer reads the uncentred pixels / 320
# (as its reference): here every walk starts on one path across the frame, as CASIA-B's walkers do; with the default
# random starts (60-260 px) the same 60 steps stayed at chance for all four seeds (docs/methods.md).
SHORT = {
    "gaittr": (["--data.identities", "4", "--data.per_identity", "8", "--data.sequence_length", "20",
                "--data.batches_per_epoch", "10", "--trainer.max_epochs", "2", "--model.learning_rate", "0.003"], {}),
    "gpgait": (["--data.identities", "4", "--data.per_identity", "8", "--data.sequence_length", "20",
                "--data.batches_per_epoch", "15", "--trainer.max_epochs", "2", "--model.learning_rate", "0.01"],
               {"num_subjects": 16, "shape_std": 1.0, "jitter_std": 3.0}),  # untrained HOD parts separate tiny_dataset
    "gaitmixer": (["--data.identities", "8", "--data.per_identity", "4", "--data.sequence_length", "32",
                   "--data.min_length", "33", "--data.batches_per_epoch", "20", "--trainer.max_epochs", "3"],
                  {"start_range": (100, 120), "length_range": (40, 70), "shape_std": 12.0}),  # recipe's lr 0.006
}


def _means(path) -> dict:
    return {k: v["mean"] for k, v in json.loads(path.read_text())["conventions"].items()}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHORT))
def test_short_training_beats_untrained_and_test_equals_evaluate(name, tmp_path):
    args, data_kwargs = SHORT[name]
    data = make_pose_dataset(tmp_path / "casia-b", **data_kwargs)
    common = ["--recipe", f"{name}/casia-b", "--data.data_path", str(data), *CPU, *args]
    untrained = tmp_path / "untrained" / "metrics.json"  # `gaitgraph test` without a checkpoint: the initial network
    assert cli_main.main(["test", *common, "--trainer.default_root_dir", str(untrained.parent),
                          "--model.metrics_path", str(untrained)]) in (0, None)
    run = tmp_path / "run"
    cli_main.main(["fit", *common, "--trainer.max_steps", "-1", "--trainer.default_root_dir", str(run)])
    last = run / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=False)["gaitgraph_method"] == name

    out = tmp_path / "out"
    cli_main.main(["test", "--config", str(run / "logs" / "version_0" / "config.yaml"), "--ckpt_path", str(last),
                   "--model.metrics_path", str(out / "metrics.json"), "--trainer.default_root_dir", str(out)])
    assert cli_main.main(["evaluate", "--checkpoint", str(last), "--data", str(data),
                          "--output", str(out / "evaluated.json"), "--quiet"]) == 0
    tested, evaluated = (json.loads((out / f).read_text()) for f in ("metrics.json", "evaluated.json"))
    assert list(tested) == list(evaluated)
    for key in ("config_hash", "method", "experiment", "tta", "metric", "embedding_dim", "num_sequences", "test_set",
                "training_environment"):
        assert tested[key] == evaluated[key], key
    assert tested["metric"] == get_method(name).metric and not tested["tta"]
    for conv, mean in _means(out / "evaluated.json").items():
        assert tested["conventions"][conv]["mean"] == pytest.approx(mean, abs=1e-6)

    before, after = _means(untrained)["exclude_identical"], _means(out / "evaluated.json")["exclude_identical"]
    assert after - before >= 0.5 * (100 - before), (before, after)  # at least half the way from untrained to 100 %
