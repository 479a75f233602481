"""A killed ``gaitgraph fit`` continues from RUN_DIR/checkpoints/last.ckpt when re-run (auto-resume)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import torch

EPOCHS = 6


def _cmd(data, run):
    return [sys.executable, "-m", "gaitgraph.cli.main", "fit", "--data.data_path", str(data),
            "--data.batch_size", "40", "--data.sequence_length", "12", "--data.validation", "none",
            "--trainer.accelerator", "cpu", "--trainer.devices", "1", "--trainer.max_epochs", str(EPOCHS),
            "--trainer.limit_train_batches", "2",
            "--trainer.enable_progress_bar", "false", "--trainer.default_root_dir", str(run)]


def _loadable(path) -> dict | None:
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception:  # not there yet, or (never with atomic saves) partial
        return None


@pytest.mark.slow
def test_killed_run_resumes_from_last_checkpoint(tiny_dataset, tmp_path):
    run = tmp_path / "run"
    last = run / "checkpoints" / "last.ckpt"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(_cmd(tiny_dataset, run), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None and not last.exists():
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)  # checkpoints appear atomically: last.ckpt is complete once it exists
    proc.wait()
    first = _loadable(last)
    assert first is not None, proc.stdout.read().decode()[-3000:]
    steps_per_epoch = 2  # --trainer.limit_train_batches 2
    assert 0 < first["global_step"] < EPOCHS * steps_per_epoch, "the first run finished before it could be killed"

    out = subprocess.run(_cmd(tiny_dataset, run), capture_output=True, text=True, env=env, timeout=400)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "auto-resume" in out.stdout + out.stderr
    final = torch.load(last, map_location="cpu", weights_only=False)
    assert final["epoch"] == EPOCHS - 1  # saved at the end of the last epoch (0-based)
    assert final["global_step"] == EPOCHS * steps_per_epoch  # continued, not restarted
    # the second attempt logged into a new version directory, starting after the checkpointed step
    second = pd.read_csv(run / "logs" / "version_1" / "metrics.csv")
    assert second["step"].min() >= first["global_step"]
    hist = pd.read_csv(run / "history.csv")
    assert hist["epoch"].tolist() == list(range(EPOCHS))
