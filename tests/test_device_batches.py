"""Device-resident training batches (``gaitgraph.training.device_batches``) against the loader path.

On CPU both paths run; for one seed they must give the same tensors, batch for batch, over epochs,
with the dataset resident and in chunks, under a DDP-style split and through ``gaitgraph fit``.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.data import DataLoader, DistributedSampler

from conftest import make_pose_dataset
from gaitgraph.data.format import load_dataset, write_dataset
from gaitgraph.training.batch_plan import BatchPlan
from gaitgraph.training.datamodule import NonFinitePoseError, PoseDataModule
from gaitgraph.training.device_batches import DeviceBatches, resolve_batches

L = 16


def _dm(path, batches, **kw):
    kw = {"batch_size": 24, "sequence_length": L, "validation": "none", **kw}
    return PoseDataModule(str(path), batches=batches, **kw)


def _attach(dm, rank=0, world=1):
    """What the datamodule reads from a trainer: training state, rank, world size, device."""
    dm.trainer = SimpleNamespace(training=True, global_rank=rank, world_size=world,
                                 strategy=SimpleNamespace(root_device=torch.device("cpu")))
    return dm


def _epochs(dm, epochs, **loader_kw):
    """Batches (after ``on_after_batch_transfer``, which adds the value noise) of ``epochs`` epochs."""
    source = dm.train_dataloader()
    for key, value in loader_kw.items():
        setattr(source, key, value)
    out = []
    for epoch in epochs:
        source.sampler.set_epoch(epoch)  # what Lightning's fit loop does
        out.append([dm.on_after_batch_transfer(b, 0) for b in source])
    return source, out


def _assert_same(a, b):
    assert len(a) == len(b)
    for ea, eb in zip(a, b):
        assert len(ea) == len(eb)
        for x, y in zip(ea, eb):
            assert x.keys() == y.keys() == {"poses", "subject", "row"}
            for k in x:
                torch.testing.assert_close(x[k], y[k], rtol=0, atol=0)


@pytest.fixture(autouse=True)
def seeded(monkeypatch):
    """``seed_everything`` sets PL_GLOBAL_SEED; the plan takes its seed from there (restored afterwards)."""
    monkeypatch.setenv("PL_GLOBAL_SEED", "5")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    # lengths 10..40 around L = 16: padded and windowed sequences both occur
    return make_pose_dataset(tmp_path_factory.mktemp("dev") / "casia-b", num_subjects=6, num_train=5,
                             length_range=(10, 40))


@pytest.mark.parametrize("shuffle", [False, True])
def test_device_batches_equal_the_loader_batches_over_epochs(dataset, shuffle):
    loader = _attach(_dm(dataset, "loader", train_shuffle_sequence=shuffle))
    device = _attach(_dm(dataset, "device", train_shuffle_sequence=shuffle))
    for dm in (loader, device):
        dm.setup("fit")
    src_l, from_loader = _epochs(loader, [0, 1, 2])
    torch.rand(5)  # the global generator plays no part
    src_d, from_device = _epochs(device, [0, 1, 2])
    assert isinstance(src_l, DataLoader) and isinstance(src_d, DeviceBatches)
    assert src_d.resident and src_d.copies == 1  # loaded once for all epochs
    _assert_same(from_loader, from_device)
    n_train = len(loader.rows["train"])
    for epoch in from_device:  # one epoch = every training sequence once, in a new order each epoch
        rows = torch.cat([b["row"] for b in epoch])
        assert sorted(rows.tolist()) == sorted(loader.rows["train"].tolist()) and len(rows) == n_train
        assert len(epoch[-1]["row"]) == n_train - 24 * (len(epoch) - 1)  # short last batch, as before
    assert not torch.equal(torch.cat([b["row"] for b in from_device[0]]), torch.cat([b["row"] for b in from_device[1]]))
    # the value noise ran: poses are not the raw frames
    raw = load_dataset(dataset).poses
    assert not np.isin(from_device[0][0]["poses"][0, :, :, 0].numpy(), raw[..., 0]).all()


def test_loader_batches_do_not_depend_on_workers(dataset):
    one = _attach(_dm(dataset, "loader"))
    two = _attach(_dm(dataset, "loader", num_workers=2))
    for dm in (one, two):
        dm.setup("fit")
    _assert_same(_epochs(one, [3])[1], _epochs(two, [3])[1])


def test_chunked_fallback_gives_the_same_batches(dataset):
    loader = _attach(_dm(dataset, "loader"))
    loader.setup("fit")
    dm = _attach(_dm(dataset, "device"))
    dm.setup("fit")
    full = dm.train_dataloader()
    frame_bytes = 17 * 3 * 4
    # room for about two batches of sequences: several chunks per epoch, each copied once
    small = DeviceBatches(full.plan, dm.dataset, L, dm.flip_sequence_p, False, "cpu", full.bad_row_error,
                          budget_bytes=2 * 24 * 40 * frame_bytes)
    assert not small.resident
    chunks = small.chunks(small.plan.order(0))
    assert len(chunks) > 1 and [b for c in chunks for b in c] == list(range(len(small)))
    out = []
    for epoch in (0, 1):
        small.sampler.set_epoch(epoch)
        out.append([dm.on_after_batch_transfer(b, 0) for b in small])
    assert small.copies == len(chunks) + len(small.chunks(small.plan.order(1)))  # one copy per chunk
    _assert_same(_epochs(loader, [0, 1])[1], out)


def test_ddp_ranks_take_their_part_of_the_distributed_sampler_order(dataset):
    world, epoch = 2, 4
    parts = []
    for rank in range(world):
        loader = _attach(_dm(dataset, "loader"), rank, world)
        device = _attach(_dm(dataset, "device"), rank, world)
        for dm in (loader, device):
            dm.setup("fit")
        a, b = _epochs(loader, [epoch])[1], _epochs(device, [epoch])[1]
        _assert_same(a, b)
        parts.append(torch.cat([x["row"] for x in b[0]]).numpy())
    # Lightning's sampler under DDP: DistributedSampler(shuffle=True, seed=PL_GLOBAL_SEED)
    rows = loader.rows["train"]
    for rank in range(world):
        ref = DistributedSampler(range(len(rows)), num_replicas=world, rank=rank, shuffle=True, seed=5)
        ref.set_epoch(epoch)
        np.testing.assert_array_equal(parts[rank], rows[list(ref)])
    assert set(parts[0]) | set(parts[1]) == set(rows.tolist())


def test_plan_seed_follows_seed_everything(dataset, monkeypatch):
    monkeypatch.setenv("PL_GLOBAL_SEED", "7")
    a = _attach(_dm(dataset, "device"))
    a.setup("fit")
    first = [b["row"] for b in a.train_dataloader()]
    assert a._plan.seed == 7
    monkeypatch.setenv("PL_GLOBAL_SEED", "8")
    other = [b["row"] for b in a.train_dataloader()]
    assert not all(torch.equal(x, y) for x, y in zip(first, other))


def test_batches_option():
    assert resolve_batches("auto", torch.device("cpu")) == "loader"
    assert resolve_batches("auto", torch.device("cuda", 0)) == "device"
    assert resolve_batches("device", torch.device("cpu")) == "device"
    with pytest.raises(ValueError, match="auto, device or loader"):
        resolve_batches("gpu", torch.device("cpu"))
    with pytest.raises(ValueError, match="batch_size"):
        BatchPlan([0, 1], 0, seed=0)


def test_non_finite_training_poses_are_named_when_loaded(tmp_path, dataset):
    ds = load_dataset(dataset)
    poses = np.array(ds.poses)
    table = ds.sequences
    row = int(np.flatnonzero(table["split"].to_numpy() == "train")[3])
    poses[int(table.offset.iloc[row]) + 1, 2, 0] = np.nan
    bad = write_dataset(tmp_path / "bad", poses, np.array(ds.frames), table, ds.meta)
    dm = _attach(_dm(bad, "device"))
    dm.setup("fit")
    expected = table.iloc[row]
    with pytest.raises(NonFinitePoseError, match=f"subject={expected.subject} condition={expected.condition} "
                                                 f"sequence={expected.sequence} view={expected.view}"):
        next(iter(dm.train_dataloader()))


@pytest.mark.parametrize("batches", ["device", "loader"])
def test_fit_with_either_batches(dataset, tmp_path, batches):
    """``gaitgraph fit --data.batches ...``: the option reaches the DataModule and a run trains with it."""
    from gaitgraph.cli.main import cli

    run = tmp_path / "run"
    done = cli(["fit", "--data.data_path", str(dataset), "--data.batch_size", "16", "--data.sequence_length", "12",
                "--data.validation", "none", "--data.batches", batches, "--trainer.accelerator", "cpu",
                "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2", "--trainer.log_every_n_steps", "1",
                "--trainer.enable_progress_bar", "false", "--trainer.default_root_dir", str(run)])
    used = done.trainer.train_dataloader
    assert isinstance(used, DeviceBatches if batches == "device" else DataLoader)
    metrics = pd.read_csv(run / "logs" / "version_0" / "metrics.csv")
    assert metrics["train_loss"].notna().sum() == 2 and np.isfinite(metrics["train_loss"].dropna()).all()
    assert (run / "checkpoints" / "last.ckpt").is_file()


def _ddp_rank(rank, world, init_file, dataset, result_file):
    """One gloo rank: its device batches (rank and world size from torch.distributed) for two epochs."""
    import torch.distributed as dist

    os.environ["PL_GLOBAL_SEED"] = "5"
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    dm = _attach(_dm(dataset, "device"), dist.get_rank(), dist.get_world_size())
    dm.setup("fit")
    source = dm.train_dataloader()
    rows = []
    for epoch in (0, 1):
        source.sampler.set_epoch(epoch)
        rows.append(torch.cat([b["row"] for b in source]))
    parts = [None] * world
    dist.all_gather_object(parts, [r.tolist() for r in rows])
    torch.save({"parts": parts, "train": dm.rows["train"].tolist(), "batches": len(source)}, f"{result_file}.{rank}")
    dist.destroy_process_group()


def test_ddp_ranks_on_gloo_split_every_epoch(dataset, tmp_path):
    import torch.multiprocessing as mp

    world = 2
    mp.spawn(_ddp_rank, args=(world, str(tmp_path / "init"), str(dataset), str(tmp_path / "res")), nprocs=world,
             join=True)
    results = [torch.load(tmp_path / f"res.{r}") for r in range(world)]
    assert results[0]["parts"] == results[1]["parts"] and results[0]["batches"] == results[1]["batches"]
    train = set(results[0]["train"])
    for epoch in (0, 1):
        a, b = (results[0]["parts"][r][epoch] for r in range(world))
        assert len(a) == len(b) == -(-len(train) // world)  # same length on every rank (DDP needs it)
        assert set(a) | set(b) == train and len(set(a) & set(b)) <= len(a) * world - len(train)  # padding only
    assert results[0]["parts"][0][0] != results[0]["parts"][0][1]  # reshuffled every epoch
