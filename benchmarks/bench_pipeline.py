"""Wall time of the embedded default end to end, and of the no-op re-run check.

    python benchmarks/bench_pipeline.py [--cores 2] [--target results/tables.md] [--keep DIR]

Copies the workflow (Snakefile, rules, config, ...) into a fresh temporary folder, runs
``snakemake --cores N TARGET`` there from nothing (synthetic data included), then ``snakemake -n``
on the finished run, and prints one JSON line per measurement with the machine's load (``uptime``),
the date and the core count, since absolute figures mean little without them. Budgets (the issues'
speed targets, not test assertions): embedded default <= 600 s on 2 cores, no-op check <= 3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ("Snakefile", "rules", "workflow_scripts", "config", "envs", "report", "profiles")


def snakemake(workdir: Path, *args: str) -> float:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    start = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "snakemake", "--directory", str(workdir), *args],
                       capture_output=True, text=True, cwd=workdir, env=env)
    elapsed = time.monotonic() - start
    if r.returncode != 0:
        sys.exit(f"snakemake {' '.join(args)} failed ({r.returncode}):\n{r.stderr[-3000:]}")
    return elapsed


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--target", default="results/tables.md")
    p.add_argument("--keep", type=Path, default=None, help="run in this (new) folder and keep it")
    args = p.parse_args(argv)
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="gaitgraph-bench-pipeline-"))
    workdir.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW:
        src = ROOT / name
        (shutil.copytree(src, workdir / name, dirs_exist_ok=True) if src.is_dir() else shutil.copy2(src, workdir / name))
    common = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cores": args.cores,
              "machine_cores": os.cpu_count()}
    try:
        full = snakemake(workdir, "--cores", str(args.cores), args.target)
        load = os.getloadavg()
        print(json.dumps({"measure": "embedded default end to end", "target": args.target, "seconds": round(full, 1),
                          "budget_seconds": 600, "load_1_5_15": [round(x, 2) for x in load], **common}))
        noop = snakemake(workdir, "-n", args.target)
        print(json.dumps({"measure": "no-op re-run check (snakemake -n)", "seconds": round(noop, 2),
                          "budget_seconds": 3, "load_1_5_15": [round(x, 2) for x in os.getloadavg()], **common}))
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
