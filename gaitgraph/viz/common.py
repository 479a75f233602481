"""What the figure modules share: dataset facts from the registry, published entries, labels, legends."""

from __future__ import annotations

import numpy as np

from gaitgraph.datasets import all_published, get_dataset, list_datasets
from gaitgraph.datasets.spec import DatasetSpec
from gaitgraph.stats import mean_std

SYNTHETIC_NOTE = "SYNTHETIC DATA: a pipeline check; these numbers say nothing about the method"


def spec_of(name) -> DatasetSpec | None:
    """The registered dataset (aliases allowed), or None for a name this version does not know."""
    try:
        return get_dataset(name)
    except ValueError:
        return None


def dataset_key(name) -> str:
    spec = spec_of(name)
    return spec.name if spec else str(name).lower()


def dataset_title(name) -> str:
    spec = spec_of(name)
    return spec.title if spec else str(name)


def convention_title(dataset: str, convention: str) -> str:
    """A convention's figure title (its ``title``, else its table label, else its name)."""
    spec = spec_of(dataset)
    for c in spec.conventions if spec else ():
        if c.name == convention:
            return c.title or c.label
    return convention


def main_conventions(dataset: str) -> tuple[str, ...]:
    spec = spec_of(dataset)
    return spec.main_conventions if spec else ()


def bar_group(dataset: str, convention: str, condition: str) -> str:
    """What one bar of the comparison stands for: the condition (CASIA-B) or the convention."""
    spec = spec_of(dataset)
    return condition if spec is not None and spec.by_condition else convention


def group_colours() -> dict[str, int]:
    """Palette index per bar group, fixed across figures: the paper conditions of by-condition datasets,
    then every other dataset's main conventions, in registry order."""
    groups: list[str] = []
    for name in list_datasets():
        spec = get_dataset(name)
        groups += list(spec.condition_names) if spec.by_condition else list(spec.main_conventions)
    return {g: i for i, g in enumerate(dict.fromkeys(groups))}


def published_entries(dataset: str | None = None) -> list[dict]:
    """Published results as dicts (``Published.as_dict``), from the dataset modules."""
    return [p.as_dict() for p in all_published(dataset=dataset)]


def mean_std_nan(values) -> tuple[float, float]:
    """``stats.mean_std`` with NaN for what is missing (matplotlib leaves NaN out)."""
    mean, std, _ = mean_std(values)
    return (np.nan if mean is None else mean), (np.nan if std is None else std)


def placeholder(fig, text: str) -> None:
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=11, color="0.3")


def legend_below(fig, handles, labels, ncol: int | None = None) -> None:
    """One figure legend under the panels (no entry twice)."""
    seen: dict[str, object] = {}
    for h, lab in zip(handles, labels):
        if lab and not lab.startswith("_") and lab not in seen:
            seen[lab] = h
    if seen:
        seen = dict(sorted(seen.items(), key=lambda kv: not kv[0].startswith("ours")))  # ours first, stable
        ncol = ncol or min(len(seen), 3)
        fig.legend(list(seen.values()), list(seen), loc="outside lower center", ncol=ncol, frameon=False)


def run_label(m: dict) -> str:
    """``ours: <experiment> (<keypoints>)`` for our trained runs (they carry a seed); a checkpoint
    evaluated here but not trained here (no seed, e.g. a released one) is named by its method."""
    kp = m.get("keypoints", "?")
    if m.get("seed") is None and m.get("method"):
        return f"{m['method']}, evaluated here ({kp})"
    return f"ours: {m.get('experiment') or m.get('method') or 'run'} ({kp})"


def sorted_views(views) -> list[str]:
    return sorted({str(v) for v in views}, key=lambda v: float(v))
