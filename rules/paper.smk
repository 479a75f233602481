rule build_tables:
    """Paper tables (ours, mean +- std over seeds, beside the published numbers), the summary and
    the comparison figure. Written last (the other figures are inputs), so that the documented
    target results/tables.md brings the whole paper output with it."""
    input:
        metrics=get_metrics_files(),
        figures=get_figure_files(),
    output:
        md=report(
            "results/tables.md",
            caption="../report/tables.rst",
            category="Tables",
            labels={"table": "rank-1 (Markdown)"},
        ),
        tex="results/tables.tex",
        summary=report(
            "results/metrics.json",
            caption="../report/summary.rst",
            category="Tables",
            labels={"table": "summary (JSON)"},
        ),
        comparison=report(
            "results/figures/comparison.png",
            caption="../report/comparison.rst",
            category="Figures",
            labels={"figure": "ours vs published"},
        ),
        comparison_pdf="results/figures/comparison.pdf",
    log:
        "results/logs/build_tables/tables.log",
    localrule: True
    conda:
        "../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        table="tables",
    script:
        "../workflow_scripts/build_tables.py"


rule plot_rank1_by_view:
    input:
        metrics=get_metrics_files(),
    output:
        png=report(
            "results/figures/rank1_by_view.png",
            caption="../report/rank1_by_view.rst",
            category="Figures",
            labels={"figure": "rank-1 by probe view"},
        ),
        pdf="results/figures/rank1_by_view.pdf",
    log:
        "results/logs/plot_rank1_by_view/figure.log",
    localrule: True
    conda:
        "../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../workflow_scripts/plot_rank1_by_view.py"


rule plot_view_heatmaps:
    input:
        metrics=f"results/evaluate/{{dataset}}/{{keypoints}}/{EXPERIMENT}/seed{SEEDS[0]}/metrics.json",
    output:
        png=report(
            "results/figures/view_heatmaps/{dataset}/{keypoints}.png",
            caption="../report/view_heatmaps.rst",
            category="Figures",
            subcategory="Gallery view x probe view",
            labels={"dataset": "{dataset}", "keypoints": "{keypoints}"},
        ),
        pdf="results/figures/view_heatmaps/{dataset}/{keypoints}.pdf",
    log:
        "results/logs/plot_view_heatmaps/{dataset}/{keypoints}.log",
    localrule: True
    conda:
        "../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../workflow_scripts/plot_view_heatmaps.py"


rule plot_training_curves:
    input:
        histories=get_history_files(),
    output:
        png=report(
            "results/figures/training_curves.png",
            caption="../report/training_curves.rst",
            category="Figures",
            labels={"figure": "training curves"},
        ),
        pdf="results/figures/training_curves.pdf",
    log:
        "results/logs/plot_training_curves/figure.log",
    localrule: True
    conda:
        "../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        labels=get_history_labels(),
    script:
        "../workflow_scripts/plot_training_curves.py"


rule draw_activations:
    """Activation maps on the skeleton, one GIF per test sequence (config 'activation_gifs')."""
    input:
        model=f"results/train/{{dataset}}/{{keypoints}}/{EXPERIMENT}/seed{SEEDS[0]}/model.ckpt",
        data="results/data/normalized/{dataset}/{keypoints}",
    output:
        gifs=report(
            directory("results/figures/activations/{dataset}/{keypoints}"),
            patterns=["{name}.gif"],
            caption="../report/activations.rst",
            category="Activation maps",
            subcategory="{dataset} {keypoints}",
            labels={"dataset": "{dataset}", "keypoints": "{keypoints}", "sequence": "{name}"},
        ),
    log:
        "results/logs/draw_activations/{dataset}/{keypoints}.log",
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        limit=config["activation_gifs"],
    script:
        "../workflow_scripts/draw_activations.py"
