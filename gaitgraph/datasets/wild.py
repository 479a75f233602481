"""What the two in-the-wild datasets (Gait3D, GREW) share: HRNet COCO-17 poses as released, and the way
their published rank-1 numbers are recorded."""

from __future__ import annotations

from gaitgraph.datasets import sources as src
from gaitgraph.datasets.spec import KeypointSource, Published

HRNET = KeypointSource("hrnet", "coco17", "HRNet COCO-17 poses released with the dataset (one text file per frame)")
FRAME_FILTER = "FastPoseGait's frame_threshold drops short sequences from the test set too"


def published_rank1(method: str, dataset: str, rank1: float, kind: str, source: str, *, cfg: str | None = None,
                    threshold: int = 0, **kw) -> Published:
    """A Gait3D / GREW entry: rank-1 under the official protocol, the released HRNet COCO-17 poses. ``cfg``: the
    FastPoseGait config the number comes from, ``threshold`` its frame_threshold (0: every test sequence)."""
    if source == src.FPG_ZOO:
        kw.setdefault("test_set", f"> {threshold} frames" if threshold else "all")
        kw.setdefault("test_protocol", src.FPG_THRESHOLD.format(cfg=cfg, n=threshold) if threshold
                      else src.FPG_ALL.format(cfg=cfg))
    elif source == src.OG_ZOO:
        kw.setdefault("test_set", "all")
        kw.setdefault("test_protocol", src.OG_ALL)
    else:
        kw.setdefault("test_set", "not stated")
        kw.setdefault("test_protocol", src.GAITPT_UNSTATED)
    return Published(method, dataset, kw.pop("keypoints", "hrnet"), "coco17", "official", kind, {"rank1": rank1}, rank1,
                     source, **kw)
