"""gaitgraph.outputs: refused destinations, replacement of our own outputs only, atomic swaps, stale
temporaries, umask (issue 12)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gaitgraph import outputs
from gaitgraph.outputs import (
    MARKER, OutputError, atomic_write, check_file_output, check_folder_output, folder_output, remove_stale_temporaries,
    temporary_sibling, write_json,
)


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (hidden ones too) with its content."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def write_ours(dest: Path, text: str = "new", inputs=()) -> Path:
    with folder_output(dest, "test output", inputs=inputs, command="test") as tmp:
        (tmp / "a.txt").write_text(text)
        (tmp / "sub").mkdir()
        (tmp / "sub" / "b.txt").write_text(text)
    return dest


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def stale_name(dest: Path, tag: str = "tmp", pid: int | None = None) -> Path:
    """A temporary beside ``dest`` as a killed run would have left it."""
    live = temporary_sibling(dest, tag).name
    return dest.parent / live.replace(f"-{os.getpid()}-", f"-{pid or dead_pid()}-")


# ----------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("case", ["user files", "file", "input inside", "input equal", "symlink"])
def test_foreign_destinations_are_refused_and_untouched(tmp_path, case):
    dest = tmp_path / "out"
    inputs = []
    if case == "user files":
        (dest / "thesis").mkdir(parents=True)
        (dest / "thesis" / "chapter1.tex").write_text("years of work")
    elif case == "file":
        dest.write_text("a file")
    elif case == "input inside":
        dest.mkdir()
        (dest / "poses.csv").write_text("x")
        inputs = [dest / "poses.csv"]
    elif case == "input equal":
        write_ours(dest)
        inputs = [dest]
    else:
        (tmp_path / "real").mkdir()
        dest.symlink_to(tmp_path / "real")
    before = tree(tmp_path)
    with pytest.raises(OutputError, match="out"):
        write_ours(dest, inputs=inputs)
    assert tree(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({"out", "real"} & {p.name for p in tmp_path.iterdir()})


def test_current_folder_its_parents_home_and_root_are_refused(tmp_path, monkeypatch):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    for dest in (".", "..", str(tmp_path), "/", os.path.expanduser("~")):
        with pytest.raises(OutputError):
            check_folder_output(dest)
    check_folder_output("new")  # a new folder below is fine


def test_our_own_output_is_replaced_and_gets_a_marker(tmp_path):
    dest = write_ours(tmp_path / "out", "old")
    marker = json.loads((dest / MARKER).read_text())
    assert marker == {"kind": "test output", "command": "test", "files": ["a.txt", "sub/b.txt"]}
    write_ours(dest, "new")
    assert (dest / "a.txt").read_text() == "new" and (dest / "sub" / "b.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporaries left


def test_our_output_with_a_users_file_added_is_refused(tmp_path):
    dest = write_ours(tmp_path / "out", "old")
    (dest / "sub" / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="notes.txt"):
        write_ours(dest)
    assert (dest / "sub" / "notes.txt").read_text() == "mine" and (dest / "a.txt").read_text() == "old"


def test_empty_folder_legacy_dataset_and_snakemake_timestamp_are_replaceable(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    write_ours(empty)
    legacy = tmp_path / "legacy"  # a dataset of an earlier version: no marker, meta.json says the format
    legacy.mkdir()
    (legacy / "meta.json").write_text(json.dumps({"format": "gaitgraph-poses", "version": 1}))
    for name in ("poses.npy", "frames.npy", "sequences.parquet", ".snakemake_timestamp"):
        (legacy / name).write_bytes(b"x")
    write_ours(legacy)
    assert (legacy / MARKER).is_file() and not (legacy / "poses.npy").exists()
    (legacy / "extra.txt").write_text("x")  # ... but not with a file of the user's
    (legacy / MARKER).unlink()
    with pytest.raises(OutputError):
        write_ours(legacy)


def test_check_file_output(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="is a folder"):
        check_file_output(tmp_path / "d")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_file_output(tmp_path / "f" / "out.csv")
    with pytest.raises(OutputError, match="also an input"):
        check_file_output(tmp_path / "f", inputs=[tmp_path / "f"])
    assert check_file_output(tmp_path / "new" / "out.csv") == tmp_path / "new" / "out.csv"


# ----------------------------------------------------------------------------------- atomicity


def test_failed_writes_leave_the_old_output_and_no_temporaries(tmp_path):
    dest = write_ours(tmp_path / "out", "old")
    with pytest.raises(RuntimeError), folder_output(dest, "test output") as tmp:
        (tmp / "a.txt").write_text("half")
        raise RuntimeError("disk full")
    f = atomic_write(tmp_path / "f.txt", "old")

    def broken(path):
        Path(path).write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(f, broken)
    assert (dest / "a.txt").read_text() == "old" and f.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt", "out"]


def test_swap_without_exchange_uses_two_renames(tmp_path, monkeypatch):
    monkeypatch.setattr(outputs, "_exchange", lambda a, b: False)  # a file system without RENAME_EXCHANGE
    dest = write_ours(tmp_path / "out", "old")
    write_ours(dest, "new")
    assert (dest / "a.txt").read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_exchange_swaps_two_folders(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    if not outputs._exchange(a, b):
        pytest.skip("this file system has no renameat2(RENAME_EXCHANGE)")
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


def test_stale_temporaries_of_dead_runs_are_removed_live_ones_kept(tmp_path):
    dest = write_ours(tmp_path / "out", "old")
    stale = [stale_name(dest), stale_name(dest, "old"), tmp_path / ".out.tmp-abc123_x"]  # the last: old mkdtemp name
    for s in stale:
        s.mkdir()
        (s / "poses.npy").write_bytes(b"partial")
    live = temporary_sibling(dest)  # this process is alive: another run in progress
    live.mkdir()
    other = tmp_path / ".out.tmp-otherhost-1-0123abcd"  # another machine's run on a shared file system
    other.mkdir()
    removed = remove_stale_temporaries(dest)
    assert sorted(removed) == sorted(stale)
    assert live.is_dir() and other.is_dir() and (dest / "a.txt").read_text() == "old"


def test_a_killed_two_rename_swap_is_recovered(tmp_path):
    dest = write_ours(tmp_path / "out", "old")
    old = stale_name(dest, "old")
    dest.rename(old)  # killed between "dest -> .old" and "tmp -> dest"
    new = stale_name(dest, "tmp")
    new.mkdir()
    remove_stale_temporaries(dest)
    assert (dest / "a.txt").read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# ----------------------------------------------------------------------------------- permissions


def test_outputs_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        dest = write_ours(tmp_path / "out")
        f = write_json(tmp_path / "m.json", {"a": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o755
    assert stat.S_IMODE((dest / "a.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE(f.stat().st_mode) == 0o644
