"""A 3-D stick-figure walker and its weak-perspective projection, for the synthetic datasets.

The walker is a kinematic model, not a physical one: every joint follows a simple periodic function
of the gait phase. It exists so that the synthetic datasets (:mod:`gaitgraph.data.synthetic`) carry
an identity signal that a gait model can learn (body proportions, stride, cadence, arm swing,
posture, sway) while views, walks, carrying conditions and detector noise change the 2-D poses.

Coordinates
-----------
Body frame (metres): ``a`` forward along the walking direction, ``b`` to the walker's left, ``c`` up
from the ground; the origin is the point on the ground below the pelvis centre at rest.

Camera: ``X`` to the image right, ``Y`` up, ``Z`` away from the camera (depth). A view angle
``theta`` is the angle between the walking direction and the camera's line of sight, as in CASIA-B:
0 = walking towards the camera, 90 = walking across the image (from left to right, the camera sees
the walker's right side), 180 = walking away. The image ``v`` axis grows downwards.

Parameters are drawn per subject from :data:`SUBJECT_PARAMS` (lengths in units of body height) and
varied a little per walk with :data:`WALK_JITTER`; conditions (bag, coat) change the arm parameters
(:func:`apply_condition`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Points the walker produces; both COCO-17 and OpenPose-18 joints are picked from these by name.
JOINTS: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "neck",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)
_J = {name: i for i, name in enumerate(JOINTS)}

# name -> (mean, between-subject sd, low, high, meaning). Lengths x body height, angles in degrees.
SUBJECT_PARAMS: dict[str, tuple[float, float, float, float, str]] = {
    "height": (1.70, 0.08, 1.50, 1.95, "body height [m]"),
    "thigh": (0.245, 0.010, 0.21, 0.28, "hip to knee"),
    "shank": (0.246, 0.010, 0.21, 0.28, "knee to ankle"),
    "ankle_height": (0.039, 0.003, 0.03, 0.05, "ankle joint above the ground"),
    "torso": (0.288, 0.012, 0.25, 0.33, "hip centre to shoulder centre"),
    "head": (0.090, 0.006, 0.07, 0.11, "shoulder centre to nose, vertical"),
    "head_forward": (0.040, 0.012, 0.0, 0.08, "nose ahead of the shoulder centre"),
    "upper_arm": (0.186, 0.008, 0.16, 0.21, "shoulder to elbow"),
    "forearm": (0.146, 0.007, 0.12, 0.17, "elbow to wrist"),
    "shoulder_width": (0.225, 0.012, 0.19, 0.26, "between the shoulder joints"),
    "hip_width": (0.170, 0.010, 0.14, 0.20, "between the hip keypoints"),
    "shoulder_tilt": (0.0, 0.008, -0.02, 0.02, "right shoulder above the left"),
    "stride": (0.80, 0.05, 0.65, 0.95, "stride length (two steps)"),
    "cadence": (112.0, 7.0, 90.0, 135.0, "steps per minute"),
    "knee_swing": (58.0, 5.0, 45.0, 70.0, "extra knee flexion in swing [deg]"),
    "knee_stance": (8.0, 3.0, 0.0, 16.0, "knee flexion in stance [deg]"),
    "arm_swing": (20.0, 6.0, 5.0, 40.0, "shoulder flexion amplitude [deg]"),
    "elbow_flex": (15.0, 5.0, 3.0, 30.0, "elbow flexion at rest [deg]"),
    "arm_abduction": (6.0, 3.0, 0.0, 14.0, "arms held away from the body [deg]"),
    "lean": (4.0, 2.5, -3.0, 12.0, "forward torso lean [deg]"),
    "bounce": (0.008, 0.004, 0.0, 0.025, "extra vertical bob at twice the stride frequency"),
    "sway": (0.012, 0.005, 0.002, 0.03, "lateral pelvis sway [m]"),
    "pelvis_yaw": (5.0, 2.0, 0.0, 10.0, "pelvis rotation amplitude [deg]"),
    "foot_in": (0.25, 0.10, 0.0, 0.6, "ankles moved towards the midline (fraction of half hip width)"),
}

# Per-walk variation of one subject: name -> (relative sd, absolute sd).
WALK_JITTER: dict[str, tuple[float, float]] = {
    "cadence": (0.03, 0.0),
    "stride": (0.03, 0.0),
    "arm_swing": (0.12, 0.0),
    "elbow_flex": (0.10, 0.0),
    "knee_swing": (0.04, 0.0),
    "lean": (0.0, 1.0),
    "sway": (0.15, 0.0),
    "bounce": (0.20, 0.0),
}


def sample_subject(rng: np.random.Generator) -> dict[str, float]:
    """One subject's parameters: a truncated normal draw of every :data:`SUBJECT_PARAMS` entry."""
    out = {}
    for name, (mean, sd, lo, hi, _) in SUBJECT_PARAMS.items():
        out[name] = float(np.clip(rng.normal(mean, sd), lo, hi))
    # Cadence and stride are negatively related in people (tall, long strides, slower steps).
    out["cadence"] = float(np.clip(out["cadence"] - 40.0 * (out["stride"] - 0.80), 90.0, 135.0))
    return out


