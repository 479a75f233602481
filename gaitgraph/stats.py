"""Summary statistics over runs (seeds), with one policy for missing values."""

from __future__ import annotations

import numpy as np


def mean_std(values) -> tuple[float | None, float | None, int]:
    """``(mean, sample std (ddof = 1), n)`` over the values that are numbers and finite (``None``, NaN
    and inf are left out); ``std`` is ``None`` below two values, ``mean`` too when none is left."""
    v = np.array([x for x in values if x is not None], dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return None, None, 0
    return float(np.mean(v)), (float(np.std(v, ddof=1)) if len(v) >= 2 else None), len(v)
