"""Which method a ``gaitgraph fit | validate | test | predict`` command line trains or tests.

LightningCLI is bound to one LightningModule and one DataModule, so the method must be known before it
parses. It is, in command-line order (the last one wins, as with repeated ``--config``):

* ``--method NAME`` (a registered method, ``gaitgraph.methods``);
* a ``method:`` key in a ``--config`` file or a ``--recipe`` (the packaged full recipes have one; the
  ``config.yaml`` a run saves has one);
* otherwise the method of the ``--ckpt_path`` checkpoint;
* otherwise GaitGraph2.

``--recipe NAME`` is replaced by ``--config`` with the packaged file (``gaitgraph.recipes``).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from gaitgraph.methods import DEFAULT, get_method
from gaitgraph.recipes import recipe_path


def _option(argv: list[str], i: int, name: str) -> tuple[str | None, int]:
    """The value of ``--name VALUE`` or ``--name=VALUE`` at ``argv[i]`` and how many tokens it took."""
    token = argv[i]
    if token == f"--{name}":
        if i + 1 >= len(argv):
            raise ValueError(f"--{name} needs a value")
        return argv[i + 1], 2
    if token.startswith(f"--{name}="):
        return token.split("=", 1)[1], 1
    return None, 0


def _config_method(path: str) -> str | None:
    """The ``method:`` of a config file, if it is a readable YAML mapping that has one (LightningCLI reports
    any other problem with the file itself)."""
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except (OSError, ValueError, yaml.YAMLError):
        return None
    method = doc.get("method") if isinstance(doc, dict) else None
    return str(method) if method is not None else None


def _checkpoint_method(path: str) -> str | None:
    """The registered method of a checkpoint file (its tag, or recognised from its format); None if unreadable."""
    from gaitgraph.checkpoints import CheckpointError, read_checkpoint
    from gaitgraph.methods import method_of

    if not Path(path).is_file():
        return None
    try:
        ckpt, name = read_checkpoint(path, "cpu")
        return method_of(ckpt, name).name
    except (CheckpointError, ValueError, OSError):
        return None  # the CLI's own checks name the problem


def select_method(argv: list[str]) -> tuple[str, list[str]]:
    """``(method name, argv with every --recipe NAME replaced by --config FILE)``; see the module docstring."""
    out: list[str] = []
    method = None
    checkpoint = None
    i = 0
    while i < len(argv):
        recipe, used = _option(argv, i, "recipe")
        if used:
            path = str(recipe_path(recipe))
            out += ["--config", path]
            method = _config_method(path) or method
            i += used
            continue
        for name in ("method", "config", "ckpt_path"):
            value, used = _option(argv, i, name)
            if used:
                break
        if used:
            if name == "method":
                method = get_method(value).name
            elif name == "config":
                method = _config_method(value) or method
            else:
                checkpoint = value
            out += argv[i : i + used]
            i += used
            continue
        out.append(argv[i])
        i += 1
    if method is None and checkpoint:
        method = _checkpoint_method(checkpoint)
    return get_method(method or DEFAULT).name, out
