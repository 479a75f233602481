"""plot_training_curves rule: loss, learning rate and validation rank-1 of every run (PNG + PDF)."""

import sys

import pandas as pd

from gaitgraph.cli.boundary import script
from gaitgraph.viz.training_curves import plot_training_curves

sys.stderr = open(snakemake.log[0], "w")


def main() -> None:
    histories = {
        label: pd.read_csv(path) for label, path in zip(snakemake.params.labels, snakemake.input.histories)
    }
    plot_training_curves(histories, snakemake.output.png)


script("workflow_scripts/plot_training_curves.py", main)
