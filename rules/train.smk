rule train_model:
    """One training run of a method (its recipe on this dataset, rules/common.smk method_recipe). Lightning
    checkpoints live in an undeclared run folder (params.run_dir) so that Snakemake never deletes them:
    a retry or a rerun after an interruption resumes."""
    input:
        data="results/data/normalized/{dataset}/{keypoints}",
        recipe=get_train_recipe,
    output:
        model="results/train/{dataset}/{keypoints}/{method}/seed{seed}/model.ckpt",
        history="results/train/{dataset}/{keypoints}/{method}/seed{seed}/history.csv",
    log:
        "results/logs/train_model/{dataset}/{keypoints}/{method}/seed{seed}.log",
    retries: 2
    conda:
        "../envs/torch.yaml"
    threads: 8
    resources:
        mem_mb=12000,
        runtime=train_runtime,
        gpu=1,
    params:
        hparams=get_hyperparameters,
        run_dir=get_run_dir,
    script:
        "../workflow_scripts/train_model.py"
