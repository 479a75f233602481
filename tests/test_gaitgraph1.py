"""GaitGraph (v1): two-view SupCon against numpy, augmentations, original-format checkpoints, a training step."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import pytorch_lightning as pl
import torch

from gaitgraph.methods.gaitgraph1 import flip_tta_embedding
from gaitgraph.training.gaitgraph1 import GaitGraph1
from gaitgraph.training.losses import supcon_two_view
from gaitgraph.training.two_view_datamodule import TwoViewDataModule
from gaitgraph.transforms.gaitgraph1_augment import GaitGraph1Augment

L = 12


def _supcon_numpy(features, labels, temperature, base_temperature):
    """HobbitLong SupConLoss, contrast_mode 'all', written loop by loop."""
    bsz, n_views, _ = features.shape
    rows = np.concatenate([features[:, v] for v in range(n_views)])  # view-major
    lab = np.tile(labels, n_views)
    n = len(rows)
    losses = []
    for i in range(n):
        logits = np.array([rows[i] @ rows[j] / temperature for j in range(n)])
        logits = logits - logits.max()
        denom = sum(np.exp(logits[j]) for j in range(n) if j != i)
        pos = [j for j in range(n) if j != i and lab[j] == lab[i]]
        mean_log_prob = np.mean([logits[p] - np.log(denom) for p in pos])
        losses.append(-(temperature / base_temperature) * mean_log_prob)
    return float(np.mean(losses))


def test_supcon_matches_a_direct_numpy_computation():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(6, 2, 8))
    f /= np.linalg.norm(f, axis=-1, keepdims=True)
    labels = np.array([0, 1, 0, 2, 1, 3])
    for tau in (0.01, 0.07, 0.5):
        ref = _supcon_numpy(f, labels, tau, 0.07)
        got = supcon_two_view(torch.tensor(f), torch.tensor(labels), tau, 0.07)
        assert got.item() == pytest.approx(ref, rel=1e-6)


def test_gaitgraph1_augment_mirror_and_noise():
    x = torch.rand(64, L, 17, 3) * 100
    only_mirror = GaitGraph1Augment(mirror_poses_p=1.0, point_noise_std=0, joint_noise_std=0)(x)
    mean_x = x[..., 0].mean(dim=2, keepdim=True)
    torch.testing.assert_close(only_mirror[..., 0], 2 * mean_x - x[..., 0])
    torch.testing.assert_close(only_mirror[..., 1:], x[..., 1:])  # y, conf and joint order untouched
    g = torch.Generator().manual_seed(0)
    joint = GaitGraph1Augment(0, 0, 0.25)(x, generator=g) - x
    assert torch.allclose(joint[:, :1, :, :2].expand_as(joint[..., :2]), joint[..., :2], atol=1e-4)  # constant in time
    assert joint[..., 2].abs().max() == 0
    assert joint[:, 0, :, :2].std().item() == pytest.approx(0.25, rel=0.1)
    point = GaitGraph1Augment(0, 0.05, 0)(x) - x
    assert point.std().item() == pytest.approx(0.05, rel=0.1)  # all three channels, no clamp
    mirrored = (GaitGraph1Augment(0.5, 0, 0)(x)[..., 0] != x[..., 0]).flatten(1).any(1).float().mean()
    assert 0.25 < mirrored < 0.75


def test_two_views_are_drawn_independently(tiny_dataset):
    dm = TwoViewDataModule(str(tiny_dataset), batch_size=16, sequence_length=L, min_length=2,
                              validation="none")
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert batch["poses"].shape == (16, 2, L, 17, 3)
    assert not torch.equal(batch["poses"][:, 0], batch["poses"][:, 1])


def test_min_length_drops_short_training_sequences(tiny_dataset):
    dm = TwoViewDataModule(str(tiny_dataset), sequence_length=L, validation="none")  # default 61
    with pytest.raises(ValueError, match="no training sequences"):
        dm.setup("fit")  # the fixture's sequences have 24-48 frames: all dropped as in G1
    dm = TwoViewDataModule(str(tiny_dataset), sequence_length=L, validation="none", min_length=40)
    dm.setup("fit")
    lengths = dm.sequences["length"].to_numpy()[dm.rows["train"]]
    assert len(lengths) and lengths.min() >= 40


def test_model_is_the_paper_network():
    m = GaitGraph1()
    assert sum(p.numel() for p in m.backbone.parameters()) == 319_530
    m.eval()
    with torch.no_grad():
        z = m(torch.rand(3, 60, 17, 3))
    assert z.shape == (3, 128)
    torch.testing.assert_close(z.norm(dim=1), torch.ones(3))


def _original_g1_checkpoint(model: torch.nn.Module, prefix: str) -> dict:
    """What G1's src/common.py saves: opt, model, optimizer, scheduler, scaler, epoch."""
    state = {prefix + k: v for k, v in model.state_dict().items()}
    opt = argparse.Namespace(network_name="resgcn-n39-r8", sequence_length=60, embedding_layer_size=128,
                             learning_rate=0.01, temp=0.01, batch_size=128)
    return {"opt": opt, "model": state, "optimizer": {"state": {}, "param_groups": []}, "scheduler": {},
            "scaler": None, "epoch": 299}


