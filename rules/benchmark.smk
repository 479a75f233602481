"""The method x dataset benchmark: every trainable method of gaitgraph.methods on every configured dataset
and keypoint source it has a recipe for, per seed, beside the published numbers. Not part of the default
target:
    snakemake --cores 2 results/benchmark.md          # + benchmark.tex, benchmark.json, figures/benchmark.png
    snakemake --cores 2 benchmark                     # the same, plus the benchmark's training curves and
                                                      # every method's submission files (GREW)
Trainings and evaluations are the generic train_model / evaluate_model jobs ({method} wildcard); GaitGraph2's
are the default target's. Settings: config "benchmark" (config/README.md); docs/pipeline.md.
"""


rule benchmark:
    """The benchmark table and figures, the training curves of its runs and every method's submission files."""
    input:
        "results/benchmark.md",
        "results/figures/benchmark_training_curves.png",
        submission_files(BENCHMARK_METHODS),


rule build_benchmark:
    """results/benchmark.{md,tex,json}: one row per method (ours: mean +- std with n; published beside),
    one column per dataset/keypoints (the dataset's main metric); results/figures/benchmark.png."""
    input:
        metrics=benchmark_metrics_files(),
    output:
        md=report(
            "results/benchmark.md",
            caption="../report/benchmark.rst",
            category="Benchmark",
            labels={"table": "method x dataset (Markdown)"},
        ),
        tex="results/benchmark.tex",
        summary=report(
            "results/benchmark.json",
            caption="../report/benchmark.rst",
            category="Benchmark",
            labels={"table": "method x dataset (JSON)"},
        ),
        comparison=report(
            "results/figures/benchmark.png",
            caption="../report/benchmark_figure.rst",
            category="Benchmark",
            labels={"table": "ours vs published (figure)"},
        ),
        comparison_pdf="results/figures/benchmark.pdf",
    log:
        "results/logs/build_benchmark/benchmark.log",
    localrule: True
    conda:
        "../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        table="benchmark",
    script:
        "../workflow_scripts/build_tables.py"


rule plot_benchmark_training_curves:
    input:
        histories=benchmark_history_files(),
    output:
        png=report(
            "results/figures/benchmark_training_curves.png",
            caption="../report/training_curves.rst",
            category="Benchmark",
            labels={"table": "training curves of every method"},
        ),
        pdf="results/figures/benchmark_training_curves.pdf",
    log:
        "results/logs/plot_training_curves/benchmark.log",
    localrule: True
    conda:
        "../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        labels=benchmark_history_labels(),
    script:
        "../workflow_scripts/plot_training_curves.py"
