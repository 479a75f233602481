"""build_tables rule: results/tables.md, tables.tex and the summary metrics.json."""

import sys

from gaitgraph.paper.tables import build_paper_tables

sys.stderr = open(snakemake.log[0], "w")

build_paper_tables(
    list(snakemake.input.metrics),
    out_md=snakemake.output.md,
    out_tex=snakemake.output.tex,
    out_json=snakemake.output.summary,
)
