"""Tracking: per-person tracks from multi-person detections (ids, continuity, short tracks)."""

from __future__ import annotations

import numpy as np
import pytest

from gaitgraph.data.errors import DataError, SkipCounter
from gaitgraph.data.tracking import body_centre_scale, select_tracks, track_by_continuity, tracks_from_ids


def walker(cx, cy, height, joints=17):
    """A stick figure (V, 3) centred at (cx, cy): joints spread over the height, conf 0.9."""
    y = cy + np.linspace(-height / 2, height / 2, joints)
    x = cx + 0.15 * height * np.sin(np.arange(joints))
    return np.stack([x, y, np.full(joints, 0.9)], axis=1)


def crossing_scene(frames=40):
    """Walker A goes right, walker B goes left at a different depth (smaller); they cross at frame 20.

    Detections come in a shuffled order within each frame, so position in the list carries no identity.
    """
    rng = np.random.default_rng(0)
    fr, poses, truth = [], [], []
    for f in range(frames):
        people = [(walker(100 + 10 * f, 200, 120), "A"), (walker(500 - 10 * f, 195, 90), "B")]
        if f == 25:
            people = people[:1]  # B not detected for one frame
        for k in rng.permutation(len(people)):
            fr.append(f)
            poses.append(people[k][0])
            truth.append(people[k][1])
    return np.array(fr), np.stack(poses), np.array(truth)


def test_body_centre_ignores_missing_joints():
    p = walker(50, 80, 40)
    p[3] = 0  # undetected joint at the origin must not pull the centre
    centre, scale = body_centre_scale(p[None])
    vis = np.ones(17, bool)
    vis[3] = False
    np.testing.assert_allclose(centre[0], p[vis, :2].mean(axis=0))
    assert scale[0] == pytest.approx(40.0)


def test_two_walkers_crossing_keep_their_tracks():
    frames, poses, truth = crossing_scene()
    labels = track_by_continuity(frames, poses)
    assert labels.max() + 1 == 2
    for t in range(2):  # every track holds exactly one walker
        assert len(set(truth[labels == t])) == 1
    assert (labels == labels[truth == "A"][0]).sum() == 40
    assert (labels == labels[truth == "B"][0]).sum() == 39


def test_gap_longer_than_max_gap_starts_a_new_track():
    frames = np.array([0, 1, 2, 20, 21])
    poses = np.stack([walker(100 + f, 100, 100) for f in frames])
    assert list(track_by_continuity(frames, poses, max_gap=10)) == [0, 0, 0, 1, 1]
    assert list(track_by_continuity(frames, poses, max_gap=20)) == [0, 0, 0, 0, 0]


def test_far_jump_is_gated():
    frames = np.array([0, 1, 2, 3])
    poses = np.stack([walker(100, 100, 100), walker(102, 100, 100), walker(900, 100, 100), walker(104, 100, 100)])
    assert list(track_by_continuity(frames, poses)) == [0, 0, 1, 0]


def test_duplicate_detection_does_not_steal_the_track():
    # frame 3 has the walker twice (pose NMS miss); the stray copy sits exactly where the walker is in
    # frame 4, yet the established track (seen in 4 frames) picks first and keeps the walker
    frames = np.array([0, 1, 2, 3, 3, 4, 5])
    xs = [100, 105, 110, 116, 119.5, 119.5, 125]
    poses = np.stack([walker(x, 100, 100) for x in xs])
    labels = track_by_continuity(frames, poses)
    assert list(labels) == [0, 0, 0, 0, 1, 0, 0]


def test_tracks_from_ids_in_order_of_appearance():
    assert list(tracks_from_ids([7, 3, 7, 5, 3])) == [0, 1, 0, 2, 1]


def test_select_tracks_counts_one_frame_and_short_tracks():
    labels = np.array([0, 0, 0, 1, 2, 2, 0])
    frames = np.array([0, 1, 2, 5, 3, 4, 2])
    scores = np.array([1, 1, 1, 1, 1, 1, 5.0])
    counter = SkipCounter()
    kept = select_tracks(labels, frames, scores, counter, min_length=3, where="v")
    assert [list(k) for k in kept] == [[0, 1, 6]]  # frame 2 twice: the higher score (row 6) is kept
    assert counter.counts["tracks of one frame"] == 1
    assert counter.counts["tracks shorter than 3 frames"] == 1
    assert counter.counts["duplicate detections of one track in a frame (kept the higher score)"] == 1
    with pytest.raises(DataError, match="tracks of one frame"):
        select_tracks(np.array([0]), np.array([4]), None, SkipCounter(strict=True), min_length=3, where="v")


def test_same_size_walkers_passing_through_each_other():
    # same height, same line: at frame 20 the two bodies coincide; only the velocities tell them apart
    frames = np.repeat(np.arange(40), 2)
    poses = np.stack([walker(x, 200, 100) for f in range(40) for x in (100 + 10 * f, 500 - 10 * f)])
    labels = track_by_continuity(frames, poses)
    assert list(labels) == [0, 1] * 40
