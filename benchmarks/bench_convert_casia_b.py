"""Benchmark: `gaitgraph-data convert casia-b` on a full-scale CASIA-B pose CSV.

Generates (once, cached) a CSV shaped like the released ``casia-b_pose_coco.csv``: 124 subjects x
110 sequences (nm x6, bg x2, cl x2, 11 views) x 90 frames = 1,227,600 rows of random-walk poses,
about 660 MB. Then runs the conversion in a subprocess twice:

* ``cli``: the whole command line (interpreter start, imports, conversion, writing);
* ``convert``: ``convert_casia_b`` alone, timed inside the subprocess after the imports;

and prints seconds (best of --repeat), rows/s, CPU seconds (user + system, all threads; less
sensitive to other users of a shared machine) and the peak RSS (``getrusage(RUSAGE_CHILDREN)`` in a wrapper).
Finally it checks the converted sequences against a simple reference grouping (pandas + dicts) of a
random sample of sequences.

    nice python benchmarks/bench_convert_casia_b.py [--path /tmp/casia-b_full.csv] [--sample 40] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SUBJECTS, VIEWS, FRAMES = 124, tuple(range(0, 181, 18)), 90
SEQUENCES = [("nm", s) for s in range(1, 7)] + [("bg", 1), ("bg", 2), ("cl", 1), ("cl", 2)]
JOINTS = ("nose left_eye right_eye left_ear right_ear left_shoulder right_shoulder left_elbow right_elbow "
          "left_wrist right_wrist left_hip right_hip left_knee right_knee left_ankle right_ankle").split()


def generate(path: Path, seed: int = 0) -> None:
    """Write the full-scale CSV, vectorised: every value is a fixed-width 'ddd.ddddd' string."""
    rng = np.random.default_rng(seed)
    keys = sorted((s, c, q, v) for s in range(1, SUBJECTS + 1) for c, q in SEQUENCES for v in VIEWS)  # name order
    header = ",".join(["image_name"] + [f"{j}_{c}" for j in JOINTS for c in ("x", "y", "conf")]) + "\n"
    width = 10  # 9 characters + comma
    tmp = path.with_suffix(".part")
    with open(tmp, "wb") as f:
        f.write(header.encode())
        for start in range(0, len(keys), 500):  # 500 sequences = 45,000 rows per chunk
            chunk = keys[start : start + 500]
            n = len(chunk) * FRAMES
            # frame numbers: 90 of 1..100, so there are gaps as in the real file
            frames = np.sort(np.argsort(rng.random((len(chunk), 100)), axis=1)[:, :FRAMES] + 1, axis=1).reshape(-1)
            names = np.array(
                [f"./{s:03d}-{c}-{q:02d}-{v:03d}/".encode() for s, c, q, v in chunk], dtype="S16"
            ).repeat(FRAMES)
            base = rng.uniform([100, 40, 0.6], [220, 200, 0.9], size=(len(chunk), 1, 17, 3))
            walk = np.cumsum(rng.normal(0, [1.0, 0.5, 0.01], size=(len(chunk), FRAMES, 17, 3)), axis=1)
            vals = np.clip(base + walk, 0, [319.99999, 239.99999, 0.99999]).reshape(n, 51)
            fixed = np.round(vals * 1e5).astype(np.int64)  # value = fixed / 1e5, printed as ddd.ddddd
            out = np.empty((n, 26 + 51 * width + 1), dtype=np.uint8)
            out[:, :16] = np.frombuffer(names.tobytes(), np.uint8).reshape(n, 16)
            for k in range(6):
                out[:, 16 + k] = ord("0") + frames // 10 ** (5 - k) % 10
            out[:, 22:26] = np.frombuffer(b".jpg", np.uint8)
            cells = out[:, 26:-1].reshape(n, 51, width)
            cells[:, :, 0] = ord(",")
            for k, p in enumerate((7, 6, 5, None, 4, 3, 2, 1, 0)):
                cells[:, :, 1 + k] = ord(".") if p is None else ord("0") + fixed // 10**p % 10
            out[:, -1] = ord("\n")
            f.write(out.tobytes())
    os.replace(tmp, path)


# A tiny wrapper process runs the measured command, so that RUSAGE_CHILDREN sees only that command.
_WRAPPER = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.run(sys.argv[1:]).returncode\n"
    "r = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print('peak_rss_kib', r.ru_maxrss, 'cpu_s', r.ru_utime + r.ru_stime, file=sys.stderr)\n"
    "sys.exit(rc)\n"
)


def run_child(argv: list[str]) -> tuple[float, int, float, str]:
    """Run a command; return (wall seconds, its peak RSS in bytes, its CPU seconds, its stdout)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _WRAPPER, *argv], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(argv)}\n{proc.stderr}")
    fields = proc.stderr.rsplit("peak_rss_kib", 1)[1].split()
    return wall, int(fields[0]) * 1024, float(fields[2]), proc.stdout


