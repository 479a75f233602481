"""Safe outputs: files appear atomically, folders replace only what gaitgraph wrote.

Two rules every command follows (issue 12):

* **never destroy what gaitgraph did not write.** A folder output (a converted dataset, a synthetic
  tree, ...) replaces an existing folder only when that folder carries our marker file ``MARKER``
  (kind, command, the list of files written) and holds nothing else, or is empty, or is a dataset
  of an earlier version (``meta.json`` of format ``gaitgraph-poses``). A non-empty foreign folder, a
  file, the current folder or one of its parents, the home folder, ``/`` and a folder that contains
  one of the command's inputs are refused with :class:`OutputError` before any work is done.
* **old complete or new complete, at every instant.** Everything is written beside the target
  (``.NAME.tmp-HOST-PID-TOKEN``) and swapped in: files by ``os.replace``; folders by Linux's
  ``renameat2(RENAME_EXCHANGE)`` where the file system has it, otherwise by two renames
  (``NAME -> .NAME.old-HOST-PID-TOKEN``, temporary -> ``NAME``). Every write first removes the
  temporaries that killed runs on this host left beside the same target (their process is gone),
  and a folder missing after a killed two-rename swap is restored from its complete ``.old`` copy.

Permissions follow the user's umask (no private ``mkstemp``/``mkdtemp`` modes).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import secrets
import shutil
import socket
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

MARKER = ".gaitgraph-output.json"
LEGACY_DATASET_FILES = frozenset({"meta.json", "poses.npy", "frames.npy", "sequences.parquet"})
# written into folder outputs (at any depth) by those who run our commands: Snakemake's directory() outputs
ALWAYS_ALLOWED = frozenset({".snakemake_timestamp"})


class OutputError(ValueError):
    """An output path the command refuses to write (the message says why and what to do)."""


# ------------------------------------------------------------------------------------ temporaries


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.]", "", socket.gethostname())[:32] or "host"


def temporary_sibling(path: str | os.PathLike, tag: str = "tmp") -> Path:
    """A fresh hidden name beside ``path``: ``.NAME.TAG-HOST-PID-TOKEN`` (+ ``path``'s suffix, so that
    writers that choose the format by extension still can)."""
    path = Path(path)
    return path.parent / f".{path.name}.{tag}-{_host()}-{os.getpid()}-{secrets.token_hex(4)}{path.suffix}"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _stale_siblings(path: Path) -> Iterator[tuple[Path, str]]:
    """Temporaries beside ``path`` whose writer is dead: ``(sibling, "tmp" | "old")``.

    Also the names earlier gaitgraph versions used (``.NAME.tmp-XXXXXXXX`` of ``mkdtemp``,
    ``.NAME.tmp-PID``), which no running version writes any more.
    """
    name = re.escape(path.name)
    ours = re.compile(rf"^\.{name}\.(tmp|old)-(.+)-(\d+)-[0-9a-f]{{8}}(\.[^/]*)?$")
    legacy = re.compile(rf"^\.{name}\.(tmp|old)-(\d+|[A-Za-z0-9_]{{8}})$")
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return
    for entry in entries:
        m = ours.match(entry.name)
        if m:
            if m.group(2) == _host() and not _pid_alive(int(m.group(3))):
                yield Path(entry.path), m.group(1)
            continue
        m = legacy.match(entry.name)
        if m and not (m.group(2).isdigit() and _pid_alive(int(m.group(2)))):
            yield Path(entry.path), m.group(1)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove what killed runs left beside ``path``; restore ``path`` from a complete ``.old`` copy
    when a two-rename swap was killed between its renames. Returns what was removed."""
    path = Path(path)
    removed = []
    for stale, tag in sorted(_stale_siblings(path), key=lambda s: s[1] != "old"):
        if tag == "old" and not os.path.lexists(path):
            os.rename(stale, path)  # the previous complete output, renamed away just before the crash
            continue
        _remove(stale)
        removed.append(stale)
    return removed


def remove_stale_in(folder: str | os.PathLike) -> list[Path]:
    """:func:`remove_stale_temporaries` for every name in ``folder`` that has temporaries beside it
    (e.g. the checkpoints of a run folder, whose names change from epoch to epoch)."""
    folder = Path(folder)
    pattern = re.compile(r"^\.(.+?)\.(tmp|old)-")
    names = {m.group(1) for e in (os.listdir(folder) if folder.is_dir() else []) if (m := pattern.match(e))}
    return [p for n in sorted(names) for p in remove_stale_temporaries(folder / n)]


