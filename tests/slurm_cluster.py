"""A one-node Slurm cluster on this machine, for tests/test_slurm.py (and by hand: python tests/slurm_cluster.py).

Debian's Slurm (22.05) without accounting: munged, slurmctld and slurmd as root, no cgroups, two fake
GPUs on /dev/tty0-1 so that GPU jobs (--gpus=1) schedule. The config must be /etc/slurm/slurm.conf:
the Snakemake jobstep strips SLURM_CONF before its inner srun (docs/pipeline.md, "Slurm").
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

PACKAGES = ["slurmctld", "slurmd", "slurm-client", "munge"]
BINARIES = ["slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "munged"]
CONF_DIR = Path("/etc/slurm")
STATE = Path("/var/spool/gaitgraph-test-slurm")
MARKER = "# written by gaitgraph tests/slurm_cluster.py"
MUNGED_PID = Path("/run/munge/munged.pid")
STARTED: list[tuple[str, int]] = []  # (name, pid) of the daemons start() started, for stop()


class Unavailable(RuntimeError):
    """Slurm cannot be set up here (not root, no apt-get); the message says why."""


def _run(cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


def install() -> None:
    """apt-get install the Slurm and munge packages where a binary is missing."""
    if all(shutil.which(b) for b in BINARIES):
        return
    if os.geteuid() != 0:
        raise Unavailable("Slurm is not installed and installing it needs root")
    if not shutil.which("apt-get"):
        raise Unavailable("Slurm is not installed and there is no apt-get to install it")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = _run(["apt-get", "install", "-y", "-qq", *PACKAGES], check=False, env=env)
    if r.returncode != 0:  # stale package lists: update once, then retry
        _run(["apt-get", "update", "-qq"], env=env, timeout=600)
        r = _run(["apt-get", "install", "-y", "-qq", *PACKAGES], check=False, env=env)
    if r.returncode != 0:
        raise Unavailable(f"apt-get install {' '.join(PACKAGES)} failed:\n{r.stdout}\n{r.stderr}")


def node_facts() -> dict:
    """NodeName, CPUs and RealMemory as slurmd itself sees them (`slurmd -C`)."""
    out = _run(["slurmd", "-C"]).stdout.splitlines()[0]
    facts = dict(item.split("=", 1) for item in out.split() if "=" in item)
    return {"name": facts["NodeName"], "cpus": int(facts["CPUs"]), "mem": int(facts["RealMemory"])}


def write_config(gpus: int = 2) -> dict:
    node = node_facts()
    host = socket.gethostname()
    for sub in ("ctld", "d"):
        (STATE / sub).mkdir(parents=True, exist_ok=True)
    CONF_DIR.mkdir(parents=True, exist_ok=True)
    conf = f"""{MARKER}
ClusterName=gaitgraph-test
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
StateSaveLocation={STATE}/ctld
SlurmdSpoolDir={STATE}/d
SlurmctldPidFile={STATE}/slurmctld.pid
SlurmdPidFile={STATE}/slurmd.pid
SlurmctldLogFile={STATE}/slurmctld.log
SlurmdLogFile={STATE}/slurmd.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
MinJobAge=300
GresTypes=gpu
NodeName={node['name']} CPUs={node['cpus']} RealMemory={node['mem']} Gres=gpu:{gpus} State=UNKNOWN
PartitionName=debug Nodes={node['name']} Default=YES MaxTime=INFINITE State=UP
"""
    (CONF_DIR / "slurm.conf").write_text(conf)
    last = gpus - 1
    (CONF_DIR / "gres.conf").write_text(f"{MARKER}\nNodeName={node['name']} Name=gpu File=/dev/tty[0-{last}]\n")
    return node


def _pid_alive(pidfile: Path) -> bool:
    try:
        os.kill(int(pidfile.read_text().strip()), 0)
        return True
    except (OSError, ValueError):
        return False


def running() -> bool:
    return shutil.which("sinfo") is not None and _run(["scontrol", "ping"], check=False).returncode == 0 and (
        "UP" in _run(["scontrol", "ping"], check=False).stdout
    )


def start(timeout: float = 60) -> dict:
    """Install if needed, (re)write the config, start munged, slurmctld, slurmd; wait for an idle node."""
    install()
    conf = CONF_DIR / "slurm.conf"
    if conf.exists() and MARKER not in conf.read_text():
        raise Unavailable(f"{conf} exists and was not written by this helper; not touching a real cluster")
    node = write_config()
    key = Path("/etc/munge/munge.key")
    if not key.exists():
        _run(["mungekey", "--create"] if shutil.which("mungekey") else ["create-munge-key", "-f"])
    Path("/run/munge").mkdir(parents=True, exist_ok=True)
    shutil.chown("/run/munge", "munge", "munge")
    if _run(["munge", "-n"], check=False).returncode != 0:
        _run(["runuser", "-u", "munge", "--", "munged"])
        _remember("munged", MUNGED_PID)
    if not _pid_alive(STATE / "slurmctld.pid"):
        _run(["slurmctld"])
        _remember("slurmctld", STATE / "slurmctld.pid")
    else:
        _run(["scontrol", "reconfigure"], check=False)
    if not _pid_alive(STATE / "slurmd.pid"):
        _run(["slurmd"])
        _remember("slurmd", STATE / "slurmd.pid")
    deadline = time.time() + timeout
    state = ""
    while time.time() < deadline:
        state = _run(["sinfo", "-h", "-N", "-o", "%T"], check=False).stdout.strip()
        if state.startswith(("idle", "mixed", "allocated")):
            return node
        if state.startswith(("down", "drain", "inval", "unknown")):
            _run(["scontrol", "update", f"nodename={node['name']}", "state=resume"], check=False)
        time.sleep(1)
    log = (STATE / "slurmctld.log").read_text()[-2000:] if (STATE / "slurmctld.log").exists() else ""
    raise RuntimeError(f"Slurm node not ready after {timeout} s (state {state!r}); slurmctld.log tail:\n{log}")


def _remember(name: str, pidfile: Path, timeout: float = 10) -> None:
    """Note the pid of a daemon this helper just started (its pid file appears once it has forked)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if _pid_alive(pidfile):
            STARTED.append((name, int(pidfile.read_text().strip())))
            return
        time.sleep(0.1)
    raise RuntimeError(f"{name} started but wrote no pid file {pidfile} within {timeout} s")


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # a zombie (nobody reaps daemons in some containers) is gone too
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def stop(timeout: float = 15) -> list[str]:
    """Stop the daemons that :func:`start` started (slurmd, slurmctld, then munged), never others;
    wait until each is gone (SIGTERM, then SIGKILL after ``timeout``). Returns their names."""
    stopped = []
    while STARTED:
        name, pid = STARTED.pop()
        if _gone(pid):
            continue
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + timeout
        while not _gone(pid) and time.time() < deadline:
            time.sleep(0.1)
        if not _gone(pid):
            os.kill(pid, signal.SIGKILL)
        stopped.append(name)
    return stopped


if __name__ == "__main__":  # by hand: start, show, and leave running (stop it with scontrol shutdown)
    print(start())
    print(_run(["sinfo"]).stdout)