def sample_walk(subject: dict[str, float], rng: np.random.Generator) -> dict[str, float]:
    """One walk of a subject: the subject's parameters with a small per-walk variation."""
    out = dict(subject)
    for name, (rel, absolute) in WALK_JITTER.items():
        out[name] = subject[name] * (1.0 + rel * rng.normal()) + absolute * rng.normal()
    return out


def apply_condition(walk: dict[str, float], condition: str, bag_side: str, bag_type: str,
                    rng: np.random.Generator) -> dict[str, float]:
    """Split the arm parameters per side and apply a walking condition.

    ``nm`` leaves the walk as is. ``bg`` (bag): the arm on ``bag_side`` swings little and holds a
    carrying posture (``hand``: arm straight and away from the body, shoulder dropped; ``strap``:
    elbow bent, hand at the waist, shoulder raised); the torso leans a little. ``cl`` (coat): both
    arms swing less and the coat widens the shoulder and hip keypoints.
    """
    p = dict(walk)
    for side in ("left", "right"):
        p[f"arm_swing_{side}"] = walk["arm_swing"]
        p[f"elbow_flex_{side}"] = walk["elbow_flex"]
        p[f"arm_abduction_{side}"] = walk["arm_abduction"]
        p[f"arm_offset_{side}"] = 0.0  # shoulder flexion at rest [deg]
        p[f"shoulder_raise_{side}"] = 0.0  # x height
    p["coat"] = 0.0
    if condition == "bg":
        s = bag_side
        if bag_type == "hand":
            p[f"arm_swing_{s}"] *= rng.uniform(0.15, 0.3)
            p[f"elbow_flex_{s}"] = rng.uniform(2.0, 6.0)
            p[f"arm_abduction_{s}"] += rng.uniform(6.0, 10.0)
            p[f"shoulder_raise_{s}"] = -rng.uniform(0.008, 0.016)
        else:  # strap
            p[f"arm_swing_{s}"] *= rng.uniform(0.05, 0.2)
            p[f"elbow_flex_{s}"] = rng.uniform(65.0, 85.0)
            p[f"arm_offset_{s}"] = -rng.uniform(8.0, 14.0)
            p[f"shoulder_raise_{s}"] = rng.uniform(0.005, 0.012)
        p["lean"] += rng.uniform(1.0, 2.5)
        p["sway"] *= 1.2
    elif condition == "cl":
        factor = rng.uniform(0.5, 0.7)
        for side in ("left", "right"):
            p[f"arm_swing_{side}"] *= factor
            p[f"elbow_flex_{side}"] += 5.0
        p["shoulder_width"] *= rng.uniform(1.08, 1.16)
        p["hip_width"] *= rng.uniform(1.08, 1.16)
        p["coat"] = 1.0
    elif condition != "nm":
        raise ValueError(f"unknown condition {condition!r} (nm, bg, cl)")
    return p