# ------------------------------------------------------------------------------------ single files


def check_file_output(path: str | os.PathLike, inputs: Iterable[str | os.PathLike] = (), what: str = "--output") -> Path:
    """Refuse an output file path that is a folder, lies under a file, or is one of ``inputs``."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{what} {path} is a folder; give a file name (e.g. {path / 'out'}{path.suffix or ''})")
    for parent in path.absolute().parents:
        if parent.exists() and not parent.is_dir():
            raise OutputError(f"{what} {path}: {parent} is a file, not a folder; choose another path")
    for inp in inputs:
        if inp is not None and Path(inp).exists() and _same(Path(inp), path):
            raise OutputError(f"{what} {path} is also an input of this command; write the result elsewhere")
    return path


def atomic_write(path: str | os.PathLike, data: str | bytes | Callable[[Path], object], *,
                 encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` so that readers see the old or the new complete file, never a part.

    ``data``: text, bytes, or a callback ``write(tmp_path)`` that writes the file (``np.save``,
    ``DataFrame.to_csv``, ``fig.savefig`` ...); the temporary keeps ``path``'s suffix.
    """
    path = check_file_output(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    tmp = temporary_sibling(path)
    try:
        if callable(data):
            data(tmp)
        else:
            with open(tmp, "x", encoding=encoding, newline="") if isinstance(data, str) else open(tmp, "xb") as f:
                f.write(data)
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise
    _fsync(path.parent)
    return path


def write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write(path, text)


def write_json(path: str | os.PathLike, data, *, indent: int | None = 2, **kwargs) -> Path:
    """Strict JSON (a NaN is an error, not an invalid file), indented, written atomically."""
    kwargs.setdefault("allow_nan", False)
    return atomic_write(path, json.dumps(data, indent=indent, **kwargs) + "\n")


def _fsync(path: Path) -> None:
    """Flush ``path`` (file or folder) to disk; ignored where the file system does not support it."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ------------------------------------------------------------------------------------ folders


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def _within(inner: Path, outer: Path) -> bool:
    """Whether ``inner`` is ``outer`` or lies below it (symbolic links resolved)."""
    inner, outer = inner.resolve(), outer.resolve()
    return inner == outer or outer in inner.parents


def _listing(folder: Path) -> set[str]:
    """Relative paths of every file and link below ``folder`` (folders themselves left out)."""
    out = set()
    for root, dirs, files in os.walk(folder):
        rel = Path(root).relative_to(folder)
        out.update(str(rel / f) for f in files)
        out.update(str(rel / d) for d in dirs if os.path.islink(os.path.join(root, d)))
    return {p.removeprefix("./") for p in out}


def read_marker(folder: str | os.PathLike) -> dict | None:
    """The marker of a folder gaitgraph wrote (``kind``, ``command``, ``files``), else None."""
    try:
        doc = json.loads((Path(folder) / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("files"), list) else None


def _expected_files(folder: Path) -> Callable[[str], bool] | None:
    """For a folder gaitgraph wrote: which relative paths belong to it; None for a foreign folder."""
    marker = read_marker(folder)
    if marker is not None:
        files = set(marker["files"]) | {MARKER}
        return files.__contains__
    try:  # a dataset of an earlier version: meta.json names the format
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError):
        meta = None
    if isinstance(meta, dict) and meta.get("format") == "gaitgraph-poses":
        return LEGACY_DATASET_FILES.__contains__
    try:  # a synthetic OUMVLP-Pose tree of an earlier version: its ID_list.csv says so
        head = (folder / "ID_list.csv").read_text(errors="replace")[:1000]
    except OSError:
        head = ""
    if "SYNTHETIC: written by gaitgraph.data.synthetic" in head:
        return lambda p: p == "ID_list.csv" or (p.split("/")[0] in ("openpose", "alphapose") and p.endswith(".json"))
    return None


def check_folder_output(path: str | os.PathLike, inputs: Iterable[str | os.PathLike] = (), what: str = "--output") -> Path:
    """Refuse a folder output that would destroy what gaitgraph did not write (see module doc).

    Returns the path and changes nothing on disk: call it before the work, so that a bad ``--output``
    fails in a second, not after an hour of conversion.
    """
    path = Path(path)
    absolute = path.absolute()
    fix = "choose a new folder name (it is created)"
    if absolute.resolve() in (Path(absolute.anchor), Path.home().resolve()):
        raise OutputError(f"{what} {path} is {'the home folder' if absolute.resolve() != Path('/') else 'the root folder'}; {fix}")
    if _within(Path.cwd(), absolute):
        raise OutputError(f"{what} {path} is the current folder or contains it; {fix}")
    for inp in inputs:
        if inp is not None and _within(Path(inp), absolute):
            how = "is" if Path(inp).resolve() == absolute.resolve() else "contains"
            raise OutputError(f"{what} {path} {how} the input {inp}: replacing it would delete the input; {fix}")
    if path.is_symlink():
        raise OutputError(f"{what} {path} is a symbolic link; give the folder it points to, or {fix}")
    for parent in absolute.parents:
        if parent.exists() and not parent.is_dir():
            raise OutputError(f"{what} {path}: {parent} is a file, not a folder; {fix}")
    if not path.exists():
        return path
    if not path.is_dir():
        raise OutputError(f"{what} {path} is a file, not a folder; {fix}")
    entries = sorted(set(os.listdir(path)) - ALWAYS_ALLOWED)
    if not entries:
        return path
    belongs = _expected_files(path)
    if belongs is None:  # (only the top level is listed: a user's folder may be large)
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise OutputError(f"{what} {path} is a folder gaitgraph did not write (it holds {shown}); nothing was "
                          f"changed; {fix}, or empty or remove that folder yourself")
    present = {p for p in _listing(path) if p.rsplit("/", 1)[-1] not in ALWAYS_ALLOWED}
    foreign = sorted(p for p in present if not belongs(p))
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise OutputError(f"{what} {path} was written by gaitgraph but now also holds other files ({shown}); "
                          f"nothing was changed; move them out of it, or {fix}")
    return path


@contextlib.contextmanager
def folder_output(path: str | os.PathLike, kind: str, *, inputs: Iterable[str | os.PathLike] = (),
                  command: str | None = None) -> Iterator[Path]:
    """Build a folder output in a hidden temporary sibling, then swap it in place of ``path``.

    ``with folder_output(out, "converted dataset", inputs=[csv]) as tmp: write files into tmp``.
    On success the marker (``kind``, ``command``, the files written) is added and the folder swapped
    in (the previous output removed after); on any error the temporary is removed and ``path`` is
    untouched. ``path`` is checked by :func:`check_folder_output` first.
    """
    inputs = [i for i in inputs if i is not None]
    path = check_folder_output(path, inputs)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    path = check_folder_output(path, inputs)  # a restored .old copy must pass too
    tmp = temporary_sibling(path)
    tmp.mkdir()  # mode 0777 & ~umask, unlike mkdtemp's 0700
    try:
        yield tmp
        marker = {"kind": kind, "command": command or _command_line(), "files": sorted(_listing(tmp) - {MARKER})}
        (tmp / MARKER).write_text(json.dumps(marker, indent=1) + "\n")
        _fsync(tmp)
        check_folder_output(path, inputs)  # what is there now (another run may have written meanwhile)
        swap_into_place(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


def _command_line() -> str:
    prog = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    return " ".join([prog, *sys.argv[1:]])[:500]


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):  # glibc before 2.28, or another C library
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):  # file system without exchange
        return False
    raise OSError(err, os.strerror(err), str(b))


def swap_into_place(new: Path, dest: Path) -> None:
    """Put the complete folder ``new`` at ``dest`` and delete what was there, keeping one of the two
    complete at every instant (exchange, or two renames that :func:`remove_stale_temporaries` can undo)."""
    if not os.path.lexists(dest):
        os.rename(new, dest)
    elif _exchange(new, dest):
        _remove(new)  # holds the previous output now
    else:
        old = temporary_sibling(dest, "old")
        os.rename(dest, old)
        os.rename(new, dest)
        _remove(old)
    _fsync(dest.parent)
