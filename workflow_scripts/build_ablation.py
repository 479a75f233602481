"""build_ablation rule: results/ablation.md / .tex / .json from the per-row, per-seed metrics."""

from gaitgraph.cli.boundary import script
from gaitgraph.ablation.study import ROW_BY_NAME
from gaitgraph.ablation.table import build_ablation_table


def main() -> None:
    build_ablation_table(
        list(snakemake.input.metrics),
        snakemake.output.md,
        snakemake.output.tex,
        snakemake.output.summary,
        rows=[ROW_BY_NAME[name] for name in snakemake.params.rows],
        default_normalization=snakemake.params.default_normalization,
    )


script("workflow_scripts/build_ablation.py", main)
