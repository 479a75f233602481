"""draw_activations rule: class activation maps of the first test sequences as GIFs."""

import sys

from gaitgraph.cli.boundary import script
from gaitgraph.viz.activation import draw_activations

sys.stderr = open(snakemake.log[0], "w")


def main() -> None:
    draw_activations(
        snakemake.input.model,
        snakemake.input.data,
        snakemake.output.gifs,
        limit=snakemake.params.limit,
    )


script("workflow_scripts/draw_activations.py", main)
