"""Fault injection (issue 12): ``kill -9`` at random points of convert, normalize, import and training,
and in the middle of the swap itself; then the invariants:

* the old complete output or the new complete output exists (for the two-rename fallback: the old
  one as its complete ``.old`` copy, which the next run restores);
* the rerun succeeds and leaves nothing stale beside the output;
* no worker process outlives a killed parent; a killed training resumes from its last checkpoint.

The kill points are drawn from a seeded generator (set GAITGRAPH_FAULT_SEED to draw others); each
failure message names the point.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gaitgraph.data.synthetic import synthesize_casia_b
from gaitgraph.outputs import MARKER

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
RNG = random.Random(int(os.environ.get("GAITGRAPH_FAULT_SEED", "12")))
KILLS = 4  # random kill points per command

# Runs `gaitgraph-data ARGS` with one step of the swap replaced by a crash (tests only: production code
# has no hooks). POINT: before-exchange / after-exchange / rename1 / rename2 (fallback without exchange).
SWAP_CRASH = r"""
import os, sys
import gaitgraph.outputs as o
point = sys.argv[1]
exchange, rename = o._exchange, os.rename
if point == "before-exchange":
    o._exchange = lambda a, b: os._exit(137)
elif point == "after-exchange":
    o._exchange = lambda a, b: (exchange(a, b), os._exit(137))
else:  # a file system without RENAME_EXCHANGE: die after the first or the second of the two renames
    o._exchange = lambda a, b: False
    calls = []
    def crash_after(a, b):
        rename(a, b)
        calls.append(b)
        if len(calls) == int(point[-1]):
            os._exit(137)
    os.rename = crash_after
from gaitgraph.cli.data import main
sys.exit(main(sys.argv[2:]))
"""

# Runs OUMVLP-Pose conversion in a worker pool even for a small tree (the pool size threshold lowered).
POOL = r"""
import sys
import gaitgraph.data.parallel as parallel
parallel.POOL_MIN_SEQUENCES = 1
from gaitgraph.cli.data import main
sys.exit(main(sys.argv[1:]))
"""


def data_cmd(*args) -> list[str]:
    return [sys.executable, "-m", "gaitgraph.cli.data", *map(str, args)]


def content(folder: Path) -> dict[str, bytes]:
    """The output's files, the marker (which names the command line) left out."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != MARKER}


def siblings(dest: Path) -> list[str]:
    return sorted(p.name for p in dest.parent.iterdir())


