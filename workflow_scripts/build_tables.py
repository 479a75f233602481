"""build_tables rule: results/tables.md, tables.tex, the summary metrics.json, the comparison figure."""

import sys

from gaitgraph.cli.boundary import script
from gaitgraph.paper.tables import build_paper_tables
from gaitgraph.viz.comparison import plot_comparison

sys.stderr = open(snakemake.log[0], "w")


def main() -> None:
    summary = build_paper_tables(
        list(snakemake.input.metrics),
        out_md=snakemake.output.md,
        out_tex=snakemake.output.tex,
        out_json=snakemake.output.summary,
    )
    plot_comparison(summary, snakemake.output.comparison)


script("workflow_scripts/build_tables.py", main)
