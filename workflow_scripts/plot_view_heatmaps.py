"""plot_view_heatmaps rule: gallery view x probe view rank-1 of one evaluation (PNG + PDF)."""

import json
import sys

from gaitgraph.cli.boundary import script
from gaitgraph.viz.view_heatmaps import plot_view_heatmaps

sys.stderr = open(snakemake.log[0], "w")


def main() -> None:
    with open(snakemake.input.metrics) as f:
        plot_view_heatmaps(json.load(f), snakemake.output.png)


script("workflow_scripts/plot_view_heatmaps.py", main)