@pytest.mark.parametrize("prefix", ["", "module."])
def test_original_v1_checkpoint_loads_and_embeds(tmp_path, prefix):
    import gaitgraph
    from gaitgraph.checkpoints import load_model

    pl.seed_everything(0)
    g1 = GaitGraph1().eval()
    path = tmp_path / "gaitgraph_resgcn-n39-r8_coco_seq_60.pth"
    torch.save(_original_g1_checkpoint(g1.backbone, prefix), path)
    loaded = load_model(path)
    assert loaded.spec.source_format == "gaitgraph1" and loaded.spec.backbone == "resgcn-n39-r8"
    assert (loaded.spec.num_branches, loaded.spec.in_channels, loaded.spec.l2_normalize) == (1, 3, True)
    rng = np.random.default_rng(0)
    seqs = [rng.uniform(0, 200, size=(t, 17, 3)).astype(np.float32) for t in (80, 61, 40)]
    emb = gaitgraph.embed(str(path), seqs, tta=False)
    assert emb.shape == (3, 128)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1, rtol=1e-5)
    from gaitgraph.inference import model_input, prepare_sequences

    x = model_input(loaded.spec, prepare_sequences(seqs, loaded.spec))
    with torch.no_grad():
        np.testing.assert_allclose(g1.backbone(x).numpy(), emb, atol=1e-5)
        # the original "flip TTA" flips the branch axis of a one-branch input: a no-op
        torch.testing.assert_close(flip_tta_embedding(loaded.model, x), loaded.model(x))


