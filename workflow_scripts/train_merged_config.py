"""ablation_train / gaitgraph1_train / gaitgraph1_finetune rules: merge the recipe and its overlays (plus
workflow settings, e.g. v1's min_length and phase 2's init_from) into one config.yaml, then `gaitgraph fit`
(the method its recipe names) through gaitgraph.training.runs.train (resume, fingerprint, exports)."""

from gaitgraph.ablation.study import write_merged_config
from gaitgraph.cli.boundary import script
from gaitgraph.training.runs import train


def main() -> None:
    extra = {section: dict(values) for section, values in (snakemake.params.extra or {}).items()}
    if "init" in snakemake.input.keys():  # G1 phase 2 starts from the phase-1 weights
        extra.setdefault("model", {})["init_from"] = snakemake.input.init
    write_merged_config(list(snakemake.input.configs), snakemake.output.config, extra or None)
    train(
        config=snakemake.output.config,
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


script("workflow_scripts/train_merged_config.py", main)
