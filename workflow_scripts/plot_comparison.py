"""plot_comparison rule: our mean rank-1 beside the published numbers (PNG + PDF)."""

import json
import sys

from gaitgraph.viz.figures import plot_comparison

sys.stderr = open(snakemake.log[0], "w")

with open(snakemake.input.summary) as f:
    plot_comparison(json.load(f), snakemake.output.png)
