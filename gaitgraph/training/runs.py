"""Training runs of the workflow: ``gaitgraph fit`` in a run folder that survives failures, and the export
of its two declared outputs, ``model.ckpt`` and ``history.csv`` (the package knows nothing of Snakemake;
``workflow_scripts/train_model.py`` calls :func:`train` with the paths the rule declares).

The run folder carries a fingerprint of everything that shapes the training (arguments, seed, recipe,
input data); a run is resumed only when the fingerprint matches and the run did not finish, otherwise it
starts over in a clean folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from gaitgraph.outputs import OutputError, atomic_write, remove_stale_temporaries, temporary_sibling, write_json

# the columns of history.csv (docs/design.md), one row per epoch; written by training.callbacks.HistoryWriter
HISTORY_COLUMNS = ("epoch", "step", "train_loss", "lr", "val_loss", "val_rank1")

# workflow hyperparameter -> LightningCLI argument of `gaitgraph fit`
FIT_ARGUMENTS = {
    "backbone": "model.backend_name",
    "max_epochs": "trainer.max_epochs",
    "check_val_every_n_epoch": "trainer.check_val_every_n_epoch",
    "batch_size": "data.batch_size",
    "sequence_length": "data.sequence_length",
    "learning_rate": "model.learning_rate",
    "weight_decay": "model.weight_decay",
    "loss_temperature": "model.loss_temperature",
    "validation": "data.validation",  # test-set: the original's validation (and selection) on the test split
    "min_length": "data.min_length",  # 1: train on every sequence, as the original
    "max_steps": "trainer.max_steps",  # the peers' recipes count optimizer steps
    "batches_per_epoch": "data.batches_per_epoch",  # P x K data modules (GaitTR, GPGait, GaitMixer)
    "identities": "data.identities",
    "per_identity": "data.per_identity",
}
STAMP = "pipeline-run.json"


class TrainingError(RuntimeError):
    """``gaitgraph fit`` failed; the message repeats the last line of its log."""


def fit_arguments(hparams: dict) -> list[str]:
    """``{"learning_rate": 0.005, ...}`` -> ``["--model.learning_rate", "0.005", ...]`` (sorted keys)."""
    unknown = sorted(set(hparams) - set(FIT_ARGUMENTS))
    if unknown:
        raise ValueError(f"unknown training setting(s) {unknown}; known: {sorted(FIT_ARGUMENTS)}")
    args = []
    for key in sorted(hparams):
        value = hparams[key]
        args += [f"--{FIT_ARGUMENTS[key]}", json.dumps(value) if isinstance(value, bool) else str(value)]
    return args


def data_fingerprint(data_dir: str | os.PathLike) -> dict:
    """Size and mtime of every file of a dataset folder: changes whenever the folder is rewritten."""
    root = Path(data_dir)
    return {
        str(p.relative_to(root)): [p.stat().st_size, p.stat().st_mtime_ns]
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def fingerprint(**parts) -> str:
    """SHA-256 over a JSON rendering of ``parts`` (sorted keys): a stable hash of a configuration."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def prepare_run_dir(run_dir: str | os.PathLike, key: str) -> bool:
    """Make ``run_dir`` ready for a run with fingerprint ``key``; return True if it will resume.

    An unfinished run with the same fingerprint is kept (``gaitgraph fit`` resumes from its
    ``checkpoints/last.ckpt``). Another run folder of ours (it has the stamp), a finished run or
    another configuration's, is removed, so a changed setting never continues from a stale
    checkpoint; a non-empty folder without the stamp is not ours and is refused (:class:`OutputError`).
    """
    run_dir = Path(run_dir)
    stamp_path = run_dir / STAMP
    try:
        stamp = json.loads(stamp_path.read_text()) if stamp_path.is_file() else None
    except ValueError:  # killed while writing it (earlier versions wrote it in place)
        stamp = {}
    if stamp is None and run_dir.is_dir() and any(run_dir.iterdir()):
        raise OutputError(f"run folder {run_dir} exists but was not made by gaitgraph.training.runs (no {STAMP}); "
                          "move it away or choose another run folder")
    stamp = stamp if isinstance(stamp, dict) else {}
    resume = stamp.get("key") == key and not stamp.get("finished", False)
    resume = resume and (run_dir / "checkpoints" / "last.ckpt").is_file()
    remove_stale_temporaries(run_dir)
    if not resume and run_dir.exists():
        # rename first: a run killed during the removal leaves a stale temporary, not a half run folder
        # ("tmp", not "old": a half-removed folder must never be restored)
        gone = temporary_sibling(run_dir, "tmp")
        os.rename(run_dir, gone)
        shutil.rmtree(gone)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json(stamp_path, {"key": key, "finished": False}, indent=1)
    return resume



