"""gaitgraph.data.download: retries, atomic writes, SHA-256 recorded on first use and verified after."""

import contextlib
import functools
import hashlib
import http.server
import subprocess
import sys
import threading
import zipfile

import pytest

from gaitgraph.data.download import ChecksumError, DownloadError, download, extract_member, sidecar


@pytest.fixture
def served(tmp_path):
    """A local HTTP server on 127.0.0.1 serving tmp_path/www; yields (www dir, base URL)."""
    www = tmp_path / "www"
    www.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(www))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield www, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _zip_with_csv(path, text="image_name,nose_x\n./001-nm-01-000/000001.jpg,1.0\n"):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("data/casia-b_pose_coco.csv", text)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_first_download_records_hash_and_later_ones_verify(served, tmp_path, capsys):
    www, url = served
    digest = _zip_with_csv(www / "data.zip")
    dest = tmp_path / "res" / "data.zip"

    assert download(f"{url}/data.zip", dest) == digest
    assert sidecar(dest).read_text().split()[0] == digest
    assert "recorded" in capsys.readouterr().out

    # same bytes again: verified against the record
    assert download(f"{url}/data.zip", dest) == digest
    assert "verified" in capsys.readouterr().out

    # upstream changed: the record catches it, the old file stays, no partial file is left
    _zip_with_csv(www / "data.zip", text="changed\n")
    with pytest.raises(ChecksumError) as e:
        download(f"{url}/data.zip", dest)
    assert digest in str(e.value) and e.value.actual in str(e.value)
    assert sha256_file(dest) == digest
    assert {p.name for p in dest.parent.iterdir()} == {"data.zip", "data.zip.sha256"}


def sha256_file(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_configured_hash_mismatch_fails_and_leaves_nothing(served, tmp_path):
    www, url = served
    _zip_with_csv(www / "data.zip")
    dest = tmp_path / "res" / "data.zip"
    wrong = "0" * 64
    with pytest.raises(ChecksumError) as e:
        download(f"{url}/data.zip", dest, sha256=wrong)
    assert wrong in str(e.value) and e.value.actual in str(e.value)
    assert list(dest.parent.iterdir()) == []  # no dest, no partial, no record


def test_configured_hash_match_records_nothing(served, tmp_path):
    www, url = served
    digest = _zip_with_csv(www / "data.zip")
    dest = tmp_path / "data.zip"
    assert download(f"{url}/data.zip", dest, sha256=digest.upper()) == digest
    assert dest.exists() and not sidecar(dest).exists()


def test_retries_then_gives_up(tmp_path):
    # nothing listens on this port: every attempt fails, the error says how often it tried
    with contextlib.closing(__import__("socket").socket()) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    msgs = []
    with pytest.raises(DownloadError, match="after 3 attempts"):
        download(f"http://127.0.0.1:{port}/x.zip", tmp_path / "x.zip", retries=2, backoff=0.01, log=msgs.append)
    assert sum("attempt" in m for m in msgs) == 3
    assert list(tmp_path.iterdir()) == []


def test_file_url_and_extract(tmp_path):
    src = tmp_path / "src.zip"
    _zip_with_csv(src)
    dest = tmp_path / "out" / "data.zip"
    download(src.as_uri(), dest)
    csv = extract_member(dest, "casia-b_pose_coco.csv", tmp_path / "out" / "casia-b_pose_coco.csv")
    assert csv.read_text().startswith("image_name")
    with pytest.raises(DownloadError, match="exactly one member"):
        extract_member(dest, "missing.csv", tmp_path / "out" / "missing.csv")
    assert not (tmp_path / "out" / "missing.csv").exists()


def test_command_line_reports_mismatch(tmp_path):
    src = tmp_path / "src.zip"
    actual = _zip_with_csv(src)
    r = subprocess.run(
        [sys.executable, "-m", "gaitgraph.data.download", src.as_uri(), str(tmp_path / "d.zip"), "--sha256", "1" * 64],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2  # a user's mistake: exit 2 and one line (issue 12)
    assert "1" * 64 in r.stderr and actual in r.stderr and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert not (tmp_path / "d.zip").exists()
