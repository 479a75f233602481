"""One look for every figure: seaborn theme, colour-blind-safe palette, font sizes, resolution.

Figures are built as ``matplotlib.figure.Figure`` objects, never through ``pyplot``'s global state,
so drawing works headless whatever backend is configured and nothing leaks between figures.
``save_figure`` writes the PNG (for the Snakemake report) and a PDF with the same stem (for papers).
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib as mpl
import seaborn as sns
from matplotlib.figure import Figure

from gaitgraph.outputs import atomic_write

DPI = 150  # PNG resolution; the PDF is vector
PALETTE = sns.color_palette("colorblind")  # Okabe-Ito-like, safe for the common colour-vision deficiencies
REFERENCE_COLOR = "0.25"  # published numbers drawn as dark grey references
HEATMAP_CMAP = "viridis"  # perceptually uniform, colour-blind safe
ACTIVATION_CMAP = "plasma"  # the original activation GIFs' colormap

RC = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.title_fontsize": 8,
    "figure.titlesize": 11,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "pdf.fonttype": 42,  # TrueType in PDFs: editable text, accepted by paper submission systems
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.constrained_layout.use": True,  # no overlapping labels, titles or legends
}


def apply_style() -> None:
    """Set the project's seaborn theme and rc parameters (idempotent)."""
    sns.set_theme(context="paper", style="whitegrid", palette=PALETTE, rc=RC)


def new_figure(width: float, height: float, **kwargs) -> Figure:
    """A styled figure of ``width`` x ``height`` inches with constrained layout."""
    apply_style()
    kwargs.setdefault("layout", "constrained")
    return Figure(figsize=(width, height), dpi=DPI, **kwargs)


def color(i: int):
    """The ``i``-th colour of the palette (cycling)."""
    return PALETTE[i % len(PALETTE)]


def save_figure(fig: Figure, out: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``out`` as PNG and ``out`` with suffix ``.pdf``; folders are created, writes are atomic.

    Returns ``(png_path, pdf_path)``. Each file is written to a hidden temporary sibling and renamed
    into place, so an interrupted run never leaves a half-written figure behind.
    """
    png = Path(out)
    if png.suffix.lower() != ".png":
        png = png.with_suffix(".png")
    pdf = png.with_suffix(".pdf")
    png.parent.mkdir(parents=True, exist_ok=True)
    for path, fmt in ((png, "png"), (pdf, "pdf")):
        atomic_write(path, lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt, dpi=DPI, metadata=_metadata(fmt)))
    return png, pdf


def _metadata(fmt: str) -> dict:
    # no creation date in PDFs, so the same data gives the same file
    return {"CreationDate": None} if fmt == "pdf" else {"Software": f"gaitgraph / matplotlib {mpl.__version__}"}
