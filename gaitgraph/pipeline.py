"""Helpers the Snakemake workflow calls (the package stays free of Snakemake imports).

* :func:`train` runs ``gaitgraph fit`` in a run folder that survives failures and exports the two
  declared outputs, ``model.ckpt`` and ``history.csv``. The run folder carries a fingerprint of
  everything that shapes the training (arguments, seed, input data); a run is resumed only when the
  fingerprint matches and the run did not finish, otherwise it starts over in a clean folder.
* :func:`check_oumvlp_pose` checks that the user's licensed OUMVLP-Pose copy is where the config says,
  and otherwise explains where to apply and where to put the files; Gait3D and GREW have theirs in
  their dataset modules (``gaitgraph.data.gait3d.check_release``, ``gaitgraph.data.grew.check_release``).

Command line (used by the workflow's ``check_oumvlp_pose`` and evaluation rules)::

    python -m gaitgraph.pipeline check-oumvlp-pose --root DIR --id-list CSV --keypoints openpose --output JSON
    python -m gaitgraph.pipeline check-gait3d --root DIR [--split JSON] --output JSON
    python -m gaitgraph.pipeline check-grew --root DIR --output JSON
    python -m gaitgraph.pipeline device      # cuda:0 if a GPU is visible, else cpu
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from gaitgraph.outputs import (
    OutputError, atomic_write, check_file_output, remove_stale_temporaries, temporary_sibling, write_json,
)

HISTORY_COLUMNS = ["epoch", "step", "train_loss", "lr", "val_loss", "val_rank1"]

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
}

OUMVLP_POSE_URL = "http://www.am.sanken.osaka-u.ac.jp/BiometricDB/GaitLPPose.html"
STAMP = "pipeline-run.json"


# --- training --------------------------------------------------------------------------------


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
        raise OutputError(f"run folder {run_dir} exists but was not made by gaitgraph.pipeline (no {STAMP}); "
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
        raise ValueError(f"{src}: columns {missing} missing (expected {HISTORY_COLUMNS})")
    history = history[HISTORY_COLUMNS].sort_values("epoch", kind="stable")
    atomic_write(out, lambda tmp: history.to_csv(tmp, index=False))
    return history


def train(
    *,
    base_config: str,
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
    """Train one model with ``gaitgraph fit`` (resuming an interrupted run) and export its outputs.

    ``command`` replaces the ``gaitgraph`` executable (tests); the data loader gets ``threads - 1``
    worker processes (none with two threads or fewer: a worker would only compete for the cores).
    """
    command = command or [sys.executable, "-m", "gaitgraph.cli.main"]
    args = [
        "fit",
        "--config", base_config,
        "--data.data_path", data,
        "--data.keypoints", keypoints,
        "--data.num_workers", str(threads - 1 if threads > 2 else 0),
        "--trainer.default_root_dir", run_dir,
        "--seed_everything", str(seed),
        "--trainer.enable_progress_bar", "false",
        *fit_arguments(hparams),
    ]  # fmt: skip
    key = fingerprint(args=args, base_config=Path(base_config).read_text(), data=data_fingerprint(data))
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


# --- OUMVLP-Pose -----------------------------------------------------------------------------


class TrainingError(RuntimeError):
    """``gaitgraph fit`` failed; the message repeats the last line of its log."""


class MissingDataError(RuntimeError):
    pass


def check_oumvlp_pose(root: str | os.PathLike, id_list: str | os.PathLike, keypoints: str) -> dict:
    """Check the licensed OUMVLP-Pose copy: ``root/<keypoints>/<subject>/<view>_<seq>/*.json`` and
    ``id_list``. Return a small summary; raise :class:`MissingDataError` saying what to do."""
    root, id_list = Path(root), Path(id_list)
    tree = root / keypoints
    problems = []
    if not tree.is_dir():
        problems.append(f"the {keypoints} pose folder {tree}/ does not exist")
        subjects = []
    else:
        subjects = sorted(p.name for p in tree.iterdir() if p.is_dir())
        if not subjects:
            problems.append(f"{tree}/ holds no subject folders")
    if not id_list.is_file():
        problems.append(f"the subject split {id_list} does not exist")
    if problems:
        raise MissingDataError(
            "OUMVLP-Pose is not where the config says: " + "; ".join(problems) + ".\n"
            "OUMVLP-Pose cannot be downloaded automatically: its licence requires an application to "
            f"Osaka University at {OUMVLP_POSE_URL} .\n"
            "Once you have it, put the files here (or point datasets/oumvlp-pose/local/path and "
            "local/id_list in your config at your copy):\n"
            f"  {root}/openpose/<subject>/<view>_<seq>/*.json   (OpenPose keypoints)\n"
            f"  {root}/alphapose/<subject>/<view>_<seq>/*.json  (AlphaPose keypoints)\n"
            f"  {id_list}   (subject split, from the same site)\n"
            "Or run on the synthetic stand-in: datasets/oumvlp-pose/source: synthetic."
        )
    return {"root": str(root), "keypoints": keypoints, "id_list": str(id_list), "subjects": len(subjects)}


def best_device() -> str:
    """``cuda:0`` where a GPU is visible (a Slurm GPU job sets CUDA_VISIBLE_DEVICES), else ``cpu``."""
    import torch

    return "cuda:0" if torch.cuda.is_available() else "cpu"


def main(argv: list[str] | None = None) -> int:
    from gaitgraph.cli.boundary import guarded

    return guarded("python -m gaitgraph.pipeline", _main, argv, subcommands=("device", "check-oumvlp-pose", "check-gait3d", "check-grew"))


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gaitgraph.pipeline")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("device", help="print the torch device evaluation should use")
    check = sub.add_parser("check-oumvlp-pose", help="check the licensed OUMVLP-Pose copy is in place")
    check.add_argument("--root", required=True)
    check.add_argument("--id-list", required=True)
    check.add_argument("--keypoints", required=True, choices=["openpose", "alphapose"])
    check.add_argument("--output", required=True)
    gait3d = sub.add_parser("check-gait3d", help="check the licensed Gait3D copy is in place")
    gait3d.add_argument("--root", required=True)
    gait3d.add_argument("--split", default=None, help="Gait3D.json (default ROOT/Gait3D.json)")
    grew = sub.add_parser("check-grew", help="check the licensed GREW copy is in place")
    grew.add_argument("--root", required=True)
    for q in (gait3d, grew):
        q.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    if args.command == "device":
        print(best_device())
        return 0
    from gaitgraph.data import gait3d as gait3d_data, grew as grew_data

    check_file_output(args.output)
    if args.command == "check-gait3d":
        summary = gait3d_data.check_release(args.root, args.split)
    elif args.command == "check-grew":
        summary = grew_data.check_release(args.root)
    else:
        summary = check_oumvlp_pose(args.root, args.id_list, args.keypoints)
    write_json(args.output, summary, indent=1)
    if args.command == "check-oumvlp-pose":
        print(f"OUMVLP-Pose {args.keypoints}: {summary['subjects']} subjects under {args.root}")
    else:
        print(f"{args.command.removeprefix('check-')}: " + ", ".join(f"{k} {v}" for k, v in summary.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
