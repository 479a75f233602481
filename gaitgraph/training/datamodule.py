"""``PoseDataModule``: batches of raw pose windows from a converted dataset (``docs/training.md``).

A batch is a dict: ``poses`` (N, L, V, 3) float32 pixel x, y, conf; ``subject`` (N,) int64;
``row`` (N,) int64 = position in the dataset's sequence table (evaluation maps embeddings back to
it). Training batches are augmented in two batched stages (``gaitgraph.transforms.augment``): frame
selection (pad / time flip / random window / shuffle) as index arithmetic, then a gather of only the
needed frames; the value noise in ``on_after_batch_transfer``, on the training device. Which batches
and random numbers is a ``BatchPlan`` (``gaitgraph.training.batch_plan``); ``batches`` chooses who
makes them: the loader's ``collate_fn`` from the memory-mapped ``poses.npy``, or
``gaitgraph.training.device_batches`` on the training device (the default on CUDA), the same batches. Input features (``build_input``) are
the model's job, so the DataModule's ``multi_input``/``multi_branch`` are only checked against it.

Validation (``validation``):
* ``heldout`` (default): a deterministic fraction (``val_subjects: 0.1``) or an explicit list of the
  TRAINING subjects is held out of training; the test split is never looked at during ``fit``.
* ``test-set``: the original GaitGraph2 behaviour (validate, and so select, on the test split).
* ``none``: no validation.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset

from gaitgraph.data.format import load_dataset
from gaitgraph.skeleton import get_skeleton
from gaitgraph.training.batch_plan import BatchPlan, PlannedBatches, PlanSampler, augment_batch, plan_seed
from gaitgraph.training.device_batches import DeviceBatches, resolve_batches
from gaitgraph.transforms.sequence import fill_missing_joints
from gaitgraph.transforms.augment import BatchAugment, PadTable, center_frame_index, gather_frames, train_frame_index


class NonFinitePoseError(ValueError):
    """A batch read NaN/inf poses; the message names the sequence."""


def non_finite_error(data_dir, table: pd.DataFrame, row: int) -> NonFinitePoseError:
    bad = table.iloc[row]
    return NonFinitePoseError(
        f"{data_dir}: NaN or infinite pose values in sequence subject={bad.subject} "
        f"condition={bad.condition} sequence={bad.sequence} view={bad.view} split={bad.split} "
        f"(source {bad.source}); fix or drop it in the converted dataset"
    )


class _Rows(Dataset):
    """Map-style dataset of table rows: item i is the row number; the collate function reads frames."""

    def __init__(self, rows: np.ndarray):
        self.rows = np.asarray(rows, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> int:
        return int(self.rows[i])


class _Collate:
    """Picklable collate function: row numbers -> batch dict. Opens the memmap lazily per process."""

    def __init__(self, data_dir: Path, table: pd.DataFrame, length: int, train: bool, flip_sequence_p: float,
                 shuffle: bool, fill_missing: bool = False):
        self.data_dir = Path(data_dir)
        self.offsets = table["offset"].to_numpy(np.int64)
        self.lengths = table["length"].to_numpy(np.int64)
        self.subjects = table["subject"].to_numpy(np.int64)
        self.table = table
        self.pad = PadTable(length)
        self.train = train
        self.flip_sequence_p = flip_sequence_p
        self.shuffle = shuffle
        self.fill_missing = fill_missing
        self._poses = None

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_poses"] = None  # never pickle the memmap (it would be copied whole)
        return state

    @property
    def poses(self):
        if self._poses is None:
            self._poses = np.load(self.data_dir / "poses.npy", mmap_mode="r", allow_pickle=False)
        return self._poses

    def __call__(self, rows: list[int], generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        rows = np.asarray(rows, dtype=np.int64)
        lengths = torch.from_numpy(self.lengths[rows])
        if self.train:
            index = train_frame_index(lengths, self.pad, self.flip_sequence_p, self.shuffle, generator=generator)
        else:
            index = center_frame_index(lengths, self.pad)
            if self.shuffle:  # test_shuffle_sequence ablation
                index = index.gather(1, torch.rand(index.shape).argsort(dim=1))
        poses = gather_frames(self.poses, self.offsets[rows], index)
        if self.fill_missing:  # the original NormalizeEmpty (OUMVLP, evaluation only); per frame, so after the crop
            poses = fill_missing_joints(poses)
        finite = torch.isfinite(poses).flatten(1).all(dim=1)
        if not bool(finite.all()):
            raise non_finite_error(self.data_dir, self.table, int(rows[int((~finite).nonzero()[0, 0])]))
        return {"poses": poses, "subject": torch.from_numpy(self.subjects[rows]), "row": torch.from_numpy(rows)}


def find_dataset_dir(data_path: str | Path, keypoints: str | None = None) -> Path:
    """``data_path`` itself, or its ``keypoints`` subfolder, whichever holds a converted dataset."""
    root = Path(data_path)
    if (root / "meta.json").is_file():
        return root
    if keypoints and (root / keypoints / "meta.json").is_file():
        return root / keypoints
    subdirs = sorted(p.name for p in root.glob("*") if (p / "meta.json").is_file()) if root.is_dir() else []
    hint = f"; it holds datasets for keypoints: {', '.join(subdirs)} (choose with --data.keypoints)" if subdirs else ""
    raise FileNotFoundError(f"{root}: no converted dataset (meta.json) here" + hint)


def open_dataset(data_path: str | Path, keypoints: str | None = None):
    """The dataset of :func:`find_dataset_dir`, checked (``load_dataset``) and of the ``keypoints`` asked for."""
    ds = load_dataset(find_dataset_dir(data_path, keypoints))
    meta_kp = ds.meta.get("keypoints")
    if keypoints and meta_kp and meta_kp != keypoints:
        raise ValueError(f"{ds.path}: dataset has keypoints {meta_kp!r} but --data.keypoints is {keypoints!r}")
    return ds


class PoseDataModule(pl.LightningDataModule):
    def __init__(
        self,
        data_path: str,
        keypoints: str | None = None,
        batch_size: int = 256,
        sequence_length: int = 60,
        num_workers: int = 0,
        multi_input: bool = True,
        multi_branch: bool = True,
        flip_sequence_p: float = 0.5,
        flip_lr_p: float = 0.5,
        joint_noise: float = 0.1,
        point_noise: float = 0.05,
        random_move: tuple[float, float] = (3.0, 1.0),
        train_shuffle_sequence: bool = False,
        test_shuffle_sequence: bool = False,
        validation: Literal["heldout", "test-set", "none"] = "heldout",
        val_subjects: float | list[int] = 0.1,
        val_seed: int = 0,
        val_batch_size: int | None = None,
        min_length: int = 2,
        predict_split: Literal["test", "train", "all"] = "test",
        fill_missing: bool | None = None,
        test_set: Literal["all", "gaitgraph1"] = "all",
        batches: Literal["auto", "device", "loader"] = "auto",
    ):
        """
        Args:
            data_path: converted dataset directory (``gaitgraph-data convert``), or a directory holding
                one converted dataset per keypoint source (``DIR/openpose``, ``DIR/alphapose``), chosen by
                ``keypoints``.
            keypoints: keypoint source (``hrnet``, ``openpose``, ``alphapose``, ...). Picks the
                sub-directory as above; if given, it must match the dataset's ``meta.json``.
            batch_size: training batch size (per device).
            sequence_length: frames per sample (L): padded / cropped to this length.
            num_workers: DataLoader worker processes (0 = load in the main process).
            multi_input: must equal the model's ``multi_input`` (checked; the model builds the features).
            multi_branch: must equal the model's ``multi_branch`` (checked).
            flip_sequence_p: probability of reversing a training sequence in time.
            flip_lr_p: probability of swapping left/right joint labels (coordinates are not mirrored).
            joint_noise: joint noise magnitude (pixels): U(-a, a) per joint and axis, constant over time.
            point_noise: point noise magnitude: U(-b, b) on x, y and conf per frame and joint.
            random_move: (x, y) magnitudes (pixels) of the per-sequence offset U(-x, x), U(-y, y).
            train_shuffle_sequence: shuffle the frames of training samples (temporal ablation).
            test_shuffle_sequence: shuffle the frames of validation/test samples (temporal ablation).
            validation: ``heldout`` (training subjects held out), ``test-set`` (the original's
                validate-on-test) or ``none``.
            val_subjects: with ``heldout``: fraction of training subjects (drawn with ``val_seed``) or an
                explicit list of subject ids.
            val_seed: seed of the held-out subject draw (independent of the training seed).
            val_batch_size: batch size of validation/test/predict (default: ``batch_size``).
            min_length: training sequences shorter than this are left out (counted in a warning);
                evaluation keeps every sequence (a 1-frame sequence pads to a constant window).
            predict_split: which sequences ``predict`` embeds.
            fill_missing: apply the original ``NormalizeEmpty`` (joints with x == 0 get the frame's mean
                x, y, one joint at a time, and conf 0: ``fill_missing_joints``) to validation/test/predict
                batches; training batches are never filled. ``None``: for ``openpose18`` data, as the
                original does for OUMVLP-Pose and as ``gaitgraph.inference`` does.
            test_set: which validation and test sequences are evaluated (``gaitgraph.evaluation.selection``):
                ``all`` (GaitGraph2) or ``gaitgraph1`` (GaitGraph v1's protocol: sequences of at most
                ``sequence_length`` frames left out, as its dataset class does for every split).
            batches: who makes the training batches: ``device`` (the training sequences held on the
                training device, batches made there: ``gaitgraph.training.device_batches``), ``loader``
                (a DataLoader with ``num_workers``) or ``auto`` (device on CUDA, else loader). Both give the
                same batches for the same seed; evaluation batches always come from a DataLoader.
        """
        super().__init__()
        self.save_hyperparameters()
        self.data_path = data_path
        self.keypoints = keypoints
        self.batch_size = batch_size
        self.sequence_length = sequence_length
        self.num_workers = num_workers
        self.multi_input = multi_input
        self.multi_branch = multi_branch
        self.flip_sequence_p = flip_sequence_p
        self.train_shuffle_sequence = train_shuffle_sequence
        self.test_shuffle_sequence = test_shuffle_sequence
        self.augment_args = dict(flip_lr_p=flip_lr_p, joint_noise=joint_noise, point_noise=point_noise,
                                 random_move=tuple(random_move))
        self.validation = validation
        self.val_subjects = val_subjects
        self.val_seed = val_seed
        self.val_batch_size = val_batch_size or batch_size
        self.min_length = min_length
        self.predict_split = predict_split
        self.fill_missing = fill_missing
        self.test_set = test_set
        self.batches = batches
        self._plan: BatchPlan | None = None
        self._dataset = None
        self._augment = None
        self.rows: dict[str, np.ndarray] = {}

    # ---- dataset --------------------------------------------------------------------------------
    @property
    def dataset_dir(self) -> Path:
        """The converted dataset directory, resolved with ``keypoints``."""
        return find_dataset_dir(self.data_path, self.keypoints)

    @property
    def dataset(self):
        if self._dataset is None:
            self._dataset = open_dataset(self.data_path, self.keypoints)
        return self._dataset

    @property
    def skeleton(self) -> str:
        """Skeleton layout name of the dataset (linked to the model's ``skeleton`` by the CLI)."""
        return self.dataset.skeleton.name

    @property
    def dataset_name(self) -> str:
        return str(self.dataset.meta.get("dataset", "custom"))

    @property
    def sequences(self) -> pd.DataFrame:
        return self.dataset.sequences

    # ---- splits ---------------------------------------------------------------------------------
    def heldout_subjects(self) -> np.ndarray:
        """Training subjects held out for validation (deterministic in ``val_seed``)."""
        seq = self.sequences
        train_subj = np.unique(seq.loc[seq["split"] == "train", "subject"].to_numpy(np.int64))
        if isinstance(self.val_subjects, (list, tuple)):
            chosen = np.asarray(sorted(set(int(s) for s in self.val_subjects)), dtype=np.int64)
            unknown = np.setdiff1d(chosen, train_subj)
            if len(unknown):
                raise ValueError(f"val_subjects {unknown.tolist()} are not training subjects of {self.dataset_dir}")
            return chosen
        frac = float(self.val_subjects)
        if not 0 < frac < 1:
            raise ValueError(f"val_subjects as a fraction must be in (0, 1), got {frac}")
        n = max(1, math.ceil(frac * len(train_subj)))
        if len(train_subj) >= 4:  # rank-1 among a single identity is always 100 %: hold out two at least
            n = max(n, 2)
        if n >= len(train_subj):
            raise ValueError(f"val_subjects={frac} would hold out all {len(train_subj)} training subjects")
        rng = np.random.default_rng(self.val_seed)
        return np.sort(rng.choice(train_subj, size=n, replace=False))

    def setup(self, stage: str | None = None) -> None:
        seq = self.sequences
        split = seq["split"].to_numpy().astype(str)
        subj = seq["subject"].to_numpy(np.int64)
        lengths = seq["length"].to_numpy(np.int64)
        train = split == "train"
        test = split == "test"
        if self.validation == "heldout":
            val = train & np.isin(subj, self.heldout_subjects())
            train = train & ~val
        elif self.validation == "test-set":
            val = test.copy()
        else:
            val = np.zeros(len(seq), bool)
        short = train & (lengths < self.min_length)
        if short.any():
            pl.utilities.rank_zero_warn(
                f"{int(short.sum())} training sequences shorter than min_length={self.min_length} frames left out"
            )
        train &= ~short
        kept = self.test_selection().keep(lengths)  # the test-set protocol (validation follows it too)
        val &= kept
        self.num_test_total = int(test.sum())
        test = test & kept
        self.rows = {
            "train": np.flatnonzero(train),
            "val": np.flatnonzero(val),
            "test": np.flatnonzero(test),
            "predict": {"test": np.flatnonzero(test), "train": np.flatnonzero(split == "train"),
                        "all": np.arange(len(seq))}[self.predict_split],
        }
        if stage in ("fit", None) and len(self.rows["train"]) == 0:
            raise ValueError(f"{self.dataset_dir}: no training sequences")
        self._augment = BatchAugment(self.dataset.skeleton, **self.augment_args)

    def test_selection(self):
        """The ``test_set`` protocol as a ``gaitgraph.evaluation.selection.Selection``."""
        from gaitgraph.evaluation.selection import selection

        return selection(self.test_set, self.sequence_length)

    def test_set_record(self) -> dict:
        """``metrics.json``'s ``test_set`` entry for the test loader (after ``setup``)."""
        return self.test_selection().record(self.num_test_total, len(self.rows["test"]))

    def subset(self, name: str) -> pd.DataFrame:
        """Sequence-table rows of a loader (``train``, ``val``, ``test``, ``predict``), in loader order."""
        return self.sequences.iloc[self.rows[name]]

    # ---- loaders --------------------------------------------------------------------------------
    def _loader(self, name: str, train: bool) -> DataLoader:
        shuffle_frames = self.train_shuffle_sequence if train else self.test_shuffle_sequence
        fill = self.fill_missing if self.fill_missing is not None else self.dataset.skeleton.name == "openpose18"
        collate = _Collate(self.dataset.path, self.sequences, self.sequence_length, train,
                           self.flip_sequence_p, shuffle_frames, fill_missing=fill and not train)
        return DataLoader(
            _Rows(self.rows[name]),
            batch_size=self.batch_size if train else self.val_batch_size,
            shuffle=train,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            collate_fn=collate,
        )

    def train_dataloader(self):
        trainer = self.trainer
        rank, world = (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)
        device = trainer.strategy.root_device if trainer is not None else torch.device("cpu")
        self._plan = plan = BatchPlan(self.rows["train"], self.batch_size, plan_seed(world), rank, world)
        if resolve_batches(self.batches, device) == "device":
            bad_row = lambda row: non_finite_error(self.dataset.path, self.sequences, row)  # noqa: E731
            return DeviceBatches(plan, self.dataset, self.sequence_length, self.flip_sequence_p,
                                 self.train_shuffle_sequence, device, bad_row)
        collate = _Collate(self.dataset.path, self.sequences, self.sequence_length, True, self.flip_sequence_p,
                           self.train_shuffle_sequence)
        return DataLoader(PlannedBatches(plan, collate), sampler=PlanSampler(plan), batch_size=None,
                          num_workers=self.num_workers, persistent_workers=self.num_workers > 0)

    def val_dataloader(self):
        return self._loader("val", False) if len(self.rows.get("val", ())) else []

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader("predict", False)

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        # value augmentations on the training device, training batches only
        trainer = self.trainer
        if trainer is not None and trainer.training and self._augment is not None:
            batch = augment_batch(batch, self._augment, self._plan)
        return batch

    def check_model(self, skeleton: str, multi_input: bool, multi_branch: bool) -> None:
        """Clear errors for a model that does not fit this data (the original's crash, issue #6/#16)."""
        data_skel = self.dataset.skeleton.name
        if get_skeleton(skeleton).name != data_skel:
            raise ValueError(
                f"model skeleton {skeleton!r} but dataset {self.dataset_dir} has {data_skel!r} "
                f"({self.dataset.skeleton.num_joints} joints); use a model trained on {data_skel} data"
            )
        if (bool(multi_input), bool(multi_branch)) != (bool(self.multi_input), bool(self.multi_branch)):
            raise ValueError(
                f"model multi_input/multi_branch = {multi_input}/{multi_branch} but data has "
                f"{self.multi_input}/{self.multi_branch}; set both the same (--model.* and --data.*)"
            )
