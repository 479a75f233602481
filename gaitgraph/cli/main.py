"""``gaitgraph``: LightningCLI for ``fit | validate | test | predict``, plus ``evaluate``, ``submit``, ``match`` and ``env``.

    gaitgraph fit --recipe gaitgraph2/casia-b --data.data_path DATA --trainer.default_root_dir RUN
    gaitgraph test --recipe gaitgraph2/casia-b --data.data_path DATA --ckpt_path RUN/checkpoints/last.ckpt \
        --model.tta True --model.metrics_path RUN/metrics.json
    gaitgraph fit --recipe gaitgraph2/oumvlp-pose --data.data_path DATA --data.keypoints alphapose
    gaitgraph fit --recipe gaitgraph1/casia-b --data.data_path DATA      # GaitGraph v1 (its recipe names it)
    gaitgraph fit --method gaitgraph1 --config my.yaml ...

The method (``--method``, a recipe's or config's ``method:``, or the checkpoint's) picks the LightningModule
and DataModule from the registry (``gaitgraph.cli.method_selection``); ``--recipe NAME`` is ``--config`` with
a packaged recipe (``gaitgraph.recipes``). The original flags keep working (``--config``, ``--model.tta True``,
``--data.keypoints alphapose``, ``--ckpt_path``); unknown config keys are an error. Beyond plain LightningCLI
(``docs/training.md``):

* run directory ``RUN_DIR = --trainer.default_root_dir``: checkpoints in ``RUN_DIR/checkpoints``
  (``last.ckpt`` every epoch, ``best-*.ckpt`` by ``val_loss``), TensorBoard + CSV logs and the resolved
  ``config.yaml`` in ``RUN_DIR/logs/version_N``, ``RUN_DIR/history.csv`` (one row per epoch),
  ``RUN_DIR/environment.json`` (packages, CUDA, gaitgraph commit; also stored in every checkpoint);
* auto-resume: ``fit`` without ``--ckpt_path`` continues from ``RUN_DIR/checkpoints/last.ckpt`` when
  it exists (``--auto_resume false`` to start over);
* inside a Slurm job, no Lightning auto-requeue (the workflow's retries resume the run).
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import torch

from pytorch_lightning.cli import LightningCLI
from pytorch_lightning.loggers import CSVLogger, TensorBoardLogger
from pytorch_lightning.plugins.environments import ClusterEnvironment, LightningEnvironment, SLURMEnvironment
from pytorch_lightning.utilities import rank_zero_info

from gaitgraph.checkpoints import check_checkpoint_file
from gaitgraph.data.format import DatasetFormatError
from gaitgraph.outputs import OutputError
from gaitgraph.cli.boundary import guarded
from gaitgraph.process_settings import keep_freed_memory
from gaitgraph.training.callbacks import AtomicCheckpoint, EnvironmentRecorder, HistoryWriter
from gaitgraph.cli.method_selection import select_method
from gaitgraph.methods import DEFAULT, get_method, list_methods
from gaitgraph.training.datamodule import open_dataset

SEED = 5318008  # the original's seed_everything_default
OTHER_COMMANDS = {"evaluate": "gaitgraph.cli.evaluate", "submit": "gaitgraph.cli.submit", "match": "gaitgraph.cli.match",
                  "env": "gaitgraph.cli.env"}


def _next_version(log_root: Path) -> int:
    versions = [int(p.name.split("_")[1]) for p in log_root.glob("version_*") if p.name.split("_")[1].isdigit()]
    return max(versions, default=-1) + 1


def slurm_plugins(environ=os.environ) -> list[ClusterEnvironment]:
    """Cluster environment inside a Slurm job: never Lightning's auto-requeue (``snakemake.md`` §6).

    With one Slurm task (Snakemake's ``srun -n1`` jobstep) Lightning launches the ranks itself
    (``LightningEnvironment``); with several tasks, srun launched them (``SLURMEnvironment``).
    """
    if not SLURMEnvironment.detect():
        return []
    if int(environ.get("SLURM_NTASKS", "1")) > 1:
        return [SLURMEnvironment(auto_requeue=False)]
    return [LightningEnvironment()]


class GaitGraphCLI(LightningCLI):
    def __init__(self, method: str, *args, **kwargs):
        self.method = method  # before LightningCLI builds its parsers (add_arguments_to_parser reads it)
        super().__init__(*args, **kwargs)

    def add_arguments_to_parser(self, parser) -> None:
        parser.add_argument("--auto_resume", type=bool, default=True,
                            help="fit: continue from RUN_DIR/checkpoints/last.ckpt when it exists and no --ckpt_path is given")
        trainable = [m for m in list_methods() if get_method(m).trainable]
        parser.add_argument("--method", type=str, default=self.method, choices=trainable,
                            help="the method trained or tested (gaitgraph.methods); chosen before parsing, "
                                 "recorded in config.yaml")
        # the method's DataModule defaults (a recipe or the command line still overrides them)
        parser.set_defaults({f"data.{key}": value for key, value in get_method(self.method).data_defaults.items()})
        parser.link_arguments("data.sequence_length", "model.sequence_length")
        parser.link_arguments("data", "model.skeleton", compute_fn=lambda dm: dm.skeleton, apply_on="instantiate")

    def _parse_ckpt_path(self) -> None:
        """With ``--ckpt_path``, take only the ARCHITECTURE from the checkpoint's hyper-parameters.

        Plain LightningCLI (2.6) replaces the whole model config by the checkpoint's hyper-parameters, which
        would silently drop the original's ``--model.tta True`` and our ``--model.metrics_path``. Here the
        network's shape (``ARCH_KEYS``) comes from the checkpoint, everything else from the command line.
        """
        sub = self.config.get("subcommand")
        if sub:
            chosen = self.config[sub].get("method")
            if chosen is not None and get_method(chosen).name != self.method:
                raise ValueError(f"the configuration says method {chosen!r}, but this command line was bound to "
                                 f"{self.method!r}; give --method {chosen} (or remove method: from the config)")
            self._check_paths(self.config[sub])
        ckpt_path = self.config[sub].get("ckpt_path") if sub else None
        if not ckpt_path or not Path(ckpt_path).is_file():
            return
        try:
            hp = torch.load(ckpt_path, weights_only=True, map_location="cpu").get("hyper_parameters") or {}
        except Exception:  # not loadable without pickle: leave the config alone, loading reports the problem
            return
        arch = {k: hp[k] for k in self.model_class.arch_keys if k in hp}
        if arch:
            self.config = self.parser.parse_object({sub: {"model": arch}}, self.config)

    def _run_dir(self) -> Path:
        trainer_cfg = self.config_init[self.subcommand].get("trainer", {}) if self.subcommand else {}
        return Path(trainer_cfg.get("default_root_dir") or os.getcwd())

    def instantiate_trainer(self, **kwargs):
        run_dir = self._run_dir()
        cfg = self._get(self.config_init, "trainer", default={})
        if cfg.get("logger") in (None, True) and not cfg.get("fast_dev_run"):
            version = _next_version(run_dir / "logs")
            # CSV first: it creates the version directory (and is trainer.log_dir, where config.yaml goes)
            kwargs["logger"] = [CSVLogger(run_dir, name="logs", version=version),
                                TensorBoardLogger(run_dir, name="logs", version=version)]
        callbacks = list(cfg.get("callbacks") or [])
        if self.subcommand == "fit" and cfg.get("enable_checkpointing", True) is not False:
            ckpt_dir = run_dir / "checkpoints"
            # the latest epoch (top_k 1 without monitor: Lightning 2.6 writes last.ckpt only together with one)
            callbacks.append(
                AtomicCheckpoint(dirpath=ckpt_dir, filename="epoch{epoch:03d}", auto_insert_metric_name=False,
                                 save_top_k=1, save_last=True, every_n_epochs=1, save_on_train_epoch_end=True,
                                 enable_version_counter=False))
            if getattr(self.datamodule, "validation", "none") != "none":
                callbacks.append(
                    AtomicCheckpoint(dirpath=ckpt_dir, filename="best-epoch{epoch:03d}-val_loss{val_loss:.4f}",
                                     auto_insert_metric_name=False, monitor="val_loss", mode="min", save_top_k=1))
            callbacks.append(HistoryWriter(run_dir / "history.csv"))
            callbacks.append(EnvironmentRecorder(run_dir / "environment.json"))
        kwargs["callbacks"] = callbacks
        plugins = cfg.get("plugins")
        plugins = [] if plugins is None else list(plugins) if isinstance(plugins, (list, tuple)) else [plugins]
        if not any(isinstance(p, ClusterEnvironment) for p in plugins):
            plugins += slurm_plugins()
        kwargs["plugins"] = plugins or None
        return super().instantiate_trainer(**kwargs)

    def _check_paths(self, cfg) -> None:
        """Right after parsing (before seeding, data loading, Lightning's banner): a data path that does
        not exist and a bad checkpoint (``--ckpt_path``, or ``last.ckpt`` that fit would resume from)
        are one-line errors (issue 12), not tracebacks from deep inside Lightning."""
        data = cfg.get("data", {})
        data_path = data.get("data_path") if hasattr(data, "get") else None
        if data_path and not Path(data_path).exists():
            raise DatasetFormatError(f"--data.data_path {data_path} does not exist; give a dataset folder written by "
                                     "`gaitgraph-data convert` (or normalize/import)")
        if data_path:
            open_dataset(data_path, data.get("keypoints"))  # a damaged or foreign dataset: named here
        path = cfg.get("ckpt_path")
        if path and path not in ("last", "best", "hpc", "registry") and "://" not in str(path):
            check_checkpoint_file(path, "--ckpt_path", "give a checkpoint written by `gaitgraph fit` (or an original one)")
        trainer = cfg.get("trainer", {})
        run_dir = Path((trainer.get("default_root_dir") if hasattr(trainer, "get") else None) or os.getcwd())
        if run_dir.exists() and not run_dir.is_dir():
            raise OutputError(f"--trainer.default_root_dir {run_dir} is a file, not a folder; choose a run folder")
        last = run_dir / "checkpoints" / "last.ckpt"
        if self.config.get("subcommand") == "fit" and not path and cfg.get("auto_resume", True) and last.is_file():
            check_checkpoint_file(last, "last checkpoint (auto-resume)",
                                  "delete it to start the run over, or pass --auto_resume false")

    def before_fit(self) -> None:
        cfg = self.config_init["fit"]
        last = self._run_dir() / "checkpoints" / "last.ckpt"
        if cfg.get("ckpt_path") is None and cfg.get("auto_resume", True) and last.is_file():
            rank_zero_info(f"auto-resume: continuing from {last}")
            cfg["ckpt_path"] = str(last)


def cli(args=None, run: bool = True, method: str = DEFAULT) -> GaitGraphCLI:
    """The LightningCLI object bound to ``method``'s LightningModule and DataModule (``args``: a list of
    strings or a dict, as LightningCLI takes them; the ``gaitgraph`` command chooses ``method`` from the
    command line, :func:`gaitgraph.cli.method_selection.select_method`)."""
    model_class, datamodule_class = get_method(method).lightning_classes()
    return GaitGraphCLI(
        method,
        model_class,
        datamodule_class,
        subclass_mode_model=False,
        subclass_mode_data=False,
        seed_everything_default=SEED,
        save_config_kwargs={"overwrite": True},
        # no prefix abbreviations: `--model.learning_rat` must be an error, not `--model.learning_rate`
        parser_kwargs={"allow_abbrev": False, **{c: {"allow_abbrev": False} for c in ("fit", "validate", "test", "predict")}},
        args=args,
        run=run,
    )


def main(args=None) -> int:
    """``gaitgraph ...``; a user's mistake ends with one line on stderr and status 2 (``gaitgraph.cli.boundary``)."""
    return guarded("gaitgraph", _main, args, subcommands=("fit", "validate", "test", "predict", *OTHER_COMMANDS))


def _main(argv: list[str]) -> int:
    if argv and argv[0] in OTHER_COMMANDS:
        module = OTHER_COMMANDS[argv[0]]
        try:
            sub = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name != module:
                raise
            print(f"gaitgraph {argv[0]}: not available in this installation ({module} is missing)", file=sys.stderr)
            return 2
        return int(sub.main(argv[1:]) or 0)
    keep_freed_memory()  # no page faults for every batch's tensors (gaitgraph/process_settings.py)
    method, argv = select_method(argv)
    # LightningCLI reads sys.argv (given both `args` and a sys.argv it warns; the boundary took --debug out)
    saved = sys.argv
    sys.argv = [saved[0] if saved else "gaitgraph", *argv]
    try:
        cli(None, method=method)
    finally:
        sys.argv = saved
    return 0


if __name__ == "__main__":
    sys.exit(main())
