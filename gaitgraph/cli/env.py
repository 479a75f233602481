"""``gaitgraph env``: the software environment of this installation, and whether it is the locked one.

    gaitgraph env                 # one line: gaitgraph commit, python, torch, lightning, numpy, CUDA, ...
    gaitgraph env --json          # the record every run stores (environment.json, metrics.json)
    gaitgraph env --check         # installed distributions vs requirements/lock-{cpu,cuda}.txt

``--check`` exits 1 when a locked package is missing or at another version, and says the command that
fixes it; packages installed beside the lock are listed but are no drift. See docs/environment.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gaitgraph.cli.boundary import fail, guarded
from gaitgraph.environment import compare, default_lock, describe, installed_distributions, read_lock, summary_line


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gaitgraph env", description="Show this installation's software environment "
                                "and check it against the pip lock (docs/environment.md).")
    p.add_argument("--check", action="store_true", help="compare the installed packages with the lock; exit 1 on drift")
    p.add_argument("--lock", type=Path, default=None,
                   help="lock file to check against (default: requirements/lock-cpu.txt for a +cpu torch, else lock-cuda.txt)")
    p.add_argument("--json", action="store_true", help="print the environment record as JSON")
    return p


def main(argv: list[str] | None = None) -> int:
    return guarded("gaitgraph env", _main, argv)


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if not args.check:
        record = describe()
        print(json.dumps(record, indent=1) if args.json else summary_line(record))
        return 0
    lock_path = args.lock or default_lock()
    if not lock_path.is_file():
        return fail("gaitgraph env", f"no lock file at {lock_path}; pass --lock FILE")
    lock = read_lock(lock_path)  # a LockError is reported by the boundary
    drift = compare(lock, installed_distributions())
    if drift.extra:
        extras = ", ".join(f"{n} {v}" for n, v in drift.extra.items())
        print(f"note: installed beside the lock (not checked): {extras}")
    if not drift:
        print(f"the installed environment matches {lock_path} ({len(lock)} packages)")
        return 0
    for name, (have, locked) in drift.different.items():
        print(f"  {name}: installed {have}, lock {locked}")
    for name, locked in drift.missing.items():
        print(f"  {name}: not installed, lock {locked}")
    n = len(drift.different) + len(drift.missing)
    print(f"gaitgraph env: the installed environment differs from {lock_path} in {n} package(s); "
          f"fix it with: pip install -r {lock_path}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
