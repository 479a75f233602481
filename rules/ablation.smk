"""The ablation study (results/ablation.md, results/figures/ablation.png) and GaitGraph (v1) on CASIA-B.

Neither is part of the default target:
    snakemake --cores 2 results/ablation.md results/figures/ablation.png     # or: snakemake ablation
    snakemake --cores 2 gaitgraph1                                           # G1 metrics per seed
Settings: config "ablation" and "gaitgraph1" (defaults: config/config.schema.yaml); the study's rows and
trainings: gaitgraph.ablation.study; docs/ablation.md.
"""


wildcard_constraints:
    row=_alternatives(ABLATION_ROWS),
    training=_alternatives(TRAININGS),
    mode="none|center-scale",


# --- ablation ------------------------------------------------------------------------------------


rule ablation:
    """The ablation table and figure."""
    input:
        "results/ablation.md",
        "results/figures/ablation.png",


rule ablation_normalize:
    """The dataset normalized with the mode the workflow does not use (normalization row)."""
    input:
        dataset="results/data/converted/{dataset}/{keypoints}",
    output:
        dataset=directory("results/ablation/data/{dataset}/{keypoints}/{mode}"),
    log:
        "results/logs/ablation_normalize/{dataset}/{keypoints}/{mode}.log",
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=6000,
        runtime=60,
    shell:
        "gaitgraph-data normalize --input {input.dataset:q} --output {output.dataset:q}"
        " --mode {wildcards.mode} > {log:q} 2>&1"


rule ablation_train:
    """One ablation training: base config + the training's overlays (merged into config.yaml)."""
    input:
        data=ablation_data,
        configs=ablation_recipes,
    output:
        model="results/ablation/{dataset}/{keypoints}/train/{training}/seed{seed}/model.ckpt",
        history="results/ablation/{dataset}/{keypoints}/train/{training}/seed{seed}/history.csv",
        config="results/ablation/{dataset}/{keypoints}/train/{training}/seed{seed}/config.yaml",
    log:
        "results/logs/ablation_train/{dataset}/{keypoints}/{training}/seed{seed}.log",
    retries: 2
    conda:
        "../envs/torch.yaml"
    threads: 8
    resources:
        mem_mb=12000,
        runtime=train_runtime,
        gpu=1,
    params:
        hparams=ablation_settings,
        run_dir="results/ablation/{dataset}/{keypoints}/train/{training}/seed{seed}/run",
        extra={},
    script:
        "../workflow_scripts/train_model.py"


rule ablation_evaluate:
    """One row x seed: rank-1 with or without TTA, frames shuffled at test or not."""
    input:
        model=row_model,
        data=row_data,
    output:
        metrics="results/ablation/{dataset}/{keypoints}/evaluate/{row}/seed{seed}/metrics.json",
    log:
        "results/logs/ablation_evaluate/{dataset}/{keypoints}/{row}/seed{seed}.log",
    conda:
        "../envs/torch.yaml"
    threads: 4
    resources:
        mem_mb=12000,
        runtime=120,
        gpu=1,
    params:
        flags=lambda w: " ".join(evaluation_flags(ABLATION_ROWS[w.row])),
    shell:
        "python -m gaitgraph.ablation.rows evaluate --checkpoint {input.model:q} --data {input.data:q}"
        " --output {output.metrics:q} --row {wildcards.row} --seed {wildcards.seed} {params.flags}"
        " > {log:q} 2>&1"


rule build_ablation:
    """results/ablation.md / .tex / .json: every row, mean +- std over seeds, deltas, n runs."""
    input:
        metrics=ablation_metrics_files(),
    output:
        md="results/ablation.md",
        tex="results/ablation.tex",
        summary="results/ablation.json",
    log:
        "results/logs/build_ablation/ablation.log",
    localrule: True
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        default_normalization=default_normalization(ABLATION["dataset"]),
        rows=list(ABLATION_ROWS),
    script:
        "../workflow_scripts/build_ablation.py"


rule plot_ablation:
    input:
        summary="results/ablation.json",
    output:
        png="results/figures/ablation.png",
        pdf="results/figures/ablation.pdf",
    log:
        "results/logs/plot_ablation/figure.log",
    localrule: True
    conda:
        "../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "python -m gaitgraph.viz.ablation_figure {input.summary:q} {output.png:q} > {log:q} 2>&1"


