"""tests/slurm_cluster.py's teardown: stop() ends every daemon start() started, and nothing else."""

from __future__ import annotations

import subprocess
import sys

import slurm_cluster


def _daemon() -> subprocess.Popen:
    # a stand-in daemon that ignores nothing: SIGTERM ends it
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)


def test_stop_ends_the_started_daemons_and_no_others(monkeypatch):
    started, other = _daemon(), _daemon()
    try:
        monkeypatch.setattr(slurm_cluster, "STARTED", [("slurmd", started.pid)])
        assert slurm_cluster.stop(timeout=5) == ["slurmd"]
        assert started.wait(timeout=5) is not None  # gone (not only signalled)
        assert other.poll() is None  # not started by the helper: left alone
        assert slurm_cluster.STARTED == [] and slurm_cluster.stop() == []
    finally:
        for p in (started, other):
            p.kill()
            p.wait()


def test_stop_kills_a_daemon_that_ignores_sigterm(monkeypatch):
    stubborn = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                                 "print('ready', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert stubborn.stdout.readline().strip() == "ready"
        monkeypatch.setattr(slurm_cluster, "STARTED", [("munged", stubborn.pid)])
        assert slurm_cluster.stop(timeout=0.5) == ["munged"]
        assert stubborn.wait(timeout=5) == -9
    finally:
        stubborn.kill()
        stubborn.wait()
