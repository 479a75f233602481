"""GaitGraph2 LightningModule + PoseDataModule: splits, bad input, losses, checkpoints, a short training."""

from __future__ import annotations

import json

import numpy as np
import pytest
import pytorch_lightning as pl
import torch
from pytorch_metric_learning import distances, losses

from conftest import make_pose_dataset
from gaitgraph.data.format import load_dataset, write_dataset
from gaitgraph.training import GaitGraph2, PoseDataModule
from gaitgraph.training.datamodule import NonFinitePoseError
from gaitgraph.training.losses import supcon_loss
from gaitgraph.training.embedding_module import input_shape, nearest_neighbour_rank1

L = 12


def _trainer(**kw):
    args = dict(accelerator="cpu", devices=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                enable_model_summary=False, num_sanity_val_steps=0)
    args.update(kw)
    return pl.Trainer(**args)


def _dm(path, **kw):
    args = dict(batch_size=40, sequence_length=L, val_subjects=0.25)
    args.update(kw)
    return PoseDataModule(str(path), **args)


# ---------------------------------------------------------------- data module
def test_heldout_validation_is_deterministic_and_disjoint(tiny_dataset):
    dm = _dm(tiny_dataset)
    dm.setup("fit")
    seq = dm.sequences
    train_subj = set(seq.iloc[dm.rows["train"]]["subject"])
    val_subj = set(seq.iloc[dm.rows["val"]]["subject"])
    assert val_subj and not (train_subj & val_subj)
    assert set(seq.iloc[dm.rows["val"]]["split"]) == {"train"}  # never the test split
    assert len(val_subj) == 2  # ceil(0.25 * 8)
    again = _dm(tiny_dataset)
    again.setup("fit")
    np.testing.assert_array_equal(again.rows["val"], dm.rows["val"])
    explicit = _dm(tiny_dataset, val_subjects=[3, 5])
    explicit.setup("fit")
    assert set(seq.iloc[explicit.rows["val"]]["subject"]) == {3, 5}
    with pytest.raises(ValueError, match="not training subjects"):
        e = _dm(tiny_dataset, val_subjects=[11])
        e.setup("fit")


def test_test_set_validation_is_the_original_option(tiny_dataset):
    dm = _dm(tiny_dataset, validation="test-set")
    dm.setup("fit")
    np.testing.assert_array_equal(dm.rows["val"], dm.rows["test"])
    assert set(dm.sequences.iloc[dm.rows["train"]]["split"]) == {"train"}
    none = _dm(tiny_dataset, validation="none")
    none.setup("fit")
    assert len(none.rows["val"]) == 0 and none.val_dataloader() == []


def test_batches_have_the_contract_shapes(tiny_dataset):
    dm = _dm(tiny_dataset)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert batch["poses"].shape == (40, L, 17, 3) and batch["poses"].dtype == torch.float32
    val = next(iter(dm.val_dataloader()))
    ds = load_dataset(tiny_dataset)
    row = int(val["row"][0])
    from gaitgraph.transforms.sequence import to_length

    np.testing.assert_array_equal(val["poses"][0].numpy(), to_length(ds.sequence(row), L))
    assert int(val["subject"][0]) == int(ds.sequences.iloc[row]["subject"])


def test_keypoints_select_a_subdirectory_and_must_match(tmp_path):
    make_pose_dataset(tmp_path / "oumvlp" / "alphapose", num_subjects=3, num_train=2, views=(0,),
                      skeleton="openpose18", dataset="oumvlp-pose", keypoints="alphapose",
                      conditions=(("nm", 1),))
    dm = PoseDataModule(str(tmp_path / "oumvlp"), keypoints="alphapose")
    assert dm.skeleton == "openpose18" and dm.dataset_dir.name == "alphapose"
    dm.setup("fit")  # NormalizeEmpty at evaluation only, as the original and gaitgraph.inference
    assert dm.test_dataloader().collate_fn.fill_missing and not dm.train_dataloader().dataset.collate.fill_missing
    with pytest.raises(FileNotFoundError, match="alphapose"):
        PoseDataModule(str(tmp_path / "oumvlp"), keypoints="openpose").dataset_dir
    with pytest.raises(ValueError, match="keypoints 'alphapose'"):
        PoseDataModule(str(tmp_path / "oumvlp" / "alphapose"), keypoints="openpose").dataset


