"""Class activation maps: the maths on hand-made models (known answers), the GIFs (one frame per input
frame, file names with the condition), the checkpoint entry and the Lightning predict callback."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from gaitgraph.viz.activation import (
    DrawActivationCallback,
    activation_filename,
    activation_maps,
    draw_activation_gif,
    draw_activations,
)


class Strided(nn.Module):
    """forward_features = branch 0's first C channels at every 4th frame: (N, 1, C, T, V) -> (N, C, ceil(T/4), V)."""

    def __init__(self, weight, channels: int):
        super().__init__()
        weight = np.asarray(weight, dtype=np.float32)
        self.channels = channels
        self.fcn = nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            self.fcn.weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
            self.fcn.bias.fill_(100.0)  # the CAM ignores the bias

    def forward_features(self, x):
        return x[:, 0, : self.channels, ::4, :]

    def forward(self, x):
        return self.fcn(self.forward_features(x).mean(dim=(2, 3)))


def test_cam_known_answer():
    # F (C=2, T'=2, V=3); W (K=2, C=2) = [[1, -1], [0.5, 2]]
    # R0 = F0 - F1 = [[1,0,0],[0,-2,0]] -> ReLU [[1,0,0],[0,0,0]];  R1 = 0.5 F0 + 2 F1 = [[0.5,0,0],[0,4,0]]
    # global max 4 -> max over k: [[0.25, 0, 0], [0, 1, 0]]; frames 0-3 take row 0, frames 4-7 row 1
    feat = torch.zeros(2, 2, 3)
    feat[0, 0, 0] = 1.0
    feat[1, 1, 1] = 2.0
    x = torch.zeros(1, 1, 2, 8, 3)
    x[0, 0, :, ::4, :] = feat
    model = Strided([[1.0, -1.0], [0.5, 2.0]], channels=2)
    a = activation_maps(model, x)
    expected = np.array([[0.25, 0, 0]] * 4 + [[0, 1, 0]] * 4, dtype=np.float32)
    assert a.shape == (1, 8, 3)
    np.testing.assert_allclose(a[0], expected, atol=1e-7)


