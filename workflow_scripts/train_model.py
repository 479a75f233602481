"""train_model, ablation_train, gaitgraph1_train and gaitgraph1_finetune rules: `gaitgraph fit` in the run folder
(resuming) through gaitgraph.training.runs.train, then export model.ckpt + history.csv. A rule with input `configs`
(a recipe and its overlays) first merges them, plus workflow settings (params.extra: v1's min_length; input `init`:
phase 2's init_from), into output `config`; train_model gives the packaged recipe itself (input `recipe`)."""

from gaitgraph.cli.boundary import script
from gaitgraph.training.runs import train


def config_file() -> str:
    """The config `gaitgraph fit` reads: the recipe, or the merge of the rule's configs written to output.config."""
    if "configs" not in snakemake.input.keys():
        return snakemake.input.recipe
    from gaitgraph.ablation.study import write_merged_config

    extra = {section: dict(values) for section, values in (snakemake.params.get("extra") or {}).items()}
    if "init" in snakemake.input.keys():  # G1 phase 2 starts from the phase-1 weights
        extra.setdefault("model", {})["init_from"] = snakemake.input.init
    write_merged_config(list(snakemake.input.configs), snakemake.output.config, extra or None)
    return snakemake.output.config


def main() -> None:
    train(
        config=config_file(),
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