def walk_poses(params: dict[str, np.ndarray], t: np.ndarray) -> np.ndarray:
    """Joint positions ``(F, len(JOINTS), 3)`` in the body frame (a, b, c) at times ``t`` (F,) [s].

    ``params`` maps names to scalars or ``(F,)`` arrays (walks stacked frame by frame), including
    ``phase`` (radians at ``t = 0``) and the per-side arm entries of :func:`apply_condition`.
    """
    t = np.asarray(t, dtype=np.float64)
    g = {k: np.broadcast_to(np.asarray(v, dtype=np.float64), t.shape) for k, v in params.items()}
    h = g["height"]
    rad = np.pi / 180.0
    phi = g["phase"] + 2.0 * np.pi * g["cadence"] / 120.0 * t  # 2 steps per stride
    n = phi.shape[0]
    pts = np.zeros((n, len(JOINTS), 3))

    # Legs: thigh angle alpha from the vertical (forward positive), knee flexion kappa.
    leg = (g["thigh"] + g["shank"]) * h
    amp = np.arcsin(np.clip(g["stride"] * h / (4.0 * leg), 0.0, 0.9))  # step = 2 * leg * sin(amp)
    extent, legs = [], {}
    for side, ph in (("right", phi), ("left", phi + np.pi)):
        alpha = amp * np.sin(ph)
        # the knee bends while the thigh swings forward (d alpha / d phase > 0)
        kappa = (g["knee_stance"] + g["knee_swing"] * np.maximum(np.cos(ph), 0.0) ** 1.5) * rad
        knee = np.stack([np.sin(alpha), -np.cos(alpha)], -1) * (g["thigh"] * h)[..., None]
        ankle = knee + np.stack([np.sin(alpha - kappa), -np.cos(alpha - kappa)], -1) * (g["shank"] * h)[..., None]
        legs[side] = (knee, ankle)  # (F, 2) offsets (a, c) from the hip
        extent.append(-ankle[:, 1])
    # The pelvis rides on the longer (stance) leg: this gives the natural double bob per stride; a
    # bouncy walker adds more (only upwards, so that the stance foot never sinks into the ground).
    pelvis_c = g["ankle_height"] * h + np.maximum(*extent) + g["bounce"] * h * 0.5 * (1.0 + np.cos(2.0 * phi))
    pelvis_b = g["sway"] * np.sin(phi)
    yaw = g["pelvis_yaw"] * rad * np.sin(phi)  # right hip forward when the right leg is forward
    half_hip = 0.5 * g["hip_width"] * h
    for side, sign in (("right", -1.0), ("left", 1.0)):
        hip_a = -sign * half_hip * np.sin(yaw)
        hip_b = pelvis_b + sign * half_hip * np.cos(yaw)
        knee, ankle = legs[side]
        pts[:, _J[f"{side}_hip"]] = np.stack([hip_a, hip_b, pelvis_c], -1)
        pts[:, _J[f"{side}_knee"]] = np.stack(
            [hip_a + knee[:, 0], hip_b - sign * g["foot_in"] * half_hip * 0.5, pelvis_c + knee[:, 1]], -1)
        pts[:, _J[f"{side}_ankle"]] = np.stack(
            [hip_a + ankle[:, 0], hip_b - sign * g["foot_in"] * half_hip, pelvis_c + ankle[:, 1]], -1)

    # Torso: shoulder centre above the pelvis, leaning forward; the thorax counter-rotates.
    lean = g["lean"] * rad
    sc = np.stack([g["torso"] * h * np.sin(lean), pelvis_b, pelvis_c + g["torso"] * h * np.cos(lean)], -1)
    syaw = -0.7 * yaw
    half_sh = 0.5 * g["shoulder_width"] * h
    for side, sign, leg_phase in (("right", -1.0, phi + np.pi), ("left", 1.0, phi)):
        raise_c = (g[f"shoulder_raise_{side}"] - sign * 0.5 * g["shoulder_tilt"]) * h
        shoulder = sc + np.stack([-sign * half_sh * np.sin(syaw), sign * half_sh * np.cos(syaw), raise_c], -1)
        # An arm swings with the opposite leg; the elbow bends more when the arm is forward.
        beta = (g[f"arm_offset_{side}"] + g[f"arm_swing_{side}"] * np.sin(leg_phase)) * rad
        eps = g[f"elbow_flex_{side}"] * rad + 0.5 * np.maximum(beta, 0.0)
        gam = g[f"arm_abduction_{side}"] * rad
        upper = np.stack([np.sin(beta) * np.cos(gam), sign * np.sin(gam), -np.cos(beta) * np.cos(gam)], -1)
        fore = np.stack([np.sin(beta + eps) * np.cos(gam), sign * np.sin(gam), -np.cos(beta + eps) * np.cos(gam)], -1)
        elbow = shoulder + upper * (g["upper_arm"] * h)[..., None]
        pts[:, _J[f"{side}_shoulder"]] = shoulder
        pts[:, _J[f"{side}_elbow"]] = elbow
        pts[:, _J[f"{side}_wrist"]] = elbow + fore * (g["forearm"] * h)[..., None]

    # Head: rigid, facing forward, carried by the shoulder centre.
    hh = h[..., None]
    nose = sc + np.stack([g["head_forward"], np.zeros_like(h), g["head"]], -1) * hh
    pts[:, _J["neck"]] = sc + np.array([0.0, 0.0, 0.012]) * hh
    pts[:, _J["nose"]] = nose
    for side, sign in (("right", -1.0), ("left", 1.0)):
        pts[:, _J[f"{side}_eye"]] = nose + np.array([-0.012, sign * 0.018, 0.018]) * hh
        pts[:, _J[f"{side}_ear"]] = nose + np.array([-0.060, sign * 0.045, 0.012]) * hh
    return pts


