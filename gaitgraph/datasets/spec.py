"""What a dataset module declares: ``DatasetSpec`` and the pieces it is made of (``docs/datasets.md``).

A dataset module (``gaitgraph/datasets/<name>.py``) builds one :class:`DatasetSpec` and is registered
by name in ``gaitgraph/datasets/__init__.py``. The spec is the one home of the dataset's facts: where
its files come from and how they are read (``Converter``), its keypoint sources and their skeletons,
its split, views and walking conditions, its evaluation conventions (the protocol as data: which
sequences are gallery and probe, how a cell is reported), its synthetic twin and the published
numbers measured on it. Everything else asks the registry.

Light on purpose (standard library and numpy): the workflow imports the registry while Snakemake
parses it, and the plotting environment (no torch) reads published numbers and labels from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class KeypointSource:
    """A pose estimator's output for the dataset: ``name`` is meta.json's ``keypoints`` and the workflow's
    ``{keypoints}``; ``skeleton`` the joint layout (``gaitgraph.skeleton``)."""

    name: str
    skeleton: str
    description: str


@dataclass(frozen=True)
class Subset:
    """Sequences of the evaluated split that play one part in a protocol. ``None`` matches anything;
    ``condition`` is compared case-insensitively, as the readers store it lower case."""

    label: str  # how tables and metrics.json name it ("NM#1-4", "seq 00", "PROBE_SET")
    condition: str | None = None
    sequences: tuple[int, ...] | None = None
    role: str | None = None

    def mask(self, table) -> np.ndarray:
        """(N,) bool: the rows of the sequence table ``table`` in this subset."""
        keep = np.ones(len(table), bool)
        if self.condition is not None:
            keep &= table["condition"].astype(str).str.lower().to_numpy() == self.condition
        if self.sequences is not None:
            keep &= np.isin(table["sequence"].to_numpy(np.int64), self.sequences)
        if self.role is not None:
            if "role" not in table:
                raise ValueError(f"the sequence table has no role column, which the protocol's {self.label!r} needs;"
                                 " convert the data with this version of `gaitgraph-data convert`")
            keep &= table["role"].astype(str).to_numpy() == self.role
        return keep


@dataclass(frozen=True)
class ViewMatrix:
    """A rank-1 convention over camera views: every probe view against the gallery restricted to one
    view (``gaitgraph.evaluation.view_matrix``). ``description`` may use ``{views}`` (number of views),
    ``{others}`` (views minus one) and ``{views_s}`` / ``{others_s}`` (plural endings)."""

    name: str  # key in metrics.json's "conventions"
    label: str  # short column title ("identical views excluded")
    gallery: Subset
    probes: tuple[Subset, ...]  # one per reported condition (their labels name the conditions)
    probe_label: str  # how metrics.json names the probes as a whole ("NM#5-6, BG#1-2, CL#1-2", "seq 01")
    exclude_identical: bool
    description: str
    cell_mean: bool = False  # the convention's mean is the mean over all cells (GaitGraph2's OUMVLP test/accuracy)
    extra: dict = field(default_factory=dict)  # more keys copied into the convention's metrics.json entry
    table_text: str = ""  # what results/tables.md says about it (Markdown)
    title: str = ""  # figure titles (default: ``label``)
    kind: str = "view-matrix"


@dataclass(frozen=True)
class Retrieval:
    """A retrieval convention: each probe against the whole gallery, rank-k, mAP and mINP
    (``gaitgraph.evaluation.retrieval``). ``split``: the split whose rows it scores (``None``: every row
    given); ``scored=False``: counted only (GREW's withheld probe identities)."""

    name: str
    label: str
    probe: Subset
    gallery: Subset
    split: str | None
    description: str
    ranks: tuple[int, ...] = (1, 5, 10)
    official: bool = True
    scored: bool = True
    table_text: str = ""  # what results/tables.md says about it (Markdown)
    title: str = ""  # figure titles (default: ``label``)
    kind: str = "retrieval"


@dataclass(frozen=True)
class Published:
    """One published result row, copied from the file named in ``source`` (nothing is computed)."""

    method: str  # as the source names it
    dataset: str
    keypoints: str  # pose estimator: hrnet, alphapose, openpose, vitpose, simcc
    layout: str  # coco17 | openpose18
    convention: str  # the convention it was measured with (a convention name of the dataset)
    kind: str  # paper | reproduction | peer
    values: dict  # condition -> rank-1 %; retrieval conventions: metric name (rank1) -> value
    mean: float | None
    source: str
    std: dict | None = None  # condition -> std, where the source reports one
    per_view: dict | None = None  # condition -> {view: rank-1 %}
    note: str = ""
    verified: bool = True  # False: recalled, not checked against the source
    test_set: str = "all"  # which test sequences: "all", "> 60 frames" (shorter ones dropped), "not stated"
    test_protocol: str = ""  # where the source's code sets that (every entry has one)

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return {k: getattr(self, k) for k in (
            "method", "dataset", "keypoints", "layout", "convention", "kind", "values", "mean", "std", "per_view",
            "source", "note", "verified", "test_set", "test_protocol")}


@dataclass(frozen=True)
class Tool:
    """A ``gaitgraph-data`` subcommand of a dataset (convert, synthesize, check): ``add_arguments(parser)``
    declares its options, ``run(args) -> Path`` does the work. Both import their heavy parts lazily."""

    help: str
    add_arguments: Callable
    run: Callable


@dataclass(frozen=True)
class DatasetSpec:
    """Everything the rest of the code needs to know about one dataset."""

    name: str  # registry name, meta.json's "dataset", the workflow's {dataset}
    title: str  # for tables and figures ("CASIA-B")
    citation: str
    access: str  # how to obtain the poses (download URL, or where to apply)
    keypoint_sources: tuple[KeypointSource, ...]
    split: str  # one line: how subjects are split into train / test (and what is evaluated)
    conventions: tuple[ViewMatrix | Retrieval, ...]  # the first is the one papers report
    source_file: str = ""  # the released file the converter reads ("": it reads a folder tree)
    views: tuple[int, ...] = ()  # camera angles in degrees; () when the dataset has no view labels
    conditions: tuple[str, ...] = ()  # walking conditions as stored (lower case)
    published: tuple[Published, ...] = ()
    convert: Tool | None = None  # gaitgraph-data convert <name>
    synthesize: Tool | None = None  # gaitgraph-data synthesize <name>
    check: Tool | None = None  # licence-gated data: is the user's copy where the config says?
    licence_gated: bool = False

    @property
    def keypoints(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.keypoint_sources)

    def keypoint_source(self, name: str) -> KeypointSource:
        for k in self.keypoint_sources:
            if k.name == name:
                return k
        raise ValueError(f"{self.title} has no keypoint source {name!r}; known: {', '.join(self.keypoints)}")

    def convention(self, name: str) -> ViewMatrix | Retrieval:
        for c in self.conventions:
            if c.name == name:
                return c
        raise ValueError(f"{self.title} has no convention {name!r}; known: {', '.join(c.name for c in self.conventions)}")

    @property
    def by_condition(self) -> bool:
        """The paper's convention reports several probe conditions (CASIA-B): tables and figures show one
        column per condition of that convention; otherwise one per convention (OUMVLP-Pose, Gait3D, GREW)."""
        first = self.conventions[0] if self.conventions else None
        return isinstance(first, ViewMatrix) and len(first.probes) > 1

    @property
    def main_conventions(self) -> tuple[str, ...]:
        """The conventions summary figures draw: the paper's alone when it reports several conditions, else all."""
        names = tuple(c.name for c in self.conventions)
        return names[:1] if self.by_condition else names

    @property
    def scored_conventions(self) -> tuple[ViewMatrix | Retrieval, ...]:
        """The conventions this pipeline scores (all but GREW's official one, whose probe identities are withheld)."""
        return tuple(c for c in self.conventions if not isinstance(c, Retrieval) or c.scored)

    @property
    def main_convention(self) -> str | None:
        """The convention a one-number summary (the benchmark table) reports: the first scored one."""
        return self.scored_conventions[0].name if self.scored_conventions else None

    @property
    def scored_split(self) -> str:
        """The split the first scored convention evaluates (``gaitgraph evaluate --split``): ``test``, or
        ``heldout`` where the test probes' identities are withheld (GREW's local protocol)."""
        first = self.scored_conventions[0] if self.scored_conventions else None
        return getattr(first, "split", None) or "test"

    @property
    def withheld_probes(self) -> bool:
        """The official test's probe identities are withheld: a submission file gives its number (GREW)."""
        return any(isinstance(c, Retrieval) and not c.scored for c in self.conventions)

    @property
    def condition_names(self) -> tuple[str, ...]:
        """The reported conditions of the first (paper's) view-matrix convention, in order; () otherwise."""
        first = self.conventions[0] if self.conventions else None
        return tuple(p.label for p in first.probes) if isinstance(first, ViewMatrix) else ()
