"""train_model rule: `gaitgraph fit` in the run folder (resuming), then export model.ckpt + history.csv."""

from gaitgraph.cli.boundary import script
from gaitgraph.training.runs import train


def main() -> None:
    train(
        config=snakemake.input.recipe,
        data=snakemake.input.data,
        run_dir=snakemake.params.run_dir,
        seed=int(snakemake.wildcards.seed),
        hparams=snakemake.params.hparams,
        keypoints=snakemake.wildcards.keypoints,
        model_out=snakemake.output.model,
        history_out=snakemake.output.history,
        threads=snakemake.threads,
        log=snakemake.log[0],
    )


script("workflow_scripts/train_model.py", main)
