rule evaluate_model:
    """One trained model under its dataset's protocol (the split its first scored convention uses) and
    its method's own test pipeline (GaitGraph2: TTA; GaitGraph v1: its own test set)."""
    input:
        model=rules.train_model.output.model,
        data="results/data/normalized/{dataset}/{keypoints}",
    output:
        metrics="results/evaluate/{dataset}/{keypoints}/{method}/seed{seed}/metrics.json",
        md="results/evaluate/{dataset}/{keypoints}/{method}/seed{seed}/metrics.md",
        tex="results/evaluate/{dataset}/{keypoints}/{method}/seed{seed}/metrics.tex",
    log:
        "results/logs/evaluate_model/{dataset}/{keypoints}/{method}/seed{seed}.log",
    conda:
        "../envs/torch.yaml"
    threads: 4
    resources:
        mem_mb=12000,
        runtime=120,
        gpu=1,
    params:
        title=method_title,
        split=evaluation_split,
        tta=tta_flag,
    shell:
        "gaitgraph evaluate --checkpoint {input.model:q} --checkpoint-method {wildcards.method}"
        " --data {input.data:q} --split {params.split} --output {output.metrics:q} --method {params.title:q}"
        " --experiment {wildcards.method} --seed {wildcards.seed} {params.tta}"
        " --quiet > {log:q} 2>&1"


rule write_submission:
    """The official submission file of a dataset whose test probes' identities are withheld (GREW): the
    file one uploads to the benchmark's server, for one trained model."""
    input:
        model=rules.train_model.output.model,
        data="results/data/normalized/{dataset}/{keypoints}",
    output:
        csv=report(
            "results/submission/{dataset}/{keypoints}/{method}/seed{seed}.csv",
            caption="../report/submission.rst",
            category="Submission files",
            labels={
                "dataset": "{dataset}",
                "keypoints": "{keypoints}",
                "method": "{method}",
                "seed": "{seed}",
            },
        ),
    log:
        "results/logs/write_submission/{dataset}/{keypoints}/{method}/seed{seed}.log",
    wildcard_constraints:
        dataset=_alternatives(ds for ds in DATASETS if get_dataset(ds).withheld_probes),
    conda:
        "../envs/torch.yaml"
    threads: 4
    resources:
        mem_mb=12000,
        runtime=120,
        gpu=1,
    params:
        tta=tta_flag,
    shell:
        "gaitgraph submit --checkpoint {input.model:q} --checkpoint-method {wildcards.method}"
        " --data {input.data:q} --output {output.csv:q} {params.tta} --quiet > {log:q} 2>&1"


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
