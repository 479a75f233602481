"""DDP on CPU (gloo): the SupCon loss sees the global batch; ``gaitgraph fit --trainer.strategy ddp`` runs."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from pytorch_metric_learning import distances, losses

from gaitgraph.training.losses import supcon_loss

N, D, WORLD = 12, 6, 2


def _data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N, 10, generator=g)
    y = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3])
    w = torch.randn(10, D, generator=g)
    return x, y, w


def _rank(rank, init_file, result_file):
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD)
    x, y, w = _data()
    w = w.clone().requires_grad_(True)
    sl = slice(rank * N // WORLD, (rank + 1) * N // WORLD)
    loss_fn = supcon_loss(0.1)
    loss = loss_fn(x[sl] @ w, y[sl])
    loss.backward()
    dist.all_reduce(w.grad)  # what DDP does: average the parameter gradients over the ranks
    w.grad /= WORLD
    torch.save({"loss": loss.detach(), "grad": w.grad, "seen": loss_fn.last_batch_size}, f"{result_file}.{rank}")
    dist.destroy_process_group()


def test_loss_sees_the_global_batch_and_gradients_match_one_process(tmp_path):
    mp.spawn(_rank, args=(str(tmp_path / "init"), str(tmp_path / "res")), nprocs=WORLD, join=True)
    x, y, w = _data()
    w = w.clone().requires_grad_(True)
    ref = losses.SupConLoss(temperature=0.1, distance=distances.LpDistance())(x @ w, y)
    ref.backward()
    for r in range(WORLD):
        res = torch.load(tmp_path / f"res.{r}")
        assert res["seen"] == N  # the global batch, not the local half
        assert torch.allclose(res["loss"], ref.detach(), atol=1e-6)
        assert torch.allclose(res["grad"], w.grad, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("batches", ["loader", "device"])
def test_cli_fit_with_ddp_on_two_cpu_processes(tiny_dataset, tmp_path, batches):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "gaitgraph.cli.main", "fit", "--data.data_path", str(tiny_dataset),
           "--data.batches", batches,
           "--data.batch_size", "16", "--data.sequence_length", "12", "--data.val_subjects", "0.25",
           "--trainer.strategy", "ddp", "--trainer.devices", "2", "--trainer.accelerator", "cpu",
           "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2", "--trainer.log_every_n_steps", "1",
           "--trainer.enable_progress_bar", "false", "--trainer.default_root_dir", str(run)]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert (run / "checkpoints" / "last.ckpt").is_file()
    metrics = pd.read_csv(run / "logs" / "version_0" / "metrics.csv")
    seen = metrics["train_global_batch"].dropna()
    assert len(seen) and (seen == 2 * 16).all()  # each rank's loss saw both ranks' samples
    assert metrics["val_rank1"].notna().any()
