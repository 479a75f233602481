"""End-to-end training throughput of ``gaitgraph fit`` and the projected wall time of the paper's recipes.

Each setting runs in a fresh process (so its peak memory is its own): ``gaitgraph fit`` with the paper's
recipe (``--recipe gaitgraph2/casia-b`` or ``gaitgraph2/oumvlp-pose``: the real GaitGraph2 module, PoseDataModule,
SupCon loss, AdamW/Adam with the one-cycle schedule, loggers, checkpoints), no validation, stopped
after ``--warmup + --steps`` steps, on a synthetic converted dataset of the real training-set shape
(CASIA-B: 8,140 sequences of 60-140 frames, COCO-17; OUMVLP-Pose: 144,284 sequences of 18-40 frames,
OpenPose-18) or on a converted dataset given with ``--data``. Measured:

* ``samples_per_s``: steady state, from the end of the warm-up steps to the end of the last step
  (data, augmentation, features, model, loss, optimizer, Lightning's loop and logging);
  ``samples_per_s_median``: from the median step (robust to other jobs' bursts on a shared machine;
  on CUDA the steps between the window's ends are timed as the host sees them);
* ``step_samples_per_s`` (and ``_median``): the pure training step in the same process afterwards (the
  same module, one fixed batch already on the device: features, forward, loss, backward, optimizer),
  and ``ratio_fit_step`` (and ``_median``) = fit over pure step;
* ``first_step_s``: the first step alone (includes ``torch.compile`` and loading the dataset onto the
  device), ``compile_s`` = first step minus a steady step when compiling;
* ``peak_rss_mb`` (the process's peak resident memory) and ``cuda_max_allocated_mb``;
* ``projection``: the recipe's epochs x training sequences / ``samples_per_s`` (training steps only;
  validation every 5 / 10 epochs and checkpoints not included). It assumes the throughput measured
  at ``--batch``; give ``--batch 768`` (the recipes' batch) where memory allows.

One JSON line per setting on stdout (progress on stderr). On a GPU machine, the figures of
``docs/benchmarks.md`` come from:

    python benchmarks/bench_fit.py --device cuda --batch 768 --batches both --precision 32-true bf16-mixed \\
        --compile both --steps 50 --warmup 10
    python benchmarks/bench_fit.py                       # CPU: fp32, loader and device batches, batch 128
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytorch_lightning as pl
import torch

from common import machine, synthetic_dataset

# setting: recipe, model, skeleton, keypoints, frames (min, max), real training sequences, epochs
SETTINGS = {
    "casia": dict(recipe="gaitgraph2/casia-b", model="resgcn-n21-r8", skeleton="coco17", keypoints="hrnet",
                  frames=(60, 140), train_sequences=8140, epochs=200, dataset="casia-b", subjects=74),
    "oumvlp": dict(recipe="gaitgraph2/oumvlp-pose", model="resgcn-n51-r4", skeleton="openpose18", keypoints="openpose",
                   frames=(18, 40), train_sequences=144284, epochs=750, dataset="oumvlp-pose", subjects=5153),
}


class StepTimer(pl.Callback):
    """Times the training steps of a ``fit`` (GPU work is waited for at the window's two ends only) and
    keeps the module and the last batch for the pure-step measurement. ``StepTimer.last``: the latest one."""

    last: "StepTimer | None" = None

    def __init__(self, warmup: int = 2, steps: int = 10):
        self.warmup, self.steps = warmup, steps
        self.ends: list[float] = []
        self.start = 0.0
        self.module = self.batch = None
        StepTimer.last = self

    @staticmethod
    def _sync(module) -> None:
        if module.device.type == "cuda":
            torch.cuda.synchronize(module.device)

    def on_train_start(self, trainer, pl_module) -> None:
        self._sync(pl_module)
        self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if len(self.ends) + 1 in (1, self.warmup, self.warmup + self.steps):
            self._sync(pl_module)
        self.ends.append(time.perf_counter())
        self.module, self.batch = pl_module, batch


def pure_step_times(module, batch: dict, precision: str, warmup: int, steps: int) -> list[float]:
    """End times of ``steps`` bare training steps on one batch already on the device (no data, no Lightning),
    after ``warmup`` steps; the first entry is the window's start."""
    device = batch["poses"].device
    module.to(device).train()
    hp = module.hparams
    cls = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam}[hp.optimizer]
    opt = cls(module.parameters(), lr=hp.learning_rate, weight_decay=hp.weight_decay)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision.startswith("bf16"))

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        with autocast:
            emb = module(batch["poses"])
        module.loss(emb.float(), batch["subject"]).backward()
        opt.step()

    for _ in range(warmup):
        step()
    StepTimer._sync(module)
    ends = [time.perf_counter()]
    for i in range(steps):
        step()
        if i == steps - 1:
            StepTimer._sync(module)
        ends.append(time.perf_counter())
    return ends


