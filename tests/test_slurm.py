"""profiles/slurm against a real (one-node) Slurm cluster started on this machine by tests/slurm_cluster.py.

The test profile is the user's profiles/slurm/config.yaml with only what this cluster needs changed:
no conda (not reachable here), the `debug` partition, squeue for job status and no account (there is
no accounting database), fewer threads (the node has 2 CPUs). The target goes through one GPU
training and one GPU evaluation; the submitted sbatch lines must ask for --gpus=1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import yaml

from test_workflow import ENV, ROOT, copy_workflow

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

TARGET = "results/evaluate/casia-b/hrnet/gaitgraph2/seed0/metrics.json"


@pytest.fixture(scope="module")
def cluster():
    import slurm_cluster

    in_ci = os.environ.get("CI", "").lower() == "true"
    try:
        node = slurm_cluster.start()
    except slurm_cluster.Unavailable as e:
        slurm_cluster.stop()  # what it started before it gave up
        if in_ci:
            raise
        pytest.skip(f"no Slurm cluster: {e}")
    except BaseException:
        slurm_cluster.stop()
        raise
    try:
        yield node
    finally:  # every daemon the fixture started (munged, slurmctld, slurmd), none that ran before
        slurm_cluster.stop()


def test_profile_is_the_users_plus_test_cluster_settings():
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    assert profile["executor"] == "slurm"
    # nothing only this test cluster needs may leak into the user's profile
    assert "slurm-status-command" not in profile and "slurm-no-account" not in profile


def test_pipeline_through_slurm_with_gpu_jobs(cluster, tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    del profile["software-deployment-method"]  # conda-forge is unreachable here: run in this venv
    profile.update({
        "slurm-status-command": "squeue",  # sacct needs accounting, which this cluster has not
        "slurm-no-account": True,
        "slurm-init-seconds-before-status-checks": 2,
        "default-resources": dict(profile["default-resources"], slurm_partition="debug"),
        "set-resources": {rule: dict(res, slurm_partition="debug") for rule, res in profile["set-resources"].items()},
        "set-threads": {"train_model": 2, "evaluate_model": 2},  # the node has 2 CPUs
        "latency-wait": 5,
    })  # fmt: skip
    test_profile = workdir / "profiles" / "slurm-test"
    test_profile.mkdir()
    (test_profile / "config.yaml").write_text(yaml.safe_dump(profile))

    r = subprocess.run(
        [sys.executable, "-m", "snakemake", "--profile", str(test_profile), "--verbose", TARGET],
        cwd=workdir, capture_output=True, text=True, timeout=1500, env=ENV,
    )  # fmt: skip
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-8000:]
    sbatch = [line for line in out.splitlines() if "sbatch" in line and "--comment" in line]
    train = [line for line in sbatch if "rule_train_model" in line or "train_model" in line]
    assert train and all("--gpus=1" in line for line in train), sbatch
    assert all("--gpus" not in line for line in sbatch if "synthesize" in line)
    assert (workdir / TARGET).stat().st_size > 0
    assert (workdir / "results/train/casia-b/hrnet/gaitgraph2/seed0/model.ckpt").exists()
    assert shutil.which("sbatch")