def export_history(run_dir: str | os.PathLike, out: str | os.PathLike) -> pd.DataFrame:
    """``RUN_DIR/history.csv`` (written by the training) -> ``out`` with exactly the contract columns."""
    src = Path(run_dir) / "history.csv"
    if not src.is_file():
        raise FileNotFoundError(f"{src}: the training wrote no history")
    history = pd.read_csv(src)
    missing = [c for c in HISTORY_COLUMNS if c not in history.columns]
    if missing:
        raise ValueError(f"{src}: columns {missing} missing (expected {list(HISTORY_COLUMNS)})")
    history = history[list(HISTORY_COLUMNS)].sort_values("epoch", kind="stable")
    atomic_write(out, lambda tmp: history.to_csv(tmp, index=False))
    return history


def train(
    *,
    config: str,
    data: str,
    run_dir: str,
    seed: int,
    hparams: dict,
    keypoints: str,
    model_out: str,
    history_out: str,
    threads: int = 1,
    log: str | None = None,
    command: list[str] | None = None,
) -> None:
    """Train one model with ``gaitgraph fit --config config`` (resuming an interrupted run) and export its
    outputs; the method is the one the config names (``method:``; GaitGraph2 without).

    ``command`` replaces the ``gaitgraph`` executable (tests); the data loader gets ``threads - 1``
    worker processes (none with two threads or fewer: a worker would only compete for the cores).
    """
    command = command or [sys.executable, "-m", "gaitgraph.cli.main"]
    args = [
        "fit",
        "--config", config,
        "--data.data_path", data,
        "--data.keypoints", keypoints,
        "--data.num_workers", str(threads - 1 if threads > 2 else 0),
        "--trainer.default_root_dir", run_dir,
        "--seed_everything", str(seed),
        "--trainer.enable_progress_bar", "false",
        *fit_arguments(hparams),
    ]  # fmt: skip
    key = fingerprint(args=args, base_config=Path(config).read_text(), data=data_fingerprint(data))
    resume = prepare_run_dir(run_dir, key)
    with open(log, "a") if log else open(os.devnull, "w") as out:
        print(f"{'resuming' if resume else 'starting'} run in {run_dir}", file=out, flush=True)
        print(" ".join(command + args), file=out, flush=True)
        result = subprocess.run(command + args, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        last_line = ""
        if log and Path(log).is_file():  # the training's own one-line error, if it ended with one
            lines = [line for line in Path(log).read_text(errors="replace").splitlines() if line.strip()]
            last_line = f": {lines[-1].strip()}" if lines else ""
        raise TrainingError(f"gaitgraph fit failed with exit code {result.returncode}{last_line}; see {log}")
    last = Path(run_dir) / "checkpoints" / "last.ckpt"
    if not last.is_file():
        raise FileNotFoundError(f"{last}: the training saved no checkpoint")
    export_history(run_dir, history_out)
    atomic_write(model_out, lambda tmp: shutil.copyfile(last, tmp))
    write_json(Path(run_dir) / STAMP, {"key": key, "finished": True}, indent=1)
