"""``PKDataModule``: the batches of GaitTR, GPGait and GaitMixer training, and whole sequences for their evaluation.

* **Training batches** (``gaitgraph.training.pk_sampler.PKSampler``): P identities x K sequences, drawn as
  the references' ``TripletSampler`` / ``BalancedBatchSampler``; an epoch is ``batches_per_epoch`` batches.
  Each sequence gives ``sequence_length`` frames, picked as the method's reference picks them
  (``frames``), as one (N, L) index read with one gather from the memory-mapped poses:

  * ``window`` (GaitTR, FastPoseGait ``fixed_ordered``): a contiguous window, a sequence shorter than L
    repeated whole first (``gaitgraph.transforms.gaittr.window_index``);
  * ``unordered`` (GPGait, ``fixed_unordered``): L distinct frames in random order, with replacement only when
    T < L (``gaitgraph.transforms.gpgait_augment.sample_frame_index``);
  * ``flip_window`` (GaitMixer): time reversal with ``flip_sequence_p``, then a window starting in
    U{0..T-L-1} (``gaitgraph.transforms.gaitmixer.train_frame_index``; needs T >= L: ``min_length``).

  A batch is ``poses`` (N, L, V, 3) raw pixel x, y, conf -- (N, views, L, V, 3) with ``views`` > 1, each view
  its own frame pick (GaitMixer's SupCon option) --, ``subject``, ``label`` (the class index 0..C-1 of the
  subject among the C training identities, for classifier losses) and ``row``. The value augmentations and
  the input features are the LightningModule's, on the training device.
* **Evaluation batches** (validation, test, predict): every sequence whole, ``poses`` a list of (T, V, 3)
  tensors, as the references' test pipelines take them (``gaitgraph.methods.<method>.embed``).

Splits, held-out validation, the test selection and the dataset checks are ``PoseDataModule``'s.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

from gaitgraph.training.datamodule import NonFinitePoseError, PoseDataModule, _Collate, _Rows
from gaitgraph.training.pk_sampler import PKSampler
from gaitgraph.transforms.augment import gather_frames

FRAMES = ("window", "unordered", "flip_window")


def frame_index(frames: str, lengths: torch.Tensor, length: int, flip_sequence_p: float) -> torch.Tensor:
    """(N, L) training frames of sequences with ``lengths`` frames, picked the ``frames`` way (module docstring)."""
    if frames == "window":
        from gaitgraph.transforms.gaittr import window_index

        return window_index(lengths, length)
    if frames == "unordered":
        from gaitgraph.transforms.gpgait_augment import sample_frame_index

        return sample_frame_index(lengths, length)
    if frames == "flip_window":
        from gaitgraph.transforms.gaitmixer import train_frame_index

        return train_frame_index(lengths, length, flip_sequence_p)
    raise ValueError(f"unknown frame sampling {frames!r}; known: {', '.join(FRAMES)}")


class _PKCollate(_Collate):
    """Row numbers -> a batch: training windows (``frames``) or whole sequences (evaluation)."""

    def __init__(self, data_dir: Path, table: pd.DataFrame, length: int, train: bool, frames: str = "window",
                 flip_sequence_p: float = 0.5, views: int = 1, classes: np.ndarray | None = None):
        super().__init__(data_dir, table, length, train, flip_sequence_p, shuffle=False)
        self.frames, self.views = frames, views
        self.classes = np.zeros(0, np.int64) if classes is None else np.asarray(classes, np.int64)

    def __call__(self, rows: list[int]) -> dict:
        rows = np.asarray(rows, dtype=np.int64)
        subject = torch.from_numpy(self.subjects[rows])
        if not self.train:
            seqs = [torch.from_numpy(np.array(self.poses[o : o + n], dtype=np.float32))
                    for o, n in zip(self.offsets[rows], self.lengths[rows])]
            self._check_finite(rows, [bool(torch.isfinite(s).all()) for s in seqs])
            return {"poses": seqs, "subject": subject, "row": torch.from_numpy(rows)}
        lengths = torch.from_numpy(self.lengths[rows])
        picks = [gather_frames(self.poses, self.offsets[rows],
                               frame_index(self.frames, lengths, self.pad.length, self.flip_sequence_p))
                 for _ in range(self.views)]
        poses = picks[0] if self.views == 1 else torch.stack(picks, dim=1)
        self._check_finite(rows, torch.isfinite(poses).flatten(1).all(dim=1).tolist())
        label = torch.from_numpy(np.searchsorted(self.classes, self.subjects[rows]))
        return {"poses": poses, "subject": subject, "label": label, "row": torch.from_numpy(rows)}

    def _check_finite(self, rows: np.ndarray, finite: list[bool]) -> None:
        if all(finite):
            return
        bad = self.table.iloc[int(rows[finite.index(False)])]
        raise NonFinitePoseError(
            f"{self.data_dir}: NaN or infinite pose values in sequence subject={bad.subject} "
            f"condition={bad.condition} sequence={bad.sequence} view={bad.view} split={bad.split} "
            f"(source {bad.source}); fix or drop it in the converted dataset"
        )


class PKDataModule(PoseDataModule):
    """P x K training batches, whole-sequence evaluation batches (see the module docstring)."""

    def __init__(
        self,
        data_path: str,
        keypoints: str | None = None,
        identities: int | None = 4,
        per_identity: int = 64,
        batches_per_epoch: int | None = None,
        sequence_length: int = 60,
        frames: Literal["window", "unordered", "flip_window"] = "window",
        flip_sequence_p: float = 0.5,
        repeat_conditions: dict[str, int] | None = None,
        views: int = 1,
        num_workers: int = 0,
        validation: Literal["heldout", "test-set", "none"] = "heldout",
        val_subjects: float | list[int] = 0.1,
        val_seed: int = 0,
        val_batch_size: int = 64,
        min_length: int = 1,
        predict_split: Literal["test", "train", "all"] = "test",
    ):
        """
        Args:
            data_path: converted dataset directory, or one holding a dataset per keypoint source (``keypoints``).
            keypoints: keypoint source; picks the sub-directory and must match the dataset's ``meta.json``.
            identities: P, identities per training batch (None: every training identity, GaitMixer).
            per_identity: K, sequences per identity and batch.
            batches_per_epoch: training batches per epoch (None: as many as fit into one pass over the data).
            sequence_length: L, frames per training sample (evaluation takes whole sequences).
            frames: how the L frames are picked: ``window`` (GaitTR), ``unordered`` (GPGait), ``flip_window``
                (GaitMixer).
            flip_sequence_p: with ``flip_window``, the probability of reversing a sequence in time.
            repeat_conditions: a condition's sequences count this many times in the draw (GaitMixer: bg and cl 3).
            views: frame picks per training sequence (2: two views for a SupCon loss).
            num_workers: DataLoader worker processes.
            validation: ``heldout`` (training subjects held out), ``test-set`` or ``none``.
            val_subjects: with ``heldout``: fraction of training subjects or an explicit list.
            val_seed: seed of the held-out subject draw.
            val_batch_size: sequences per evaluation batch (each goes whole through the method's test pipeline).
            min_length: training sequences shorter than this are left out (GaitMixer: 61); evaluation keeps
                every sequence, and the method's test pipeline decides (GaitMixer drops T <= 60).
            predict_split: which sequences ``predict`` embeds.
        """
        if frames not in FRAMES:
            raise ValueError(f"unknown frames {frames!r}; known: {', '.join(FRAMES)}")
        if views < 1:
            raise ValueError(f"views must be >= 1, got {views}")
        super().__init__(
            data_path, keypoints=keypoints, batch_size=per_identity * (identities or 1),
            sequence_length=sequence_length, num_workers=num_workers, multi_input=False, multi_branch=False,
            flip_sequence_p=flip_sequence_p, flip_lr_p=0.0, joint_noise=0.0, point_noise=0.0, random_move=(0.0, 0.0),
            validation=validation, val_subjects=val_subjects, val_seed=val_seed, val_batch_size=val_batch_size,
            min_length=min_length, predict_split=predict_split, fill_missing=False, test_set="all",
        )
        self.identities, self.per_identity, self.batches_per_epoch = identities, per_identity, batches_per_epoch
        self.frames, self.views = frames, views
        self.repeat_conditions = dict(repeat_conditions or {})

    @property
    def classes(self) -> np.ndarray:
        """The training identities (after ``setup``), sorted: a batch's ``label`` indexes them."""
        return np.unique(self.sequences["subject"].to_numpy(np.int64)[self.rows["train"]])

    @property
    def num_classes(self) -> int:
        """Number of training identities (the classifier's classes, GPGait)."""
        if "train" not in self.rows:
            self.setup("fit")
        return len(self.classes)

    def train_sampler(self) -> PKSampler:
        """This process's ``PKSampler`` over the training rows (its rank and the world size from the trainer)."""
        table = self.sequences.iloc[self.rows["train"]]
        copies = table["condition"].astype(str).map(self.repeat_conditions).fillna(1).to_numpy(np.int64)
        trainer = self.trainer
        world, rank = (trainer.world_size, trainer.global_rank) if trainer is not None else (1, 0)
        return PKSampler(table["subject"].to_numpy(np.int64), self.identities, self.per_identity, copies=copies,
                         num_batches=self.batches_per_epoch, num_replicas=world, rank=rank,
                         seed=int(os.environ.get("PL_GLOBAL_SEED", 0)))

    def train_dataloader(self) -> DataLoader:
        sampler = self.train_sampler()
        collate = _PKCollate(self.dataset.path, self.sequences, self.sequence_length, True, self.frames,
                             self.flip_sequence_p, self.views, self.classes)
        return DataLoader(_Rows(self.rows["train"]), batch_size=sampler.batch_size // sampler.num_replicas,
                          sampler=sampler, num_workers=self.num_workers, persistent_workers=self.num_workers > 0,
                          collate_fn=collate)

    def _loader(self, name: str, train: bool) -> DataLoader:
        collate = _PKCollate(self.dataset.path, self.sequences, self.sequence_length, False)
        return DataLoader(_Rows(self.rows[name]), batch_size=self.val_batch_size, shuffle=False,
                          num_workers=self.num_workers, persistent_workers=self.num_workers > 0, collate_fn=collate)

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        return batch  # the value augmentations are the method's (its LightningModule's training step)