def test_nan_poses_raise_naming_the_sequence(tmp_path):
    path = make_pose_dataset(tmp_path / "d", num_subjects=2, num_train=2, views=(0,), conditions=(("nm", 2),))
    ds = load_dataset(path, mmap=False)
    poses = ds.poses.copy()
    bad = ds.sequences.iloc[1]
    poses[bad.offset + 3, 5, 0] = np.nan
    write_dataset(path, poses, ds.frames, ds.sequences, {k: ds.meta[k] for k in ("dataset", "skeleton", "keypoints")})
    dm = PoseDataModule(str(path), batch_size=8, sequence_length=60, validation="none")  # pads: every frame used
    dm.setup("fit")
    with pytest.raises(NonFinitePoseError, match=f"subject={bad.subject} condition=nm sequence={bad.sequence}"):
        for _ in dm.train_dataloader():
            pass


def test_one_frame_sequences(tmp_path):
    path = make_pose_dataset(tmp_path / "d", num_subjects=2, num_train=1, views=(0,), conditions=(("nm", 2),),
                             length_range=(1, 1))
    dm = PoseDataModule(str(path), batch_size=4, sequence_length=8, validation="none")
    with pytest.warns(UserWarning, match="shorter than min_length"), pytest.raises(ValueError, match="no training"):
        dm.setup("fit")  # left out of training ...
    dm.setup("test")
    batch = next(iter(dm.test_dataloader()))  # ... evaluated as a constant window
    assert torch.equal(batch["poses"][0], batch["poses"][0, :1].expand(8, -1, -1))


def test_model_and_data_must_agree(tiny_dataset, tmp_path):
    dm = _dm(tiny_dataset)
    with pytest.raises(ValueError, match="skeleton"):
        dm.check_model("openpose18", True, True)
    with pytest.raises(ValueError, match="multi_input/multi_branch"):
        dm.check_model("coco17", False, False)
    with pytest.raises(ValueError, match="issues #6"):
        input_shape(True, False)
    model = GaitGraph2(skeleton="openpose18", sequence_length=L)
    with pytest.raises(ValueError, match="skeleton 'openpose18'"):
        _trainer(max_epochs=1, limit_train_batches=1).fit(model, _dm(tiny_dataset))


# ---------------------------------------------------------------- losses and metrics
def test_supcon_equals_pml_with_lp_distance_in_one_process():
    torch.manual_seed(0)
    emb, lab = torch.randn(16, 8), torch.randint(0, 4, (16,))
    ref = losses.SupConLoss(temperature=0.01, distance=distances.LpDistance())(emb, lab)
    ours = supcon_loss(0.01)
    assert torch.allclose(ours(emb, lab), ref) and ours.last_batch_size == 16


def test_nearest_neighbour_rank1():
    emb = torch.tensor([[1.0, 0], [0.9, 0.1], [0, 1.0], [0.1, 0.9]])
    assert nearest_neighbour_rank1(emb, torch.tensor([0, 0, 1, 1])) == 100.0
    assert nearest_neighbour_rank1(emb, torch.tensor([0, 1, 0, 1])) == 0.0


