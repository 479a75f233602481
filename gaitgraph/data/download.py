"""Fetch a file over HTTP(S) or file:// with retries, atomically, verified by SHA-256.

The CASIA-B pose file ships inside the GaitGraph v0.1 release asset ``data.zip``, whose hash is
published nowhere. So the caller passes the expected hash when it knows one; when it does not, the
first download records the hash it saw in a sidecar file (``<dest>.sha256``) and later downloads are
verified against that record (trust on first use). A mismatch removes the partial file and names the
expected and the actual hash.

Nothing is ever left half-written at ``dest``: data goes to a temporary file in the same folder and
is renamed into place only after the hash checks out.

Command line (used by the workflow's ``download_dataset`` rule)::

    python -m gaitgraph.data.download URL DEST [--sha256 HEX] [--retries N] [--extract MEMBER --to FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from gaitgraph.outputs import atomic_write, write_text

CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """The file could not be fetched after all retries."""


class ChecksumError(DownloadError):
    """The fetched file's SHA-256 is not the expected one."""

    def __init__(self, url: str, expected: str, actual: str, source: str):
        self.expected, self.actual = expected, actual
        super().__init__(
            f"SHA-256 mismatch for {url}\n"
            f"  expected: {expected}  ({source})\n"
            f"  actual:   {actual}\n"
            "The partial download was removed. If the upstream file changed on purpose, check it and "
            "update the expected hash (or delete the recorded one)."
        )


def sidecar(dest: str | os.PathLike) -> Path:
    """Where the hash seen on the first download of ``dest`` is recorded."""
    return Path(f"{dest}.sha256")


def sha256_of(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _normalise_hash(value: str | None) -> str | None:
    value = (value or "").strip().lower()
    if not value:
        return None
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ValueError(f"not a SHA-256 hex digest: {value!r}")
    return value


def _read_recorded(dest: Path) -> str | None:
    record = sidecar(dest)
    words = record.read_text().split() if record.exists() else []
    return _normalise_hash(words[0]) if words else None


def _fetch_once(url: str, tmp: Path, timeout: float) -> str:
    """Stream ``url`` into ``tmp``; return the SHA-256 of what was written."""
    h = hashlib.sha256()
    request = urllib.request.Request(url, headers={"User-Agent": "gaitgraph-download"})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(tmp, "wb") as out:
        expected_len = response.headers.get("Content-Length") if hasattr(response, "headers") else None
        n = 0
        for chunk in iter(lambda: response.read(CHUNK), b""):
            out.write(chunk)
            h.update(chunk)
            n += len(chunk)
    if expected_len is not None and expected_len.isdigit() and int(expected_len) != n:
        raise DownloadError(f"truncated download of {url}: got {n} of {expected_len} bytes")
    return h.hexdigest()


def download(
    url: str,
    dest: str | os.PathLike,
    sha256: str | None = None,
    retries: int = 3,
    backoff: float = 2.0,
    timeout: float = 60.0,
    log=print,
) -> str:
    """Download ``url`` to ``dest`` and return its SHA-256.

    ``sha256`` given: the file must match it. Not given: it must match the hash recorded by an
    earlier download (``<dest>.sha256``), and if there is none, the hash seen now is recorded.
    Network errors are retried ``retries`` times with exponential backoff; a checksum mismatch is not
    retried (downloading the same bytes again does not help).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    configured = _normalise_hash(sha256)
    recorded = _read_recorded(dest)
    expected, source = (configured, "configured") if configured else (recorded, f"recorded in {sidecar(dest)}")

    actual = ""

    def fetch(tmp: Path) -> None:
        nonlocal actual
        for attempt in range(retries + 1):
            try:
                log(f"downloading {url} -> {dest} (attempt {attempt + 1}/{retries + 1})")
                actual = _fetch_once(url, tmp, timeout)
                break
            except (urllib.error.URLError, OSError, DownloadError) as e:
                if attempt == retries:
                    raise DownloadError(f"could not download {url} after {retries + 1} attempts: {e}") from e
                wait = backoff * 2**attempt
                log(f"  failed ({e}); retrying in {wait:.0f} s")
                time.sleep(wait)
        if expected and actual != expected:
            raise ChecksumError(url, expected, actual, source)

    atomic_write(dest, fetch)

    if expected:
        log(f"sha256 {actual} verified ({source})")
    else:
        write_text(sidecar(dest), f"{actual}  {dest.name}\n")
        log(
            f"sha256 {actual} recorded in {sidecar(dest)}; later downloads are checked against it. "
            "Put it into the config to pin it."
        )
    return actual


def extract_member(archive: str | os.PathLike, member: str, dest: str | os.PathLike) -> Path:
    """Extract the one file of ``archive`` whose base name is ``member`` to ``dest``, atomically."""
    dest = Path(dest)
    with zipfile.ZipFile(archive) as zf:
        matches = [n for n in zf.namelist() if Path(n).name == member and not n.endswith("/")]
        if len(matches) != 1:
            raise DownloadError(
                f"{archive}: expected exactly one member named {member!r}, found {matches or 'none'}"
            )


        def extract(tmp: Path) -> None:
            with open(tmp, "wb") as out, zf.open(matches[0]) as src:
                for chunk in iter(lambda: src.read(CHUNK), b""):
                    out.write(chunk)

        return atomic_write(dest, extract)


def main(argv: list[str] | None = None) -> int:
    from gaitgraph.cli.boundary import guarded

    return guarded("python -m gaitgraph.data.download", _main, argv)


def _main(argv: list[str] | None) -> int:
    p = argparse.ArgumentParser(prog="python -m gaitgraph.data.download", description=__doc__.split("\n\n")[0])
    p.add_argument("url")
    p.add_argument("dest")
    p.add_argument("--sha256", default="", help="expected SHA-256 (empty: verify against/record <dest>.sha256)")
    p.add_argument("--retries", type=int, default=3)
    p.add_argument("--extract", metavar="MEMBER", help="after the download, extract this zip member ...")
    p.add_argument("--to", metavar="FILE", help="... to this file")
    args = p.parse_args(argv)
    if bool(args.extract) != bool(args.to):
        p.error("--extract and --to go together")
    download(args.url, args.dest, sha256=args.sha256, retries=args.retries)
    if args.extract:
        extract_member(args.dest, args.extract, args.to)
        print(f"extracted {args.extract} -> {args.to}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
