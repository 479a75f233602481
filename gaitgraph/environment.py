"""The software environment of a run: what produced a result, and whether it is the locked one.

* :func:`describe` -- the record every training run and evaluation stores (``environment.json`` in the
  run folder, ``environment`` in checkpoints and ``metrics.json``): Python, the packages that decide
  the numbers, CUDA / cuDNN / GPU when present, and the gaitgraph version and git commit.
* :func:`read_lock` / :func:`compare` -- the installed distributions against a pip lock of
  ``requirements/`` (``gaitgraph env --check``; ``docs/environment.md``).

Standard library only at import time (torch is imported inside :func:`describe` when it is
installed), so the small plot environment can import this module too.
"""

from __future__ import annotations

import platform
import re
import subprocess
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

# the packages whose versions can change a number; recorded in every run's environment
RECORDED_PACKAGES = (
    "torch", "pytorch-lightning", "numpy", "torch-geometric", "pytorch-metric-learning", "pandas", "pyarrow",
)
_REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)(?:\s*\\)?$")
# installed by `python -m venv` itself, never in a lock
BOOTSTRAP = frozenset({"pip"})


def canonical_name(name: str) -> str:
    """PEP 503 name: lower case, runs of ``-``, ``_``, ``.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def source_checkout() -> Path:
    """The folder holding this package (the repository root for an editable install)."""
    return Path(__file__).resolve().parents[1]


def git_commit(root: Path | None = None) -> dict:
    """``{"commit": sha | None, "dirty": bool | None}`` of the checkout the package runs from."""
    root = root or source_checkout()
    if not (root / ".git").exists():
        return {"commit": None, "dirty": None}
    try:
        sha = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": sha or None, "dirty": bool(status.strip())}


def describe() -> dict:
    """The environment record: python, platform, recorded package versions, CUDA/cuDNN/GPU, gaitgraph."""
    record = {
        "python": platform.python_version(),
        "platform": f"{platform.system()}-{platform.machine()}",
        "packages": {name: package_version(name) for name in RECORDED_PACKAGES},
        "cuda": None,
        "cudnn": None,
        "gpu": None,
        "gaitgraph": {"version": package_version("gaitgraph"), **git_commit()},
    }
    if record["packages"]["torch"] is not None:
        import torch

        record["cuda"] = torch.version.cuda
        if torch.backends.cudnn.is_available():
            record["cudnn"] = str(torch.backends.cudnn.version())
        if torch.cuda.is_available():
            record["gpu"] = torch.cuda.get_device_name(0)
    return record


def summary_line(record: dict) -> str:
    """One line for logs and tables: ``gaitgraph 0.1.0 @ 1a2b3c4 · torch 2.13.0+cpu · ...``."""
    g = record.get("gaitgraph") or {}
    commit = (g.get("commit") or "")[:10]
    where = f" @ {commit}{' (modified)' if g.get('dirty') else ''}" if commit else ""
    parts = [f"gaitgraph {g.get('version')}{where}", f"python {record.get('python')}"]
    parts += [f"{name} {v}" for name, v in (record.get("packages") or {}).items() if v]
    parts.append(f"CUDA {record['cuda']}" if record.get("cuda") else "no CUDA")
    if record.get("cudnn"):
        parts.append(f"cuDNN {record['cudnn']}")
    if record.get("gpu"):
        parts.append(record["gpu"])
    return " · ".join(parts)


# --- the lock ------------------------------------------------------------------------------------


class LockError(ValueError):
    """A lock file that cannot be read; the message names the file and the line."""


def read_lock(path: str | Path) -> dict[str, str]:
    """``name -> version`` of every ``name==version`` requirement of a pip lock (hash lines ignored)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise LockError(f"{path}: cannot read the lock ({e.__class__.__name__})") from None
    pins: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith(("#", "--hash")):
            continue
        m = _REQUIREMENT.match(text)
        if not m:
            raise LockError(f"{path}:{number}: not an exact 'name==version' pin: {text[:80]!r}")
        pins[canonical_name(m.group(1))] = m.group(2)
    if not pins:
        raise LockError(f"{path}: no pinned requirements")
    return pins


def default_lock() -> Path:
    """The lock this installation should match: the CPU lock for a ``+cpu`` torch, else the CUDA one."""
    torch = package_version("torch") or ""
    flavour = "cpu" if torch.endswith("+cpu") or not torch else "cuda"
    return source_checkout() / "requirements" / f"lock-{flavour}.txt"


def installed_distributions() -> dict[str, str]:
    return {canonical_name(d.metadata["Name"]): d.version for d in metadata.distributions() if d.metadata["Name"]}


@dataclass
class Drift:
    """Differences between a lock and the installed distributions (``gaitgraph`` itself is not locked)."""

    different: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (installed, locked)
    missing: dict[str, str] = field(default_factory=dict)  # name -> locked version
    extra: dict[str, str] = field(default_factory=dict)  # installed, not in the lock

    def __bool__(self) -> bool:
        """True when the installation does not provide what the lock pins (extras alone are no drift)."""
        return bool(self.different or self.missing)


def compare(lock: dict[str, str], installed: dict[str, str]) -> Drift:
    drift = Drift()
    for name, locked in sorted(lock.items()):
        have = installed.get(name)
        if have is None:
            drift.missing[name] = locked
        elif have != locked:
            drift.different[name] = (have, locked)
    skip = set(lock) | BOOTSTRAP | {"gaitgraph"}
    drift.extra = {n: v for n, v in sorted(installed.items()) if n not in skip}
    return drift