def check_sample(csv: Path, out: Path, sample: int, seed: int = 1) -> None:
    """Compare a random sample of sequences with a plain pandas + dict grouping."""
    import pandas as pd

    from gaitgraph.data.format import load_dataset

    ds = load_dataset(out)
    t = ds.sequences
    assert len(t) == SUBJECTS * len(SEQUENCES) * len(VIEWS), len(t)
    assert len(ds.poses) == len(t) * FRAMES
    picks = np.random.default_rng(seed).choice(len(t), size=sample, replace=False)
    wanted = {f"./{r.subject:03d}-{r.condition}-{r.sequence:02d}-{r.view:03d}": i for i, r in zip(picks, t.iloc[picks].itertuples())}
    ref: dict[str, list] = {k: [] for k in wanted}
    for chunk in pd.read_csv(csv, chunksize=200_000):
        seq = chunk["image_name"].str.slice(0, 15)
        for k, g in chunk[seq.isin(wanted)].groupby(seq[seq.isin(wanted)]):
            ref[k].append(g)
    for k, i in wanted.items():
        g = pd.concat(ref[k])
        frames = g["image_name"].str.slice(16, 22).astype(int).to_numpy()
        order = np.argsort(frames, kind="stable")
        poses = g.iloc[:, 1:].to_numpy(np.float64).astype(np.float32).reshape(-1, 17, 3)[order]
        np.testing.assert_array_equal(ds.frames[t.offset.iloc[i] : t.offset.iloc[i] + t.length.iloc[i]], frames[order])
        np.testing.assert_array_equal(ds.sequence(int(i)), poses, err_msg=k)
    print(f"equality: {sample} random sequences identical to the reference grouping; {len(t)} sequences, {len(ds.poses)} frames")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--path", type=Path, default=Path(tempfile.gettempdir()) / "gaitgraph_bench" / "casia-b_pose_coco.csv")
    ap.add_argument("--sample", type=int, default=40, help="sequences checked against the reference grouping")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each measurement (the best is printed)")
    args = ap.parse_args()
    if not args.path.is_file():
        args.path.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        print(f"generating {args.path} ...", flush=True)
        generate(args.path)
        print(f"  {time.perf_counter() - t0:.1f} s")
    size = args.path.stat().st_size
    rows = SUBJECTS * len(SEQUENCES) * len(VIEWS) * FRAMES
    print(f"input: {args.path} ({size / 1e6:.0f} MB, {rows:,} rows); load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs")

    out = args.path.parent / "converted"
    convert_code = (
        "import sys, time\n"
        "from gaitgraph.data.casia_b import convert_casia_b\n"
        "t0, c0 = time.perf_counter(), time.process_time()\n"
        f"convert_casia_b({str(args.path)!r}, {str(out)!r}, progress=False)\n"
        "print(time.perf_counter() - t0, time.process_time() - c0)\n"
    )
    cli = [sys.executable, "-m", "gaitgraph.cli.data", "convert", "casia-b", "--input", str(args.path), "--output", str(out), "--quiet"]
    for label, argv in (("convert", [sys.executable, "-c", convert_code]), ("cli", cli)):
        best = None
        for _ in range(args.repeat):
            wall, rss, cpu, stdout = run_child(argv)
            if label == "convert":  # timed inside the process, after the imports
                wall, cpu = map(float, stdout.split())
            best = (wall, cpu, rss) if best is None or wall < best[0] else best
        secs, cpu, rss = best
        what = "convert_casia_b() after imports" if label == "convert" else "whole CLI process"
        print(f"{label:8s} {secs:6.2f} s  {rows / secs / 1e6:5.2f} M rows/s  CPU {cpu:5.2f} s  peak RSS {rss / 2**20:6.0f} MiB  ({what})")
    check_sample(args.path, out, args.sample)


if __name__ == "__main__":
    main()
