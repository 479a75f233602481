"""ablation_train / gaitgraph1_train / gaitgraph1_finetune rules: merge the base config and the overlays
(plus workflow settings, e.g. G1's min_length and phase 2's init_from) into one config.yaml, then
`gaitgraph fit` (or the G1 CLI) through gaitgraph.training.runs.train (resume, fingerprint, exports)."""

import sys

from gaitgraph.ablation import write_merged_config
from gaitgraph.cli.boundary import script
from gaitgraph.training.runs import train


def main() -> None:
    extra = {section: dict(values) for section, values in (snakemake.params.extra or {}).items()}
    if "init" in snakemake.input.keys():  # G1 phase 2 starts from the phase-1 weights
        extra.setdefault("model", {})["init_from"] = snakemake.input.init
    write_merged_config(list(snakemake.input.configs), snakemake.output.config, extra or None)
    module = snakemake.params.command
    train(
        base_config=snakemake.output.config,
        data=snakemake.input.data,
        run_dir=snakemake.params.run_dir,
        seed=int(snakemake.wildcards.seed),
        hparams=snakemake.params.hparams,
        keypoints=snakemake.wildcards.keypoints,
        model_out=snakemake.output.model,
        history_out=snakemake.output.history,
        threads=snakemake.threads,
        log=snakemake.log[0],
        command=[sys.executable, "-m", module] if module else None,
    )


script("workflow_scripts/train_ablation.py", main)