# --- GaitGraph (v1) ------------------------------------------------------------------------------


rule gaitgraph1:
    """GaitGraph v1 evaluations (CASIA-B per seed, both phases), for results/tables.md when gaitgraph1/enabled.
    (The benchmark trains v1 in one phase per dataset, results/train/.../gaitgraph1/: rules/benchmark.smk.)
    """
    input:
        gaitgraph1_metrics_files(),


rule gaitgraph1_train:
    """Phase 1: 300 epochs at lr 1e-2 (recipe gaitgraph1/casia-b; budget from config)."""
    input:
        data="results/data/normalized/{dataset}/{keypoints}",
        configs=[recipe_file("gaitgraph1/casia-b")],
    output:
        model="results/train/{dataset}/{keypoints}/gaitgraph1-phase1/seed{seed}/model.ckpt",
        history="results/train/{dataset}/{keypoints}/gaitgraph1-phase1/seed{seed}/history.csv",
        config="results/train/{dataset}/{keypoints}/gaitgraph1-phase1/seed{seed}/config.yaml",
    log:
        "results/logs/gaitgraph1_train/{dataset}/{keypoints}/seed{seed}.log",
    retries: 2
    conda:
        "../envs/torch.yaml"
    threads: 8
    resources:
        mem_mb=12000,
        runtime=train_runtime,
        gpu=1,
    params:
        hparams=lambda w: gaitgraph1_settings(w.dataset, 1),
        run_dir="results/train/{dataset}/{keypoints}/gaitgraph1-phase1/seed{seed}/run",
        extra=gaitgraph1_extra(),
    script:
        "../workflow_scripts/train_model.py"


rule gaitgraph1_finetune:
    """Phase 2: 100 epochs at lr 1e-5 from the phase-1 weights (recipe gaitgraph1/casia-b-finetune)."""
    input:
        data="results/data/normalized/{dataset}/{keypoints}",
        configs=[recipe_file("gaitgraph1/casia-b"), recipe_file("gaitgraph1/casia-b-finetune")],
        init=rules.gaitgraph1_train.output.model,
    output:
        model="results/train/{dataset}/{keypoints}/gaitgraph1-phase2/seed{seed}/model.ckpt",
        history="results/train/{dataset}/{keypoints}/gaitgraph1-phase2/seed{seed}/history.csv",
        config="results/train/{dataset}/{keypoints}/gaitgraph1-phase2/seed{seed}/config.yaml",
    log:
        "results/logs/gaitgraph1_finetune/{dataset}/{keypoints}/seed{seed}.log",
    retries: 2
    conda:
        "../envs/torch.yaml"
    threads: 8
    resources:
        mem_mb=12000,
        runtime=train_runtime,
        gpu=1,
    params:
        hparams=lambda w: gaitgraph1_settings(w.dataset, 2),
        run_dir="results/train/{dataset}/{keypoints}/gaitgraph1-phase2/seed{seed}/run",
        extra=gaitgraph1_extra(),
    script:
        "../workflow_scripts/train_model.py"


rule gaitgraph1_evaluate:
    """G1's own evaluation: plain 128-d embeddings (its flip TTA is a no-op on one branch) on its own
    test set (gaitgraph1/test_set, default gaitgraph1: test sequences of <= the window left out)."""
    input:
        model=rules.gaitgraph1_finetune.output.model,
        data="results/data/normalized/{dataset}/{keypoints}",
    output:
        metrics="results/evaluate/{dataset}/{keypoints}/gaitgraph1-phase2/seed{seed}/metrics.json",
    log:
        "results/logs/gaitgraph1_evaluate/{dataset}/{keypoints}/seed{seed}.log",
    conda:
        "../envs/torch.yaml"
    threads: 4
    resources:
        mem_mb=12000,
        runtime=120,
        gpu=1,
    params:
        test_set=GAITGRAPH1["test_set"],
    shell:
        "gaitgraph evaluate --checkpoint {input.model:q} --data {input.data:q}"
        " --output {output.metrics:q} --method GaitGraph --experiment gaitgraph1"
        " --seed {wildcards.seed} --no-tta --test-set {params.test_set}"
        " --quiet > {log:q} 2>&1"
