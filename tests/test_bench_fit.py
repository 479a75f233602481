"""``benchmarks/bench_fit.py`` on a tiny setting: one JSON line per setting with every field (no speed asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FIELDS = {
    "setting", "model", "sequence_length", "device", "device_name", "precision", "compile", "batches", "batch_size",
    "num_workers", "samples_per_s", "samples_per_s_median", "step_samples_per_s", "step_samples_per_s_median",
    "ratio_fit_step", "ratio_fit_step_median", "first_step_s", "compile_s",
    "peak_rss_mb", "cuda_max_allocated_mb", "projection", "dataset", "warmup", "steps", "torch", "threads",
    "load_avg_before", "load_avg_after", "date",
}


def test_bench_fit_prints_one_json_line_per_setting():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, str(ROOT / "benchmarks" / "bench_fit.py"), "--setting", "casia", "--sequences", "24",
           "--batch", "8", "--warmup", "1", "--steps", "1", "--batches", "device", "--threads", "1"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(lines) == 1
    rec = lines[0]
    assert set(rec) == FIELDS
    assert (rec["setting"], rec["model"], rec["sequence_length"]) == ("casia", "resgcn-n21-r8", 60)
    assert (rec["device"], rec["precision"], rec["compile"], rec["batches"], rec["batch_size"]) == (
        "cpu", "32-true", False, "device", 8)
    for key in ("samples_per_s", "samples_per_s_median", "step_samples_per_s", "step_samples_per_s_median",
                "ratio_fit_step", "ratio_fit_step_median", "first_step_s", "peak_rss_mb"):
        assert isinstance(rec[key], (int, float)) and rec[key] > 0, key
    assert rec["compile_s"] is None and rec["cuda_max_allocated_mb"] is None and rec["threads"] == 1
    proj = rec["projection"]
    assert (proj["recipe"], proj["epochs"], proj["train_sequences"], proj["steps"]) == ("gaitgraph2/casia-b", 200, 8140, 2200)
    # the projection is the recipe's samples at the measured rate
    assert abs(proj["hours"] - 200 * 8140 / rec["samples_per_s"] / 3600) <= 0.05 * proj["hours"]
    assert rec["dataset"]["synthetic"] == "casia-b" and rec["dataset"]["train_sequences"] == 24
    assert len(rec["load_avg_before"]) == 3 and rec["date"][:2] == "20"
