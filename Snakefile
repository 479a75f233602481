"""gaitgraph: skeleton-based gait recognition (GaitGraph2) from pose files to paper tables.

    snakemake --cores 8 --sdm conda            # everything: results/tables.md + figures
    snakemake --profile profiles/slurm         # the same on a Slurm cluster

Embedded default (config/config.yaml): synthetic data, runs in minutes on a laptop.
The real datasets with the paper's settings: --configfile config/paper.yaml. See docs/pipeline.md.
"""

from snakemake.utils import min_version

min_version("9.20")

from gaitgraph.config_check import ConfigError, load_yaml

try:  # Snakemake's own message for a YAML syntax error names neither the file nor the line
    load_yaml("config/config.yaml")
except FileNotFoundError:
    pass  # Snakemake says so
except ConfigError as e:
    raise WorkflowError(f"config error: {e}") from None


configfile: "config/config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/train.smk"
include: "rules/evaluate.smk"
include: "rules/paper.smk"
include: "rules/ablation.smk"
include: "rules/benchmark.smk"


rule all:
    default_target: True
    input:
        get_final_output(),
