"""plot_rank1_by_view rule: rank-1 per probe view for every evaluation (PNG + PDF)."""

import json
import sys

from gaitgraph.viz.figures import plot_rank1_by_view

sys.stderr = open(snakemake.log[0], "w")

metrics = [json.load(open(path)) for path in snakemake.input.metrics]
plot_rank1_by_view(metrics, snakemake.output.png)
