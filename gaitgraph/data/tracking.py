"""Split multi-person pose detections into per-person tracks (numpy only).

Two ways, chosen by the importer:

* **track ids given** (AlphaPose ``idx`` with ``--pose_track``, OpenPose ``person_id`` with tracking):
  detections with the same id form one track (:func:`tracks_from_ids`);
* **temporal continuity** otherwise (:func:`track_by_continuity`): frame by frame, every detection is
  matched to a live track by the distance between the detection's body centre and the track's
  predicted centre (last centre + velocity x elapsed frames), measured in body sizes, plus the
  change of body size (``|log(s / s_track)|``, so a near and a far walker crossing each other are
  told apart). Pairs costlier than ``gate`` are never matched; a track that has not been seen for
  more than ``max_gap`` frames is closed. Matching is greedy, cheapest pair first, in two rounds:
  established tracks (seen in at least two frames) pick first, so a stray duplicate detection
  cannot steal a walker's track. With a handful of people per frame greedy matching gives the same
  result as an optimal (Hungarian) assignment in all but contrived cases, without scipy.

Both return one track label per detection (0..K-1, numbered in order of first appearance).
:func:`select_tracks` then drops one-frame and short tracks and counts what it drops.
"""

from __future__ import annotations

import numpy as np

from gaitgraph.data.errors import SkipCounter

MAX_GAP = 10  # frames a walker may go undetected and keep its track
GATE = 1.0  # largest matching cost: centre displacement in body sizes + |log size ratio|


def visible(poses: np.ndarray) -> np.ndarray:
    """(..., V, 3) -> (..., V) joints that were detected (pose estimators write (0, 0, 0) otherwise)."""
    return (poses[..., 2] > 0) & ((poses[..., 0] != 0) | (poses[..., 1] != 0))


def body_centre_scale(poses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, V, 3) -> centres (N, 2): mean of the visible joints, scales (N,): the larger side of their box.

    Detections without any visible joint get a NaN centre (callers remove them beforehand).
    """
    vis = visible(poses)
    n = vis.sum(axis=1)
    xy = poses[..., :2].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (xy * vis[..., None]).sum(axis=1) / n[:, None]
    lo = np.where(vis[..., None], xy, np.inf).min(axis=1)
    hi = np.where(vis[..., None], xy, -np.inf).max(axis=1)
    extent = np.where(n[:, None] > 0, hi - lo, 0.0)
    return centre, np.maximum(extent.max(axis=1), 1.0)


def tracks_from_ids(ids) -> np.ndarray:
    """Given track ids (any hashable values) -> labels 0..K-1 in order of first appearance."""
    ids = np.asarray(ids)
    _, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.ravel()]


def _greedy(cost: np.ndarray, rows: np.ndarray, gate: float) -> list[tuple[int, int]]:
    """Cheapest-first matching of the given ``rows`` of ``cost`` (modified in place)."""
    pairs = []
    sub = cost[rows]
    while sub.size:
        flat = int(np.argmin(sub))
        r, c = divmod(flat, sub.shape[1])
        if not sub[r, c] <= gate:
            break
        pairs.append((int(rows[r]), c))
        sub[r, :] = np.inf
        sub[:, c] = np.inf
        cost[:, c] = np.inf
    return pairs


def track_by_continuity(frames: np.ndarray, poses: np.ndarray, *, max_gap: int = MAX_GAP,
                        gate: float = GATE) -> np.ndarray:
    """Detections (frame numbers (N,), poses (N, V, 3), any order) -> track label per detection (N,)."""
    frames = np.asarray(frames)
    n = len(frames)
    labels = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return labels
    centres, scales = body_centre_scale(poses)
    order = np.argsort(frames, kind="stable")
    bounds = np.flatnonzero(np.diff(frames[order])) + 1
    # live-track state, one row per track
    last = np.empty(0, dtype=np.int64)  # frame last seen
    pos = np.empty((0, 2))  # centre last seen
    vel = np.empty((0, 2))  # centre change per frame
    size = np.empty(0)
    hits = np.empty(0, dtype=np.int64)
    for dets in np.split(order, bounds):
        f = int(frames[dets[0]])
        live = np.flatnonzero(f - last <= max_gap + 1)
        cost = np.full((len(live), len(dets)), np.inf)
        if len(live):
            dt = (f - last[live])[:, None]
            predicted = pos[live] + vel[live] * dt
            dist = np.linalg.norm(predicted[:, None, :] - centres[dets][None, :, :], axis=2)
            ref = 0.5 * (size[live][:, None] + scales[dets][None, :])
            cost = dist / ref + np.abs(np.log(scales[dets][None, :] / size[live][:, None]))
        established = hits[live] >= 2
        pairs = _greedy(cost, np.flatnonzero(established), gate)
        pairs += _greedy(cost, np.flatnonzero(~established), gate)
        matched = np.zeros(len(dets), dtype=bool)
        for r, c in pairs:
            t, d = live[r], dets[c]
            labels[d] = t
            matched[c] = True
            step = (centres[d] - pos[t]) / (f - last[t])
            vel[t] = step if hits[t] == 1 else 0.5 * (vel[t] + step)
            pos[t], size[t], last[t] = centres[d], scales[d], f
            hits[t] += 1
        new = dets[~matched]
        if len(new):
            labels[new] = np.arange(len(last), len(last) + len(new))
            last = np.concatenate([last, np.full(len(new), f)])
            pos = np.concatenate([pos, centres[new]])
            vel = np.concatenate([vel, np.zeros((len(new), 2))])
            size = np.concatenate([size, scales[new]])
            hits = np.concatenate([hits, np.ones(len(new), dtype=np.int64)])
    return tracks_from_ids(labels)


def select_tracks(labels: np.ndarray, frames: np.ndarray, scores: np.ndarray | None, counter: SkipCounter,
                  *, min_length: int, where: str) -> list[np.ndarray]:
    """Detection indices of every kept track, each sorted by frame.

    Two detections of one track in the same frame (only possible with given ids) keep the higher
    ``score``; tracks of one frame and tracks shorter than ``min_length`` frames are dropped and counted.
    """
    kept = []
    scores = np.zeros(len(labels)) if scores is None else np.asarray(scores, dtype=np.float64)
    order = np.lexsort((-scores, frames, labels))  # by track, then frame, best score first
    for idx in np.split(order, np.flatnonzero(np.diff(labels[order])) + 1) if len(order) else []:
        first = np.ones(len(idx), dtype=bool)
        first[1:] = frames[idx][1:] != frames[idx][:-1]
        counter.add("duplicate detections of one track in a frame (kept the higher score)", int((~first).sum()),
                    [f"{where} frame {frames[i]}" for i in idx[~first][:3]])
        idx = idx[first]
        if len(idx) == 1:
            counter.skip("tracks of one frame", f"{where} frame {frames[idx[0]]}")
        elif len(idx) < min_length:
            counter.skip(f"tracks shorter than {min_length} frames",
                         f"{where} frames {frames[idx[0]]}-{frames[idx[-1]]} ({len(idx)} frames)")
        else:
            kept.append(idx)
    return kept
