"""``TwoViewDataModule``: GaitGraph v1's training batches, two independently augmented views per sequence.

A training batch's ``poses`` is (N, 2, L, V, 3): the loader draws two frame selections (time flip + random
window) per sequence, and on the training device each view gets v1's value augmentations
(``gaitgraph.transforms.gaitgraph1_augment``). Validation, test and predict batches are
``PoseDataModule``'s. v1 drops sequences with at most 60 frames (no padding), in training
(``min_length=61``) and in its test set (``test_set="gaitgraph1"``).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from torch.utils.data import DataLoader

from gaitgraph.methods.gaitgraph1 import MIN_LENGTH
from gaitgraph.training.datamodule import PoseDataModule, _Collate, _Rows
from gaitgraph.transforms.augment import gather_frames, train_frame_index
from gaitgraph.transforms.gaitgraph1_augment import GaitGraph1Augment


class _TwoViewCollate(_Collate):
    """Training collate: two independent frame selections (time flip + random window) per sequence ->
    ``poses`` (N, 2, L, V, 3)."""

    def __call__(self, rows: list[int]) -> dict[str, torch.Tensor]:
        if not self.train:
            return super().__call__(rows)
        rows = np.asarray(rows, dtype=np.int64)
        lengths = torch.from_numpy(self.lengths[rows])
        views = [gather_frames(self.poses, self.offsets[rows],
                               train_frame_index(lengths, self.pad, self.flip_sequence_p, self.shuffle))
                 for _ in range(2)]
        poses = torch.stack(views, dim=1)
        if not bool(torch.isfinite(poses).all()):
            return super().__call__(rows.tolist())  # raises the named NonFinitePoseError
        return {"poses": poses, "subject": torch.from_numpy(self.subjects[rows]), "row": torch.from_numpy(rows)}


class TwoViewDataModule(PoseDataModule):
    """``PoseDataModule`` with GaitGraph v1's training batches: two augmented views per sequence.

    Arguments are ``PoseDataModule``'s (the G2 value noise -- ``flip_lr_p``, ``joint_noise``,
    ``point_noise``, ``random_move`` -- defaults to off) plus G1's ``mirror_poses_p``,
    ``point_noise_std``, ``joint_noise_std``. ``min_length`` defaults to 61: the original drops training
    sequences with <= 60 frames. ``multi_input``/``multi_branch`` default to False (one raw branch).
    """

    def __init__(
        self,
        data_path: str,
        keypoints: str | None = None,
        batch_size: int = 128,
        sequence_length: int = 60,
        num_workers: int = 0,
        multi_input: bool = False,
        multi_branch: bool = False,
        flip_sequence_p: float = 0.5,
        mirror_poses_p: float = 0.5,
        point_noise_std: float = 0.05,
        joint_noise_std: float = 0.25,
        flip_lr_p: float = 0.0,
        joint_noise: float = 0.0,
        point_noise: float = 0.0,
        random_move: tuple[float, float] = (0.0, 0.0),
        train_shuffle_sequence: bool = False,
        test_shuffle_sequence: bool = False,
        validation: Literal["heldout", "test-set", "none"] = "heldout",
        val_subjects: float | list[int] = 0.1,
        val_seed: int = 0,
        val_batch_size: int | None = None,
        min_length: int = MIN_LENGTH,
        predict_split: Literal["test", "train", "all"] = "test",
        fill_missing: bool | None = None,
        test_set: Literal["all", "gaitgraph1"] = "gaitgraph1",
    ):
        """
        Args:
            mirror_poses_p: probability of mirroring a view (per frame, ``x' = 2 mean_x - x``).
            point_noise_std: sigma of the Gaussian point noise on x, y and conf (every frame and joint).
            joint_noise_std: sigma of the Gaussian joint noise on x, y (one offset per joint and view).
            min_length: training sequences shorter than this are left out (G1: 61, i.e. drop <= 60).
            test_set: ``gaitgraph1`` (default, v1's protocol: validation/test sequences of at most
                ``sequence_length`` frames left out, as v1's dataset class does) or ``all``.
            Other arguments: see ``PoseDataModule``.
        """
        super().__init__(
            data_path, keypoints=keypoints, batch_size=batch_size, sequence_length=sequence_length,
            num_workers=num_workers, multi_input=multi_input, multi_branch=multi_branch,
            flip_sequence_p=flip_sequence_p, flip_lr_p=flip_lr_p, joint_noise=joint_noise, point_noise=point_noise,
            random_move=random_move, train_shuffle_sequence=train_shuffle_sequence,
            test_shuffle_sequence=test_shuffle_sequence, validation=validation, val_subjects=val_subjects,
            val_seed=val_seed, val_batch_size=val_batch_size, min_length=min_length, predict_split=predict_split,
            fill_missing=fill_missing, test_set=test_set,
        )
        self.two_view_augment = GaitGraph1Augment(mirror_poses_p, point_noise_std, joint_noise_std)

    def train_dataloader(self) -> DataLoader:
        collate = _TwoViewCollate(self.dataset.path, self.sequences, self.sequence_length, True,
                                  self.flip_sequence_p, self.train_shuffle_sequence)
        return DataLoader(_Rows(self.rows["train"]), batch_size=self.batch_size, shuffle=True,
                          num_workers=self.num_workers, persistent_workers=self.num_workers > 0, collate_fn=collate)

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        trainer = self.trainer
        poses = batch["poses"]
        if trainer is not None and trainer.training and poses.ndim == 5:
            n, views = poses.shape[:2]
            flat = poses.flatten(0, 1)
            if self._augment is not None:  # G2 noise, off by default
                flat = self._augment(flat)
            batch["poses"] = self.two_view_augment(flat).unflatten(0, (n, views))
        return batch