def children(pid: int) -> list[int]:
    """Live processes whose parent is ``pid`` (zombies left out)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def kill_after(cmd: list[str], delay: float) -> list[int]:
    """Start ``cmd``, ``kill -9`` it after ``delay`` seconds; return the children it had then."""
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + delay
    kids: list[int] = []
    while time.time() < deadline and proc.poll() is None:
        kids = children(proc.pid) or kids
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return kids


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return r


def assert_old_or_new(dest: Path, old: dict, new: dict, at: str) -> None:
    """The invariant after a crash: ``dest`` holds the old or the new complete output, or (two-rename
    fallback only) ``dest`` is missing and its complete previous content waits as ``.NAME.old-*``."""
    if dest.exists():
        assert content(dest) in (old, new), f"{at}: {dest} is neither the old nor the new output"
        assert json.loads((dest / MARKER).read_text())["files"] == sorted(new if content(dest) == new else old), at
        return
    olds = [p for p in dest.parent.iterdir() if p.name.startswith(f".{dest.name}.old-")]
    assert len(olds) == 1 and content(olds[0]) == old, f"{at}: {dest} is gone and no complete copy is left"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("inputs")
    synthesize_casia_b(d / "old.csv", subjects=1, seed=1, progress=False)
    synthesize_casia_b(d / "new.csv", subjects=2, seed=0, progress=False)
    run(data_cmd("convert", "casia-b", "--input", d / "old.csv", "--output", d / "conv-old", "--quiet"))
    run(data_cmd("convert", "casia-b", "--input", d / "new.csv", "--output", d / "conv-new", "--quiet"))
    for which, rows in (("old", 300), ("new", 500)):  # a few videos: import tracks every one of them
        lines = (d / f"{which}.csv").read_text().splitlines(keepends=True)
        (d / f"imp-{which}.csv").write_text("".join(lines[: rows + 1]))
    return d


COMMANDS = {  # name -> (command writing the old output, the new output) given inputs folder and output
    "convert": lambda d, out, which: ["convert", "casia-b", "--input", d / f"{which}.csv", "--output", out, "--quiet"],
    "normalize": lambda d, out, which: ["normalize", "--input", d / "conv-new", "--output", out, "--quiet",
                                        "--mode", "none" if which == "old" else "center-scale"],
    "import": lambda d, out, which: ["import", "csv", "--input", d / f"imp-{which}.csv", "--output", out, "--quiet"],
}


@pytest.mark.parametrize("name", COMMANDS)
def test_kill_at_random_points_then_rerun(inputs, tmp_path, name):
    make = COMMANDS[name]
    dest = tmp_path / "out"
    run(data_cmd(*make(inputs, tmp_path / "ref", "new")))
    new = content(tmp_path / "ref")
    run(data_cmd(*make(inputs, dest, "old")))
    old = content(dest)
    assert old != new
    start = time.time()
    run(data_cmd(*make(inputs, tmp_path / "timing", "new")))
    whole = time.time() - start
    for delay in sorted(RNG.uniform(0.05, whole) for _ in range(KILLS)):
        kids = kill_after(data_cmd(*make(inputs, dest, "new")), delay)
        assert_old_or_new(dest, old, new, f"{name} killed after {delay:.2f} s of {whole:.2f} s")
        assert not [k for k in kids if alive(k)], f"{name}: processes outlived the killed command"
        old = content(dest) if dest.exists() else old
    run(data_cmd(*make(inputs, dest, "new")))
    assert content(dest) == new
    assert siblings(dest) == sorted(["out", "ref", "timing"]), "stale temporaries left after the rerun"


@pytest.mark.parametrize("point", ["before-exchange", "after-exchange", "rename1", "rename2"])
def test_crash_inside_the_swap(inputs, tmp_path, point):
    dest = tmp_path / "out"
    run(data_cmd(*COMMANDS["convert"](inputs, dest, "old")))
    old = content(dest)
    new = content(inputs / "conv-new")
    args = COMMANDS["convert"](inputs, dest, "new")
    r = subprocess.run([sys.executable, "-c", SWAP_CRASH, point, *map(str, args)], env=ENV, capture_output=True, text=True)
    assert r.returncode == 137, r.stderr[-2000:]
    assert_old_or_new(dest, old, new, f"crash at {point}")
    run(data_cmd(*args))
    assert content(dest) == new and siblings(dest) == ["out"]


def test_workers_die_with_a_killed_conversion(tmp_path):
    from test_data_oumvlp import pose, write_frame, write_id_list

    root = tmp_path / "root"
    for subject in range(1, 25):  # 24 subjects x 4 sequences x 3 frames: work for two workers
        for view in (0, 15, 30, 45):
            for f in range(3):
                write_frame(root / "openpose" / f"{subject:05d}" / f"{view:03d}_00", f, [pose(50 + f)])
    ids = write_id_list(tmp_path / "ID_list.csv", train=tuple(range(1, 13)), test=tuple(range(13, 25)))
    args = ["convert", "oumvlp-pose", "--input", root, "--keypoints", "openpose", "--id-list", ids,
            "--output", tmp_path / "out", "--workers", "2", "--quiet"]
    proc = subprocess.Popen([sys.executable, "-c", POOL, *map(str, args)], env=ENV, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline and len(children(proc.pid)) < 2 and proc.poll() is None:
        time.sleep(0.005)
    workers = children(proc.pid)
    assert proc.poll() is None and len(workers) >= 2, "the worker pool did not start"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 3
    while time.time() < deadline and any(alive(w) for w in workers):
        time.sleep(0.05)
    left = [w for w in workers if alive(w)]
    for w in left:  # do not leave them to the rest of the suite
        os.kill(w, signal.SIGKILL)
    assert not left, "worker processes outlived their parent"
    run([sys.executable, "-c", POOL, *map(str, args)])  # the rerun converts, nothing stale stays beside it
    assert siblings(tmp_path / "out") == ["ID_list.csv", "out", "root"]


@pytest.mark.slow
def test_training_killed_at_random_points_resumes_and_finishes(tiny_dataset, tmp_path):
    import torch

    run_dir = tmp_path / "run"
    epochs, steps = 5, 2
    cmd = [sys.executable, "-m", "gaitgraph.cli.main", "fit", "--data.data_path", str(tiny_dataset),
           "--data.batch_size", "40", "--data.sequence_length", "12", "--data.validation", "none",
           "--trainer.accelerator", "cpu", "--trainer.devices", "1", "--trainer.max_epochs", str(epochs),
           "--trainer.limit_train_batches", str(steps), "--trainer.enable_progress_bar", "false",
           "--trainer.default_root_dir", str(run_dir)]
    last = run_dir / "checkpoints" / "last.ckpt"
    # the first kill once a checkpoint exists (so there is something to resume from), then random ones
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None and not last.exists():
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    step = torch.load(last, map_location="cpu", weights_only=False)["global_step"]
    assert 0 < step < epochs * steps, "the first run was not killed mid-way"
    for delay in sorted(RNG.uniform(1.0, 8.0) for _ in range(2)):
        kill_after(cmd, delay)
        ckpt = torch.load(last, map_location="cpu", weights_only=False)  # always complete: atomic saves
        assert ckpt["global_step"] >= step, f"killed after {delay:.1f} s: the checkpoint went back"
        step = ckpt["global_step"]
    r = run(cmd)
    assert "auto-resume" in r.stdout + r.stderr
    final = torch.load(last, map_location="cpu", weights_only=False)
    assert final["epoch"] == epochs - 1 and final["global_step"] == epochs * steps  # continued, not restarted
    stale = [p.name for p in last.parent.iterdir() if p.name.startswith(".")]
    assert not stale, f"stale checkpoint temporaries: {stale}"