def rates(ends: list[float], batch: int) -> tuple[float, float]:
    """(samples/s over the whole window, samples/s of the median step) from step end times."""
    gaps = sorted(b - a for a, b in zip(ends, ends[1:]))
    median = gaps[len(gaps) // 2] if len(gaps) % 2 else (gaps[len(gaps) // 2 - 1] + gaps[len(gaps) // 2]) / 2
    return len(gaps) * batch / (ends[-1] - ends[0]), batch / median


def run_setting(spec: dict) -> dict:
    """One setting in this process: ``gaitgraph fit`` with a StepTimer, then the pure step; the JSON record."""
    from gaitgraph.cli.main import main as gaitgraph_main

    torch.set_num_threads(spec["threads"])
    setting = SETTINGS[spec["setting"]]
    before = machine(spec["device"])
    timer_cfg = {"class_path": "bench_fit.StepTimer", "init_args": {"warmup": spec["warmup"], "steps": spec["steps"]}}
    with tempfile.TemporaryDirectory(prefix="bench_fit_run_") as run:
        args = [
            "fit", "--recipe", setting["recipe"],
            "--data.data_path", spec["data"], "--data.keypoints", spec["keypoints"],
            "--data.batch_size", str(spec["batch"]), "--data.num_workers", str(spec["workers"]),
            "--data.validation", "none", "--data.batches", spec["batches"],
            "--model.compile", str(spec["compile"]).lower(),
            "--trainer.accelerator", "gpu" if spec["device"] == "cuda" else "cpu", "--trainer.devices", "1",
            "--trainer.precision", spec["precision"], "--trainer.max_steps", str(spec["warmup"] + spec["steps"]),
            "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
            "--trainer.default_root_dir", run, "--trainer.callbacks+=" + json.dumps(timer_cfg),
        ]
        rc = gaitgraph_main(args)
        if rc:
            raise SystemExit(f"gaitgraph fit failed (exit {rc}) for {spec}")
    timer = importlib.import_module("bench_fit").StepTimer.last  # the instance the CLI made (module bench_fit)
    ends, w = timer.ends, spec["warmup"]
    if len(ends) < w + spec["steps"]:
        raise SystemExit(f"only {len(ends)} training steps ran; the dataset has too few batches for "
                         f"--warmup {w} --steps {spec['steps']} at --batch {spec['batch']}")
    fit_rate, fit_median = rates(ends[w - 1:], spec["batch"])
    first = ends[0] - timer.start
    step_rate, step_median = rates(pure_step_times(timer.module, timer.batch, spec["precision"], 1, spec["steps"]),
                                   spec["batch"])
    device = torch.device(spec["device"])
    samples = setting["epochs"] * setting["train_sequences"]
    return {
        "setting": spec["setting"], "model": setting["model"], "sequence_length": timer.module.hparams.sequence_length,
        "device": before["device"], "device_name": before["device_name"], "precision": spec["precision"],
        "compile": spec["compile"], "batches": spec["batches"], "batch_size": spec["batch"],
        "num_workers": spec["workers"], "samples_per_s": round(fit_rate, 1),
        "samples_per_s_median": round(fit_median, 1), "step_samples_per_s": round(step_rate, 1),
        "step_samples_per_s_median": round(step_median, 1), "ratio_fit_step": round(fit_rate / step_rate, 3),
        "ratio_fit_step_median": round(fit_median / step_median, 3), "first_step_s": round(first, 2),
        "compile_s": round(first - spec["batch"] / fit_median, 2) if spec["compile"] else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "cuda_max_allocated_mb": (round(torch.cuda.max_memory_allocated(device) / 2**20)
                                  if device.type == "cuda" else None),
        "projection": {"recipe": setting["recipe"], "epochs": setting["epochs"],
                       "train_sequences": setting["train_sequences"], "recipe_batch": 768,
                       "steps": setting["epochs"] * math.ceil(setting["train_sequences"] / 768),
                       "hours": round(samples / fit_rate / 3600, 3)},
        "dataset": spec["dataset_note"], "warmup": w, "steps": spec["steps"],
        "torch": before["torch"], "threads": before["threads"], "load_avg_before": before["load_avg"],
        "load_avg_after": machine(spec["device"])["load_avg"], "date": before["date"],
    }


def dataset_for(name: str, args, tmp: Path) -> tuple[str, str, dict]:
    """(path, keypoints, note) of the dataset a setting trains on: ``--data`` or a synthetic one."""
    setting = SETTINGS[name]
    if args.data:
        meta = json.loads((Path(args.data) / "meta.json").read_text())
        return args.data, meta.get("keypoints") or setting["keypoints"], {"path": args.data}
    n = args.sequences or setting["train_sequences"]
    path = tmp / name
    print(f"writing a synthetic {setting['dataset']} dataset: {n} sequences of {setting['frames']} frames",
          file=sys.stderr, flush=True)
    ds = synthetic_dataset(path, n, setting["frames"], setting["skeleton"], setting["subjects"], setting["dataset"],
                           setting["keypoints"])
    return str(path), setting["keypoints"], {"synthetic": setting["dataset"], "train_sequences": n,
                                             "frames": list(setting["frames"]), "poses_mb": round(ds.poses.nbytes / 2**20)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--setting", choices=[*SETTINGS, "all"], default="all")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--precision", nargs="+", default=["32-true"], choices=["32-true", "bf16-mixed"])
    ap.add_argument("--compile", choices=["off", "on", "both"], default="off")
    ap.add_argument("--batches", choices=["loader", "device", "both"], default="both")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--warmup", type=int, default=2, help="steps before the timed window (>= 1)")
    ap.add_argument("--steps", type=int, default=8, help="timed steps")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=None, help="DataLoader workers (default: 0 on CPU, 8 on CUDA)")
    ap.add_argument("--data", help="a converted dataset to train on instead of the synthetic one")
    ap.add_argument("--sequences", type=int, help="synthetic training sequences (default: the real training set's)")
    ap.add_argument("--child", help=argparse.SUPPRESS)  # one setting, as JSON: run here
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run_setting(json.loads(args.child))), flush=True)
        return
    if args.warmup < 1 or args.steps < 1:
        ap.error("--warmup and --steps must be >= 1")
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: no CUDA device here")
    names = list(SETTINGS) if args.setting == "all" else [args.setting]
    workers = args.workers if args.workers is not None else (8 if args.device == "cuda" else 0)
    batches = ["loader", "device"] if args.batches == "both" else [args.batches]
    compiles = {"off": [False], "on": [True], "both": [False, True]}[args.compile]
    failed = 0
    with tempfile.TemporaryDirectory(prefix="bench_fit_data_") as tmp:
        for name in names:
            data, keypoints, note = dataset_for(name, args, Path(tmp))
            for precision, compile_, mode in itertools.product(args.precision, compiles, batches):
                spec = dict(setting=name, device=args.device, precision=precision, compile=compile_, batches=mode,
                            batch=args.batch, warmup=args.warmup, steps=args.steps, threads=args.threads,
                            workers=workers, data=data, keypoints=keypoints, dataset_note=note)
                print(f"{name}: {precision}, compile {compile_}, {mode} batches ...", file=sys.stderr, flush=True)
                out = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True,
                                     text=True)
                lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
                if out.returncode or not lines:
                    failed += 1
                    print(f"{name} {precision} compile {compile_} {mode}: failed (exit {out.returncode})\n"
                          f"{out.stderr[-3000:]}", file=sys.stderr)
                    continue
                print(lines[-1], flush=True)
    if failed:
        raise SystemExit(f"{failed} setting(s) failed")


if __name__ == "__main__":
    main()