@dataclass(frozen=True)
class Camera:
    """A pinhole camera ``cam_height`` metres above the ground, looking horizontally at the walk's
    centre ``distance`` metres ahead."""

    width: int  # image size [px]
    height: int
    focal: float  # focal length [px]
    distance: float  # depth of the walk's centre [m]
    cam_height: float  # camera above the ground [m]
    fps: float = 25.0


def project(pts: np.ndarray, view: np.ndarray, travel: np.ndarray, lateral: np.ndarray,
            depth: np.ndarray, camera: Camera) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weak-perspective projection of body-frame points seen from ``view`` degrees.

    ``pts`` (F, J, 3) body frame; ``view``, ``travel`` (distance walked from the walk's centre [m]),
    ``lateral`` (sideways offset of the walk's centre [m]) and ``depth`` (extra depth of the walk's
    centre [m]) are (F,). Returns pixel coordinates ``(F, J, 2)`` (u right, v down), the pixel scale
    ``(F,)`` [px per metre] and every joint's depth relative to the pelvis ``(F, J)`` [m]
    (positive = farther from the camera, used for self-occlusion).
    """
    th = np.deg2rad(view)[:, None]
    sin, cos = np.sin(th), np.cos(th)
    # root on the ground: walking direction (sin, -cos) in the (X, Z) plane
    root_x = lateral[:, None] + travel[:, None] * sin
    root_z = camera.distance + depth[:, None] - travel[:, None] * cos
    a, b, c = pts[..., 0], pts[..., 1], pts[..., 2]
    dx = a * sin + b * cos  # the walker's left is (cos, sin) in (X, Z)
    dz = -a * cos + b * sin
    scale = camera.focal / root_z  # (F, 1): one scale per frame = weak perspective
    u = camera.width / 2.0 + scale * (root_x + dx)
    v = camera.height / 2.0 - scale * (c - camera.cam_height)
    return np.stack([u, v], -1), scale[:, 0], dz
