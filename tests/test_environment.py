"""gaitgraph.environment and ``gaitgraph env``: the run record, reading a lock, drift against it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gaitgraph.cli import env as env_cli
from gaitgraph.environment import LockError, canonical_name, compare, describe, read_lock, summary_line

LOCK = """\
# a lock in the layout `uv pip compile --generate-hashes` writes
numpy==2.4.6 \\
    --hash=sha256:aaaa \\
    --hash=sha256:bbbb
    # via gaitgraph (pyproject.toml)
Typing_Extensions==4.16.0 \\
    --hash=sha256:cccc
torch==2.13.0+cpu \\
    --hash=sha256:dddd
"""


def test_describe_records_the_packages_that_decide_the_numbers():
    record = describe()
    assert record["packages"]["torch"] == torch.__version__
    assert record["packages"]["numpy"] == np.__version__
    assert record["cuda"] == torch.version.cuda
    assert record["gaitgraph"]["version"] and "commit" in record["gaitgraph"]
    line = summary_line(record)
    assert f"torch {torch.__version__}" in line and line.startswith("gaitgraph ")
    json.dumps(record)  # it goes into metrics.json and checkpoints as plain data


def test_read_lock_takes_every_pin_and_names_bad_lines(tmp_path):
    path = tmp_path / "lock.txt"
    path.write_text(LOCK)
    assert read_lock(path) == {"numpy": "2.4.6", "typing-extensions": "4.16.0", "torch": "2.13.0+cpu"}
    path.write_text(LOCK + "scipy>=1.0\n")
    with pytest.raises(LockError, match=r"lock\.txt:10: not an exact"):
        read_lock(path)
    path.write_text("# nothing\n")
    with pytest.raises(LockError, match="no pinned requirements"):
        read_lock(path)


def test_compare_finds_other_versions_and_missing_packages_but_extras_are_no_drift():
    lock = {"numpy": "2.4.6", "torch": "2.13.0+cpu", "typeshed-client": "2.14.0"}
    drift = compare(lock, {"numpy": "2.4.6", "torch": "2.13.0+cpu", "typeshed-client": "2.14.0", "ipython": "9.0"})
    assert not drift and drift.extra == {"ipython": "9.0"}
    drift = compare(lock, {"numpy": "2.4.6", "typeshed-client": "2.15.0", "pip": "26.3", "gaitgraph": "0.1.0"})
    assert drift and drift.different == {"typeshed-client": ("2.15.0", "2.14.0")}
    assert drift.missing == {"torch": "2.13.0+cpu"} and drift.extra == {}


def test_canonical_names():
    assert canonical_name("Typing_Extensions") == canonical_name("typing.extensions") == "typing-extensions"


def test_env_check_reports_drift_with_the_command_that_fixes_it(tmp_path, capsys):
    lock = tmp_path / "lock.txt"
    lock.write_text(f"numpy=={np.__version__}\ntorch==0.0.1\n")
    assert env_cli.main(["--check", "--lock", str(lock)]) == 1
    out, err = capsys.readouterr()
    assert f"torch: installed {torch.__version__}, lock 0.0.1" in out
    assert f"fix it with: pip install -r {lock}" in err and len(err.strip().splitlines()) == 1

    lock.write_text(f"numpy=={np.__version__}\ntorch=={torch.__version__}\n")
    assert env_cli.main(["--check", "--lock", str(lock)]) == 0
    assert "matches" in capsys.readouterr().out


def test_env_check_with_a_missing_or_broken_lock_is_one_line(tmp_path, capsys):
    assert env_cli.main(["--check", "--lock", str(tmp_path / "nope.txt")]) == 2
    assert "no lock file at" in capsys.readouterr().err
    bad = tmp_path / "bad.txt"
    bad.write_text("numpy\n")
    assert env_cli.main(["--check", "--lock", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.txt:1" in err and len(err.strip().splitlines()) == 1


def test_env_prints_the_record(capsys):
    assert env_cli.main(["--json"]) == 0
    assert json.loads(capsys.readouterr().out)["packages"]["torch"] == torch.__version__