# ---------------------------------------------------------------- checkpoints, test, predict
def test_checkpoint_is_loadable_and_test_predict_write_files(tiny_dataset, tmp_path):
    from gaitgraph.checkpoints import load_model

    pl.seed_everything(0)
    metrics, emb_file = tmp_path / "metrics.json", tmp_path / "emb.npz"
    model = GaitGraph2(sequence_length=L, tta=True, metrics_path=str(metrics), predict_output=str(emb_file))
    dm = _dm(tiny_dataset)
    trainer = _trainer(max_epochs=1, limit_train_batches=1, limit_val_batches=1)
    trainer.fit(model, dm)
    ckpt = tmp_path / "m.ckpt"
    trainer.save_checkpoint(ckpt)
    loaded = load_model(ckpt)
    assert loaded.spec.backbone == "resgcn-n21-r8" and loaded.spec.skeleton == "coco17"
    assert loaded.spec.sequence_length == L and loaded.spec.num_branches == 3 and loaded.spec.in_channels == 5
    hp = torch.load(ckpt, weights_only=False)["hyper_parameters"]
    for key in ("backend_name", "embedding_layer_size", "multi_input", "multi_branch", "tta", "learning_rate",
                "loss_temperature", "skeleton", "sequence_length", "features"):
        assert key in hp
    x = torch.randn(2, L, 17, 3)
    model.eval()
    with torch.no_grad():
        assert torch.allclose(loaded.model(model.features(x)), model(x), atol=1e-5)

    trainer.test(model, dm, verbose=False)
    doc = json.loads(metrics.read_text())
    assert doc["dataset"] == "casia-b" and doc["tta"] is True
    assert set(doc["conventions"]) == {"exclude_identical", "include_identical"}
    trainer.predict(model, dm)
    out = np.load(emb_file)
    n_test = int((dm.sequences["split"] == "test").sum())
    assert out["embeddings"].shape == (n_test, 3 * 128)
    assert set(out["split"]) == {"test"} and len(out["subject"]) == n_test
    # the same embeddings as `gaitgraph evaluate` computes from the checkpoint (gaitgraph.inference)
    from gaitgraph.inference import embed

    ds = load_dataset(tiny_dataset)
    rows = [int(np.flatnonzero((ds.sequences["source"] == src).to_numpy())[0]) for src in out["source"][:6]]
    ref = embed(str(ckpt), [ds.sequence(r) for r in rows], tta=True)
    np.testing.assert_allclose(out["embeddings"][:6], ref, atol=1e-4)


def test_load_checkpoint_with_other_backbone_is_a_clear_error(tiny_dataset, tmp_path):
    model = GaitGraph2(sequence_length=L)
    trainer = _trainer(max_epochs=1, limit_train_batches=1, limit_val_batches=0)
    trainer.fit(model, _dm(tiny_dataset))
    trainer.save_checkpoint(tmp_path / "a.ckpt")
    other = GaitGraph2(backend_name="resgcn-n39-r8", sequence_length=L)
    with pytest.raises(ValueError, match="backend_name='resgcn-n21-r8'"):
        _trainer().test(other, _dm(tiny_dataset), ckpt_path=str(tmp_path / "a.ckpt"), verbose=False)


# ---------------------------------------------------------------- learning
@pytest.mark.slow
def test_short_training_beats_untrained(tmp_path):
    """A few CPU epochs on data with a strong identity signal clearly beat the untrained network."""
    path = make_pose_dataset(tmp_path / "d", num_subjects=10, num_train=6, views=(0, 90), seed=1)
    pl.seed_everything(0)
    dm = PoseDataModule(str(path), batch_size=60, sequence_length=L, validation="none")
    model = GaitGraph2(sequence_length=L, tta=False, learning_rate=0.01)

    def rank1():
        return _trainer().test(model, dm, verbose=False)[0]["test_rank1"]

    before = rank1()
    _trainer(max_epochs=6).fit(model, dm)
    after = rank1()
    print(f"rank-1 untrained {before:.1f} -> trained {after:.1f}")
    assert after >= before + 15, (before, after)


@pytest.mark.slow
def test_bf16_autocast_and_swa_as_in_the_original(tiny_dataset):
    """bf16-mixed runs (loss in float32); SWA with swa_lrs=None takes the optimizer's rate at its start."""
    from gaitgraph.training.callbacks import StochasticWeightAveraging

    swa = StochasticWeightAveraging(swa_lrs=None, swa_epoch_start=1, annealing_epochs=1)
    model = GaitGraph2(sequence_length=L, tta=False)
    trainer = _trainer(max_epochs=2, limit_train_batches=2, limit_val_batches=1, precision="bf16-mixed",
                       callbacks=[swa])
    trainer.fit(model, _dm(tiny_dataset))
    assert isinstance(swa._swa_lrs, list) and all(0 < lr <= 0.005 for lr in swa._swa_lrs)
    assert torch.isfinite(trainer.callback_metrics["train_loss_epoch"])
