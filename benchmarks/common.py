"""What the benchmark scripts share: the record of the machine a figure comes from, and synthetic datasets.

Imported by the scripts beside it (``python benchmarks/bench_*.py`` puts this folder on the path).
"""

from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from gaitgraph.data.format import load_dataset, write_dataset
from gaitgraph.skeleton import get_skeleton


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(device: str = "cpu") -> dict:
    """Where and when: device name, cores, torch version and threads, load average, local date and time."""
    dev = torch.device(device)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"{cpu_name()} ({os.cpu_count()} cores)"
    return {
        "device": dev.type, "device_name": name, "torch": torch.__version__, "threads": torch.get_num_threads(),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def machine_line(device: str = "cpu") -> str:
    m = machine(device)
    return (f"{m['device_name']}, torch {m['torch']}, {m['threads']} threads, load average {m['load_avg']}, "
            f"{m['date']}")


def synthetic_dataset(path: Path, sequences: int, frames: tuple[int, int] = (40, 120), skeleton: str = "coco17",
                      subjects: int = 74, dataset: str = "casia-b", keypoints: str = "hrnet", seed: int = 0):
    """A converted dataset of random poses (x, y in [0, 300) px, conf in [0, 1)) with the shape of a real one:
    ``sequences`` training sequences of ``frames`` (min, max) frames, ``subjects`` subjects. Returns it opened."""
    rng = np.random.default_rng(seed)
    joints = get_skeleton(skeleton).num_joints
    lengths = rng.integers(frames[0], frames[1] + 1, size=sequences)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    poses = rng.uniform(0, 300, size=(int(lengths.sum()), joints, 3)).astype(np.float32)
    poses[..., 2] = rng.uniform(0, 1, size=poses.shape[:2])
    table = pd.DataFrame(dict(subject=rng.integers(1, subjects + 1, size=sequences), condition="nm", sequence=1,
                              view=0, split="train", offset=offsets, length=lengths, source="bench"))
    write_dataset(path, poses, np.zeros(len(poses), np.int32), table,
                  {"dataset": dataset, "skeleton": skeleton, "keypoints": keypoints, "synthetic": True})
    return load_dataset(path)
