rule evaluate_model:
    """Rank-1 of one trained model on the test split, with test-time augmentation."""
    input:
        model=rules.train_model.output.model,
        data="results/data/normalized/{dataset}/{keypoints}",
    output:
        metrics="results/evaluate/{dataset}/{keypoints}/{experiment}/seed{seed}/metrics.json",
        md="results/evaluate/{dataset}/{keypoints}/{experiment}/seed{seed}/metrics.md",
        tex="results/evaluate/{dataset}/{keypoints}/{experiment}/seed{seed}/metrics.tex",
    log:
        "results/logs/evaluate_model/{dataset}/{keypoints}/{experiment}/seed{seed}.log",
    conda:
        "../envs/torch.yaml"
    threads: 4
    resources:
        mem_mb=12000,
        runtime=120,
        gpu=1,
    params:
        method=METHOD,
        tta=tta_flag,
    shell:
        "gaitgraph evaluate --checkpoint {input.model:q} --data {input.data:q}"
        " --output {output.metrics:q} --method {params.method:q} --experiment {wildcards.experiment}"
        " --seed {wildcards.seed} {params.tta}"
        " --quiet > {log:q} 2>&1"


rule evaluate_pretrained:
    """A pre-trained checkpoint the user supplies (config 'pretrained'), same protocol."""
    input:
        model=get_pretrained_checkpoint,
        data="results/data/normalized/{dataset}/{keypoints}",
    output:
        metrics="results/evaluate/{dataset}/{keypoints}/pretrained/{name}/metrics.json",
        md="results/evaluate/{dataset}/{keypoints}/pretrained/{name}/metrics.md",
        tex="results/evaluate/{dataset}/{keypoints}/pretrained/{name}/metrics.tex",
    log:
        "results/logs/evaluate_pretrained/{dataset}/{keypoints}/{name}.log",
    conda:
        "../envs/torch.yaml"
    threads: 4
    resources:
        mem_mb=12000,
        runtime=120,
        gpu=1,
    params:
        method=get_pretrained_method,
        tta=tta_flag,
    shell:
        "gaitgraph evaluate --checkpoint {input.model:q} --data {input.data:q}"
        " --output {output.metrics:q} --method {params.method:q} --experiment {wildcards.name}"
        " --seed 0 {params.tta}"
        " --quiet > {log:q} 2>&1"
