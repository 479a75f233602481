"""Which torch device a command runs on (``--device auto|cpu|cuda[:N]``)."""

from __future__ import annotations


class DeviceUnavailable(ValueError):
    """A torch device that exists in general but not on this machine (``cuda`` without a GPU)."""


def resolve_device(name: str | None = "auto") -> str:
    """The torch device a command runs on: ``auto`` (or ``None``) = ``cuda`` where a GPU is visible (a Slurm
    GPU job sets CUDA_VISIBLE_DEVICES), else ``cpu``; any other name must be a torch device that exists here
    (``ValueError`` for a name that is no device, :class:`DeviceUnavailable` for one this machine lacks)."""
    import torch

    if name in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise ValueError(f"--device {name!r} is not a torch device (e.g. auto, cpu, cuda, cuda:1)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise DeviceUnavailable(f"--device {name}: no CUDA device is available here")
    return str(device)