def test_lightning_checkpoint_loads_with_l2_normalisation(tiny_dataset, tmp_path):
    from gaitgraph.checkpoints import load_model

    model = GaitGraph1(sequence_length=L)
    dm = TwoViewDataModule(str(tiny_dataset), batch_size=16, sequence_length=L, min_length=2, validation="none")
    trainer = pl.Trainer(accelerator="cpu", max_epochs=1, limit_train_batches=1, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(model, dm)
    trainer.save_checkpoint(tmp_path / "g1.ckpt")
    loaded = load_model(tmp_path / "g1.ckpt")
    assert loaded.spec.l2_normalize and loaded.spec.backbone == "resgcn-n39-r8" and loaded.spec.num_branches == 1
    # the checkpoint names its method: `gaitgraph test --ckpt_path` and `gaitgraph evaluate` bind v1 from it
    from gaitgraph.cli.method_selection import select_method

    assert torch.load(tmp_path / "g1.ckpt", weights_only=True)["gaitgraph_method"] == "gaitgraph1"
    assert select_method(["test", "--ckpt_path", str(tmp_path / "g1.ckpt")])[0] == "gaitgraph1"
    assert select_method(["fit", "--ckpt_path", str(tmp_path / "g1.ckpt")])[0] == "gaitgraph1"  # resume
    assert select_method(["fit", "--recipe", "gaitgraph2/casia-b", "--ckpt_path", str(tmp_path / "g1.ckpt")])[0] == "gaitgraph2"
    # phase 2 starts from these weights
    phase2 = GaitGraph1(sequence_length=L, learning_rate=1e-5, init_from=str(tmp_path / "g1.ckpt"))
    phase2.load_initial_weights(phase2.hparams.init_from)
    for k, v in loaded.model.state_dict().items():
        torch.testing.assert_close(phase2.backbone.state_dict()[k], v)


def test_a_training_step_decreases_the_loss(tiny_dataset):
    """A few optimizer steps on one fixed two-view batch lower the SupCon loss."""
    pl.seed_everything(0)
    dm = TwoViewDataModule(str(tiny_dataset), batch_size=32, sequence_length=L, min_length=2, validation="none")
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    n = batch["poses"].shape[0]
    poses = dm.two_view_augment(batch["poses"].flatten(0, 1)).unflatten(0, (n, 2))
    model = GaitGraph1(backend_name="resgcn-n21-r8", sequence_length=L)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
    model.train()
    losses = []
    for _ in range(4):
        emb = model(poses.flatten(0, 1)).unflatten(0, (n, 2))
        loss = model.loss(emb, batch["subject"])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0], losses


def test_gaitgraph1_runs_get_their_own_row_in_the_paper_tables(tmp_path):
    """Evaluations with method "GaitGraph" / experiment "gaitgraph1" (the workflow's G1 rule) form their own
    group beside GaitGraph2: mean ± std over seeds with n runs."""
    from test_paper_tables import build, casia_run, row

    g2 = [casia_run(0, 0), casia_run(0, 1)]
    g1 = [casia_run(1, 0), casia_run(2, 1)]
    for m in g1:
        m.update(method="GaitGraph", experiment="gaitgraph1", tta=False)
    summary, md, _, _ = build(tmp_path, g2 + g1)
    bg = row(summary, method="GaitGraph", experiment="gaitgraph1", convention="exclude_identical", condition="BG#1-2")
    assert bg["n_runs"] == 2 and bg["mean"] == pytest.approx(62.5) and bg["std"] == pytest.approx(17.6777, abs=1e-3)
    assert row(summary, method="GaitGraph2", convention="exclude_identical", condition="BG#1-2")["mean"] == 100.0
    assert "GaitGraph / gaitgraph1" in md and "GaitGraph2 / gaitgraph2" in md


def test_datamodule_evaluates_v1s_own_test_set(tiny_dataset):
    """The v1 DataModule leaves validation/test sequences of <= sequence_length frames out, as v1's dataset class;
    test_set 'all' keeps them (and GaitGraph2's PoseDataModule keeps them by default)."""
    from gaitgraph.data.format import load_dataset
    from gaitgraph.training import PoseDataModule

    seq = load_dataset(tiny_dataset).sequences
    window = 30  # tiny_dataset lengths are 24-48: some test sequences are not longer than the window
    short = (seq["split"] == "test") & (seq["length"] <= window)
    assert 0 < short.sum() < (seq["split"] == "test").sum()
    dm = TwoViewDataModule(str(tiny_dataset), sequence_length=window, min_length=2, val_subjects=0.25)
    dm.setup("fit")
    assert (seq.iloc[dm.rows["test"]]["length"] > window).all() and (seq.iloc[dm.rows["val"]]["length"] > window).all()
    assert len(dm.rows["test"]) == int(((seq["split"] == "test") & ~short).sum())
    assert dm.test_set_record()["num_left_out"] == int(short.sum()) and dm.test_set_record()["min_length"] == window + 1
    every = TwoViewDataModule(str(tiny_dataset), sequence_length=window, min_length=2, test_set="all")
    every.setup("fit")
    g2 = PoseDataModule(str(tiny_dataset), sequence_length=window)
    g2.setup("fit")
    assert len(every.rows["test"]) == len(g2.rows["test"]) == int((seq["split"] == "test").sum())
