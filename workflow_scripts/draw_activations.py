"""draw_activations rule: class activation maps of the first test sequences as GIFs."""

import sys

from gaitgraph.viz.activation import draw_activations

sys.stderr = open(snakemake.log[0], "w")

draw_activations(
    snakemake.input.model,
    snakemake.input.data,
    snakemake.output.gifs,
    limit=snakemake.params.limit,
)
