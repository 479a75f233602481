"""Your own recordings, imported with ``gaitgraph-data import alphapose|openpose|csv`` (``docs/own-data.md``).

No protocol: there is no fixed gallery and probe set, so ``gaitgraph evaluate`` refuses such data and
``gaitgraph match`` ranks a gallery you choose; validation during training falls back to
leave-one-out nearest-neighbour rank-1.
"""

from __future__ import annotations

from gaitgraph.datasets.spec import DatasetSpec, KeypointSource

NAME = "custom"

SPEC = DatasetSpec(
    name=NAME,
    title="own recordings",
    citation="",
    access="your pose estimator's output, imported with gaitgraph-data import",
    keypoint_sources=(
        KeypointSource("alphapose", "coco17", "AlphaPose results (COCO-17 or Halpe-26, mapped by joint name)"),
        KeypointSource("openpose", "openpose18", "OpenPose *_keypoints.json (BODY_25 or COCO-18, mapped by joint name)"),
        KeypointSource("csv", "coco17", "a CSV in the casia-b_pose_coco.csv layout"),
    ),
    split="as your labels table says (default: every sequence in split test)",
    conventions=(),
)