def test_cam_matches_loop_reference_batched_and_uneven_length():
    rng = np.random.default_rng(0)
    n, c, k, t, v = 5, 4, 3, 30, 6  # T = 30 -> T' = 8: stride 3.75, not an integer
    weight = rng.normal(size=(k, c))
    x = torch.from_numpy(rng.normal(size=(n, 1, c, t, v)).astype(np.float32))
    model = Strided(weight, channels=c).train()
    got = activation_maps(model, x, batch_size=2)
    assert model.training  # mode restored
    feat = x[:, 0, :, ::4, :].numpy().astype(np.float64)
    t_feat = feat.shape[2]
    for i in range(n):
        r = np.maximum(np.einsum("kc,ctv->ktv", weight, feat[i]), 0)
        r /= r.max()
        for frame in range(t):
            np.testing.assert_allclose(got[i, frame], r[:, frame * t_feat // t].max(axis=0), rtol=1e-5, atol=1e-6)
    assert got.min() >= 0 and got.max() == pytest.approx(1.0)


def test_cam_all_negative_gives_zeros_not_nan():
    x = torch.ones(2, 1, 2, 8, 3)
    a = activation_maps(Strided([[-1.0, -1.0]], channels=2), x)
    assert np.isfinite(a).all() and (a == 0).all()


def _walk(t: int, v: int = 17) -> np.ndarray:
    rng = np.random.default_rng(1)
    base = rng.uniform(-50, 50, size=(1, v, 2)) + np.array([300.0, 200.0])
    xy = base + np.arange(t)[:, None, None] * np.array([3.0, 0.0])
    conf = np.full((t, v, 1), 0.9)
    conf[2, 5] = 0.0  # a missing joint: its bones are not drawn
    return np.concatenate([xy, conf], axis=-1).astype(np.float32)


def test_activation_gif_one_frame_per_input_frame(tmp_path):
    t = 7
    act = np.linspace(0, 1, t * 17).reshape(t, 17)
    out = tmp_path / "gifs" / activation_filename(75, "bg", 2, 90)
    assert out.name == "075-bg-02-090.gif"
    path = draw_activation_gif(_walk(t), act, "coco17", out, "subject 075, bg-02, view 90°", png_dir=tmp_path / "png")
    assert path == out and path.is_file()
    with Image.open(path) as im:
        assert im.n_frames == t
    pngs = sorted((tmp_path / "png").glob("*.png"))
    assert len(pngs) == t
    with Image.open(pngs[3]) as im:
        assert np.asarray(im.convert("L"), dtype=float).std() > 5  # not blank
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temporary left


def test_filenames_keep_conditions_apart():
    names = {activation_filename(1, c, 1, 0) for c in ("nm", "bg", "cl")}
    assert len(names) == 3


@pytest.fixture(scope="module")
def small_checkpoint(tmp_path_factory):
    from gaitgraph.checkpoints import ModelSpec, save_checkpoint

    spec = ModelSpec(backbone="resgcn-n21-r8", skeleton="coco17", sequence_length=12)
    torch.manual_seed(0)
    model = spec.create_model()
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "model.ckpt", model, spec)


def test_draw_activations_from_checkpoint(tmp_path, tiny_dataset, small_checkpoint):
    paths = draw_activations(small_checkpoint, tiny_dataset, tmp_path / "act", limit=2, split="test")
    assert len(paths) == 2
    for p in paths:
        assert p.parent == tmp_path / "act"
        with Image.open(p) as im:
            assert im.n_frames == 12  # the checkpoint's sequence length = frames the network saw
    assert paths[0].name == "009-nm-01-000.gif"  # first test sequence of the tiny dataset (subjects 9-12)
    with pytest.raises(ValueError, match="no 'val' split"):
        draw_activations(small_checkpoint, tiny_dataset, tmp_path / "x", split="val")


def test_callback_during_predict(tmp_path, tiny_dataset):
    import pytorch_lightning as pl

    from gaitgraph.training.datamodule import PoseDataModule
    from gaitgraph.training.gaitgraph2 import GaitGraph2

    model = GaitGraph2(sequence_length=8, tta=False)
    dm = PoseDataModule(str(tiny_dataset), batch_size=2, sequence_length=8, validation="none")
    callback = DrawActivationCallback(output_dir=str(tmp_path / "act"), limit=3)
    trainer = pl.Trainer(accelerator="cpu", devices=1, logger=False, enable_progress_bar=False,
                         enable_model_summary=False, callbacks=[callback], default_root_dir=tmp_path,
                         limit_predict_batches=2)  # 2 batches of 2 sequences; the callback draws 3 of them
    trainer.predict(model, datamodule=dm, return_predictions=False)
    assert len(callback.written) == 3
    table = dm.subset("predict").head(3)
    expected = [activation_filename(r.subject, r.condition, r.sequence, r.view) for r in table.itertuples()]
    assert [p.name for p in callback.written] == expected
    for p in callback.written:
        with Image.open(p) as im:
            assert im.n_frames == 8


def test_callback_builds_inputs_from_raw_poses_without_module_features():
    class Plain:  # a module without ``features``/``skeleton``: the callback uses build_input + hparams
        hparams = {"multi_input": True, "features": "corrected", "skeleton": "coco17"}

    class Trainer:
        datamodule = None

    skel = DrawActivationCallback._skeleton(Trainer(), Plain())
    assert skel.name == "coco17"
    x = DrawActivationCallback._input(Plain(), skel, torch.zeros(2, 8, 17, 3))
    assert tuple(x.shape) == (2, 3, 5, 8, 17)
    meta = DrawActivationCallback._meta(Trainer(), np.array([4, 5]))
    assert [m["subject"] for m in meta] == [4, 5]  # no sequence table: samples numbered
