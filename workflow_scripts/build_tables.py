"""build_tables and build_benchmark rules: the tables (Markdown, LaTeX), their JSON summary and the figure of
ours beside the published numbers; params.table picks results/tables.* or results/benchmark.*."""

import sys

from gaitgraph.cli.boundary import script
from gaitgraph.paper.benchmark import build_benchmark
from gaitgraph.paper.tables import build_paper_tables
from gaitgraph.viz.comparison import plot_comparison

sys.stderr = open(snakemake.log[0], "w")

BUILDERS = {"tables": build_paper_tables, "benchmark": build_benchmark}


def main() -> None:
    summary = BUILDERS[snakemake.params.table](
        list(snakemake.input.metrics),
        out_md=snakemake.output.md,
        out_tex=snakemake.output.tex,
        out_json=snakemake.output.summary,
    )
    plot_comparison(summary, snakemake.output.comparison)


script("workflow_scripts/build_tables.py", main)
