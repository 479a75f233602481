"""Issue 11: OUMVLP-Pose missing joints as the original treats them. Training reads the raw keypoints
with their zeros; every path that embeds (Lightning validation/test/predict, ``gaitgraph.embed`` used by
``gaitgraph evaluate``, ``match``, the ablation evaluation and the activation maps) fills them with the
original NormalizeEmpty, one joint at a time, so all give the same embeddings."""

from __future__ import annotations

import numpy as np
import pytest
import pytorch_lightning as pl
import torch

import gaitgraph
from conftest import make_pose_dataset
from gaitgraph.checkpoints import ModelSpec, load_model, save_checkpoint
from gaitgraph.data.format import load_dataset, write_dataset
from gaitgraph.data.normalize import normalize_dataset
from gaitgraph.inference import embed_batch
from gaitgraph.training import GaitGraph2, PoseDataModule
from gaitgraph.transforms.sequence import fill_missing_joints, to_length
from gaitgraph.viz.activation import DrawActivationCallback

L = 12


@pytest.fixture(scope="module")
def oumvlp(tmp_path_factory):
    """A normalized (mode none) OUMVLP-Pose-like dataset whose frames miss 0-6 joints each, as (0, 0, 0)."""
    root = tmp_path_factory.mktemp("oumvlp")
    path = make_pose_dataset(root / "converted", num_subjects=6, num_train=4, views=(0, 90), skeleton="openpose18",
                             dataset="oumvlp-pose", keypoints="openpose", conditions=(("nm", 2),), length_range=(8, 20))
    ds = load_dataset(path, mmap=False)
    poses = ds.poses.copy()
    rng = np.random.default_rng(0)
    for f in range(len(poses)):
        poses[f, rng.permutation(18)[: rng.integers(0, 7)]] = 0
    write_dataset(path, poses, ds.frames, ds.sequences, {k: ds.meta[k] for k in ("dataset", "skeleton", "keypoints")})
    out = normalize_dataset(path, root / "normalized", "none", progress=False)
    assert (out / "poses.npy").read_bytes() == (path / "poses.npy").read_bytes()  # training input: raw
    return out


def test_training_reads_raw_zeros_and_evaluation_the_filled_joints(oumvlp):
    ds = load_dataset(oumvlp)
    dm = PoseDataModule(str(oumvlp), batch_size=64, sequence_length=L, val_subjects=0.5)
    dm.setup("fit")
    train = next(iter(dm.train_dataloader()))
    assert ((train["poses"][..., 0] == 0).sum(-1) >= 2).any()  # several missing joints per frame, unfilled
    for loader in (dm.val_dataloader(), dm.test_dataloader(), dm.predict_dataloader()):
        batch = next(iter(loader))
        expected = np.stack([fill_missing_joints(to_length(np.array(ds.sequence(int(r))), L)) for r in batch["row"]])
        np.testing.assert_allclose(batch["poses"].numpy(), expected, rtol=1e-6)
        assert not (batch["poses"][..., 0] == 0).any()


def test_lightning_predict_and_gaitgraph_embed_give_the_same_embeddings(oumvlp, tmp_path):
    torch.manual_seed(0)
    model = GaitGraph2(backend_name="resgcn-n21-r8", skeleton="openpose18", sequence_length=L, tta=True,
                       predict_output=str(tmp_path / "emb.npz")).eval()
    spec = ModelSpec(backbone="resgcn-n21-r8", skeleton="openpose18", sequence_length=L)
    ckpt = save_checkpoint(tmp_path / "m.ckpt", model.backbone, spec)  # ours: records sequence_length L
    dm = PoseDataModule(str(oumvlp), batch_size=64, sequence_length=L, val_subjects=0.5)
    draw = DrawActivationCallback(output_dir=str(tmp_path / "gifs"), limit=1)
    trainer = pl.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
                         callbacks=[draw])
    trainer.predict(model, datamodule=dm, return_predictions=False)
    lightning = np.load(tmp_path / "emb.npz")
    ds = load_dataset(oumvlp)
    raw = [np.array(ds.sequence(i)) for i in range(len(ds)) if ds.sequences.iloc[i]["split"] == "test"]
    assert len(raw) == len(lightning["embeddings"])
    ours = gaitgraph.embed(ckpt, raw, tta=True)  # what evaluate, match and the ablation evaluation use
    np.testing.assert_allclose(lightning["embeddings"], ours, rtol=1e-4, atol=1e-4 * np.abs(ours).max())
    loaded = load_model(ckpt)
    with torch.no_grad():  # the same network on the unfilled windows: the fill changes these embeddings
        unfilled = embed_batch(loaded.model, loaded.spec, torch.stack([torch.from_numpy(to_length(s, L)) for s in raw]))
    assert np.abs(unfilled.numpy() - ours).max() > 100 * np.abs(lightning["embeddings"] - ours).max()
    assert len(draw.written) == 1  # the activation callback drew from the filled predict batch
