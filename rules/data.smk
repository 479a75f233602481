rule download_casia_b:
    """CASIA-B poses from the GaitGraph v0.1 release; SHA-256 verified (or recorded on first use)."""
    output:
        archive="resources/casia-b/data.zip",
        csv="resources/casia-b/casia-b_pose_coco.csv",
    log:
        "results/logs/download_casia_b/casia-b.log",
    conda:
        "../envs/base.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        url=lookup(dpath="datasets/casia-b/download/url", within=config),
        sha256=lookup(dpath="datasets/casia-b/download/sha256", within=config),
        member=lookup(dpath="datasets/casia-b/download/member", within=config),
        retries=lookup(dpath="datasets/casia-b/download/retries", within=config),
    shell:
        "python -m gaitgraph.data.download {params.url:q} {output.archive:q} --sha256 '{params.sha256}'"
        " --retries {params.retries} --extract {params.member:q} --to {output.csv:q} > {log:q} 2>&1"
        " || {{ cat {log:q} >&2; exit 1; }}"


rule synthesize_casia_b:
    output:
        csv="resources/synthetic/casia-b/casia-b_pose_coco.csv",
    log:
        "results/logs/synthesize_casia_b/casia-b.log",
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        subjects=lookup(dpath="datasets/casia-b/synthetic/subjects", within=config),
        seed=lookup(dpath="datasets/casia-b/synthetic/seed", within=config),
    shell:
        "gaitgraph-data synthesize casia-b --output {output.csv:q} --subjects {params.subjects}"
        " --seed {params.seed} --quiet > {log:q} 2>&1"


rule synthesize_oumvlp_pose:
    output:
        openpose=directory("resources/synthetic/oumvlp-pose/openpose"),
        alphapose=directory("resources/synthetic/oumvlp-pose/alphapose"),
        id_list="resources/synthetic/oumvlp-pose/ID_list.csv",
    log:
        "results/logs/synthesize_oumvlp_pose/oumvlp-pose.log",
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        root=subpath(output.id_list, parent=True),
        subjects=lookup(dpath="datasets/oumvlp-pose/synthetic/subjects", within=config),
        seed=lookup(dpath="datasets/oumvlp-pose/synthetic/seed", within=config),
    shell:
        "gaitgraph-data synthesize oumvlp-pose --output {params.root:q} --subjects {params.subjects}"
        " --seed {params.seed} --quiet > {log:q} 2>&1"


rule check_oumvlp_pose:
    """OUMVLP-Pose needs a licence: fail with where to apply and where to put the files."""
    output:
        checked="results/data/check/oumvlp-pose/{keypoints}.json",
    log:
        "results/logs/check_oumvlp_pose/{keypoints}.log",
    conda:
        "../envs/base.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        root=lookup(dpath="datasets/oumvlp-pose/local/path", within=config),
        id_list=lookup(dpath="datasets/oumvlp-pose/local/id_list", within=config),
    shell:
        "python -m gaitgraph.pipeline check-oumvlp-pose --root {params.root:q}"
        " --id-list {params.id_list:q} --keypoints {wildcards.keypoints} --output {output.checked:q}"
        " > {log:q} 2>&1 || {{ cat {log:q} >&2; exit 1; }}"


rule convert_casia_b:
    input:
        csv=get_casia_b_csv,
    output:
        dataset=directory("results/data/converted/casia-b/hrnet"),
    log:
        "results/logs/convert_casia_b/casia-b/hrnet.log",
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=6000,
        runtime=60,
    params:
        synthetic=synthetic_flag("casia-b"),
    shell:
        "gaitgraph-data convert casia-b --input {input.csv:q} --output {output.dataset:q}"
        " {params.synthetic} > {log:q} 2>&1"


rule convert_oumvlp_pose:
    input:
        unpack(get_oumvlp_pose_input),
    output:
        dataset=directory("results/data/converted/oumvlp-pose/{keypoints}"),
    log:
        "results/logs/convert_oumvlp_pose/oumvlp-pose/{keypoints}.log",
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=12000,
        runtime=240,
    params:
        root=get_oumvlp_pose_root,
        id_list=get_oumvlp_pose_id_list,
        synthetic=synthetic_flag("oumvlp-pose"),
        person=lookup(dpath="datasets/oumvlp-pose/person", within=config, default="track"),
    shell:
        "gaitgraph-data convert oumvlp-pose --input {params.root:q} --keypoints {wildcards.keypoints}"
        " --id-list {params.id_list:q} --output {output.dataset:q} --person {params.person}"
        " {params.synthetic} > {log:q} 2>&1"


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
