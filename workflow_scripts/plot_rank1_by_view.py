"""plot_rank1_by_view rule: rank-1 per probe view for every evaluation (PNG + PDF)."""

import json
import sys

from gaitgraph.cli.boundary import script
from gaitgraph.viz.rank1_by_view import plot_rank1_by_view

sys.stderr = open(snakemake.log[0], "w")


def main() -> None:
    metrics = [json.load(open(path)) for path in snakemake.input.metrics]
    plot_rank1_by_view(metrics, snakemake.output.png)


script("workflow_scripts/plot_rank1_by_view.py", main)
