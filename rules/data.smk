rule download_dataset:
    """A dataset that can be downloaded (source: download); SHA-256 verified (or recorded on first use)."""
    output:
        archive="resources/{dataset}/{source_file}.zip",
        source="resources/{dataset}/{source_file}",
    log:
        "results/logs/download_dataset/{dataset}/{source_file}.log",
    conda:
        "../envs/base.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        url=lookup(dpath="datasets/{dataset}/download/url", within=config),
        sha256=lookup(dpath="datasets/{dataset}/download/sha256", within=config),
        member=lookup(dpath="datasets/{dataset}/download/member", within=config),
        retries=lookup(dpath="datasets/{dataset}/download/retries", within=config),
    shell:
        "python -m gaitgraph.data.download {params.url:q} {output.archive:q} --sha256 '{params.sha256}'"
        " --retries {params.retries} --extract {params.member:q} --to {output.source:q} > {log:q} 2>&1"
        " || {{ cat {log:q} >&2; exit 1; }}"


rule synthesize_dataset_file:
    """The synthetic twin of a dataset released as one file (CASIA-B's CSV)."""
    output:
        source="resources/synthetic/{dataset}/{source_file}",
    log:
        "results/logs/synthesize_dataset/{dataset}/{source_file}.log",
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        subjects=lookup(dpath="datasets/{dataset}/synthetic/subjects", within=config),
        seed=lookup(dpath="datasets/{dataset}/synthetic/seed", within=config),
    shell:
        "gaitgraph-data synthesize {wildcards.dataset} --output {output.source:q} --subjects {params.subjects}"
        " --seed {params.seed} --quiet > {log:q} 2>&1"


rule synthesize_dataset_tree:
    """The synthetic twin of a dataset released as a folder tree (OUMVLP-Pose, Gait3D, GREW)."""
    output:
        tree=directory("resources/synthetic/{tree_dataset}"),
    log:
        "results/logs/synthesize_dataset/{tree_dataset}.log",
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        subjects=lookup(dpath="datasets/{tree_dataset}/synthetic/subjects", within=config),
        seed=lookup(dpath="datasets/{tree_dataset}/synthetic/seed", within=config),
    shell:
        "gaitgraph-data synthesize {wildcards.tree_dataset} --output {output.tree:q} --subjects {params.subjects}"
        " --seed {params.seed} --quiet > {log:q} 2>&1"


rule check_dataset:
    """Your licensed copy (source: local): fail with where to apply and where to put the files."""
    output:
        checked="results/data/check/{dataset}/{keypoints}.json",
    log:
        "results/logs/check_dataset/{dataset}/{keypoints}.log",
    conda:
        "../envs/base.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        root=lookup(dpath="datasets/{dataset}/local/path", within=config),
        files=local_file_options,
    shell:
        "gaitgraph-data check {wildcards.dataset} --root {params.root:q} --keypoints {wildcards.keypoints}"
        " {params.files} --output {output.checked:q} > {log:q} 2>&1 || {{ cat {log:q} >&2; exit 1; }}"


rule convert_dataset:
    """The released pose files (synthetic, downloaded or yours) -> a converted dataset per keypoint source."""
    input:
        unpack(get_convert_inputs),
    output:
        dataset=directory("results/data/converted/{dataset}/{keypoints}"),
    log:
        "results/logs/convert_dataset/{dataset}/{keypoints}.log",
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=12000,
        runtime=240,
    params:
        source=get_source_path,
        options=convert_options,
    shell:
        "gaitgraph-data convert {wildcards.dataset} --input {params.source:q} --keypoints {wildcards.keypoints}"
        " --output {output.dataset:q} {params.options} > {log:q} 2>&1"


rule normalize_keypoints:
    input:
        dataset="results/data/converted/{dataset}/{keypoints}",
    output:
        dataset=directory("results/data/normalized/{dataset}/{keypoints}"),
    log:
        "results/logs/normalize_keypoints/{dataset}/{keypoints}.log",
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=6000,
        runtime=60,
    params:
        mode=lookup(dpath="datasets/{dataset}/normalization", within=config),
        fill=fill_flag,
    shell:
        "gaitgraph-data normalize --input {input.dataset:q} --output {output.dataset:q}"
        " --mode {params.mode} {params.fill} > {log:q} 2>&1"
