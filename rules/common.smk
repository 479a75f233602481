"""Config validation, wildcard constraints, target lists and input helpers. No rules here."""

import re
import shlex
from pathlib import Path

from gaitgraph.ablation.study import (
    TRAININGS,
    evaluation_flags,
    other_normalization,
    select_rows,
    training_recipes,
    training_settings,
)
from gaitgraph.config_check import ConfigError, check_registry, validate_config
from gaitgraph.datasets import get_dataset
from gaitgraph.methods import get_method, list_methods
from gaitgraph.recipes import resolve_recipe

# One line naming the config file, the key and the line (snakemake.utils.validate prints the whole
# schema). Files lowest precedence first: the Snakefile's configfile, then --configfile in order.
_cli_configfiles = [str(f) for f in workflow.config_settings.configfiles]
try:
    _config_files = [
        f for f in workflow.configfiles if str(f) not in _cli_configfiles
    ] + _cli_configfiles
    # beside config/config.yaml, relative to the working directory
    validate_config(config, "config/config.schema.yaml", _config_files)
    check_registry(
        config, _config_files
    )  # dataset names, keypoint sources, options: the dataset modules'
except ConfigError as e:
    raise WorkflowError(f"config error: {e}") from None

# The default target's trainings are one method, the one the datasets' recipes name (gaitgraph.config_check
# checks it); the benchmark (rules/benchmark.smk) adds every other trainable method of gaitgraph.methods.
# Pre-trained checkpoints are evaluated under their own names.
EXPERIMENT = "gaitgraph2"

# (dataset, keypoints) pairs, in config order: casia-b/hrnet, oumvlp-pose/openpose, .../alphapose, ...
RUNS = [(ds, kp) for ds, entry in config["datasets"].items() for kp in entry["keypoints"]]
SEEDS = config["seeds"]
BENCHMARK = config["benchmark"]  # every key has its schema default


def method_recipe(method, dataset):
    """The recipe a method trains with on a dataset: GaitGraph2 the dataset's own (datasets/<ds>/train/recipe),
    the others benchmark/per_method/<method>/recipes/<ds> or the method's (MethodSpec.recipes); None: none.
    """
    if method == EXPERIMENT:
        return config["datasets"][dataset]["train"]["recipe"]
    configured = BENCHMARK["per_method"].get(method, {}).get("recipes", {})
    return configured.get(dataset) or get_method(method).recipes.get(dataset)


# the benchmark's methods (benchmark/methods; null: every trainable method, in registry order) and its
# (method, dataset, keypoints) runs: every configured dataset x keypoint source the method has a recipe for
BENCHMARK_METHODS = BENCHMARK["methods"] or [m for m in list_methods() if get_method(m).trainable]
BENCHMARK_RUNS = [(m, ds, kp) for m in BENCHMARK_METHODS for ds, kp in RUNS if method_recipe(m, ds)]


def _alternatives(names):
    return "|".join(re.escape(n) for n in sorted(set(names))) or "(?!)"


# the configured datasets and their keypoint sources (names checked against gaitgraph.datasets)
DATASETS = config["datasets"]


wildcard_constraints:
    dataset=_alternatives(DATASETS),
    tree_dataset=_alternatives(ds for ds in DATASETS if not get_dataset(ds).source_file),
    source_file=_alternatives(
        get_dataset(ds).source_file for ds in DATASETS if get_dataset(ds).source_file
    ),
    keypoints=_alternatives(kp for ds in DATASETS for kp in get_dataset(ds).keypoints),
    method=_alternatives([EXPERIMENT, *BENCHMARK_METHODS]),
    seed=r"\d+",
    name=r"[A-Za-z0-9_.-]+",


# --- targets ---------------------------------------------------------------------------------


def get_metrics_files():
    """Every evaluation that goes into the tables: ours per run x seed, then pre-trained ones."""
    ours = [
        f"results/evaluate/{ds}/{kp}/{EXPERIMENT}/seed{seed}/metrics.json"
        for ds, kp in RUNS
        for seed in SEEDS
    ]
    pretrained = [
        f"results/evaluate/{p['dataset']}/{p['keypoints']}/pretrained/{p['name']}/metrics.json"
        for p in config.get("pretrained", [])
    ]
    return ours + get_gaitgraph1_metrics_files() + pretrained


def gaitgraph1_metrics_files():
    """GaitGraph (v1) evaluations per seed (target gaitgraph1, rules/ablation.smk)."""
    g1 = config["gaitgraph1"]
    return [
        f"results/evaluate/{g1['dataset']}/{g1['keypoints']}/gaitgraph1-phase2/seed{seed}/metrics.json"
        for seed in SEEDS
    ]


def get_gaitgraph1_metrics_files():
    """The v1 evaluations in results/tables.md: when `gaitgraph1: {enabled: true}`."""
    return gaitgraph1_metrics_files() if config["gaitgraph1"]["enabled"] else []


def get_history_files():
    return [
        f"results/train/{ds}/{kp}/{EXPERIMENT}/seed{seed}/history.csv"
        for ds, kp in RUNS
        for seed in SEEDS
    ]


def get_history_labels():
    """Legend labels, in the order of get_history_files()."""
    return [f"{ds}/{kp} seed {seed}" for ds, kp in RUNS for seed in SEEDS]


def get_figure_files():
    """Every figure but the comparison (made with the tables from their summary). View heat maps only
    for datasets with camera views (the registry says which)."""
    figures = ["results/figures/rank1_by_view.png", "results/figures/training_curves.png"]
    figures += [
        f"results/figures/view_heatmaps/{ds}/{kp}.png" for ds, kp in RUNS if get_dataset(ds).views
    ]
    if config["activation_gifs"] > 0:
        figures += [f"results/figures/activations/{ds}/{kp}" for ds, kp in RUNS]
    return figures


def submission_files(methods):
    """The official submission files of datasets whose test probes' identities are withheld (GREW)."""
    return [
        f"results/submission/{ds}/{kp}/{m}/seed{seed}.csv"
        for m, ds, kp in dict.fromkeys([(EXPERIMENT, ds, kp) for ds, kp in RUNS] + BENCHMARK_RUNS)
        if m in methods and get_dataset(ds).withheld_probes
        for seed in SEEDS
    ]


def get_final_output():
    tables = ["results/tables.md", "results/tables.tex", "results/metrics.json"]
    return tables + submission_files([EXPERIMENT])


def benchmark_metrics_files():
    """Every evaluation of the benchmark: method x dataset x keypoints x seed (GaitGraph2's are the default target's)."""
    return [
        f"results/evaluate/{ds}/{kp}/{m}/seed{seed}/metrics.json"
        for m, ds, kp in BENCHMARK_RUNS
        for seed in SEEDS
    ]


def benchmark_history_files():
    return [
        f"results/train/{ds}/{kp}/{m}/seed{seed}/history.csv"
        for m, ds, kp in BENCHMARK_RUNS
        for seed in SEEDS
    ]


def benchmark_history_labels():
    """Legend labels, in the order of benchmark_history_files()."""
    return [
        f"{get_method(m).title}: {ds}/{kp} seed {seed}"
        for m, ds, kp in BENCHMARK_RUNS
        for seed in SEEDS
    ]


# --- data ------------------------------------------------------------------------------------


def dataset_source(wildcards):
    """synthetic | download | local for this dataset."""
    return DATASETS[wildcards.dataset]["source"]


def source_file(dataset):
    """The released file a dataset's converter reads ("" when it reads a folder tree)."""
    return get_dataset(dataset).source_file


def get_source_path(wildcards):
    """What `gaitgraph-data convert` reads: the synthetic twin, the download or your copy."""
    ds, name = wildcards.dataset, source_file(wildcards.dataset)
    source = dataset_source(wildcards)
    if source == "synthetic":
        return f"resources/synthetic/{ds}/{name}" if name else f"resources/synthetic/{ds}"
    if source == "download":
        return f"resources/{ds}/{name}"
    return DATASETS[ds]["local"]["path"]


def get_convert_inputs(wildcards):
    """The converter's input; for your own copy, the check that it is in place (it lies outside the workflow)."""
    configured = DATASETS[wildcards.dataset]["keypoints"]
    if wildcards.keypoints not in configured:
        raise ValueError(
            f"{wildcards.dataset}/{wildcards.keypoints}: keypoint source {wildcards.keypoints!r} is not configured "
            f"for {wildcards.dataset} (datasets/{wildcards.dataset}/keypoints: {configured})"
        )
    if dataset_source(wildcards) == "local":
        return {"checked": f"results/data/check/{wildcards.dataset}/{wildcards.keypoints}.json"}
    return {"source": get_source_path(wildcards)}


def _options(values):
    return " ".join(
        f"--{k.replace('_', '-')} {shlex.quote(str(v))}" for k, v in sorted(values.items())
    )


def local_file_options(wildcards):
    """More released files of your copy (e.g. --id-list), for the check and the converter."""
    local = DATASETS[wildcards.dataset].get("local", {})
    if dataset_source(wildcards) != "local":
        return ""
    return _options({k: v for k, v in local.items() if k != "path"})


def convert_options(wildcards):
    """`gaitgraph-data convert` options: the config's convert block, your copy's files, --synthetic."""
    entry = DATASETS[wildcards.dataset]
    options = [_options(entry.get("convert", {})), local_file_options(wildcards)]
    options.append("--synthetic" if entry["source"] == "synthetic" else "")
    return " ".join(o for o in options if o)


def fill_flag(wildcards):
    """Our variant, off in both shipped configs: the original fills missing joints at test time only."""
    fill = config["datasets"][wildcards.dataset].get("fill_before_training", False)
    return "--fill-missing-joints" if fill else ""


# --- training and evaluation -----------------------------------------------------------------


def recipe_file(recipe):
    """The file of a recipe (a packaged name, or a YAML file of your own): an input, so that editing it
    retrains. Relative to the working directory where it lies below it (stable run fingerprints)."""
    path = resolve_recipe(recipe).resolve()
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def get_train_recipe(wildcards):
    recipe = method_recipe(wildcards.method, wildcards.dataset)
    if recipe is None:
        raise ValueError(
            f"{wildcards.method} has no recipe for {wildcards.dataset}: set "
            f"benchmark/per_method/{wildcards.method}/recipes/{wildcards.dataset} (config/README.md)"
        )
    return recipe_file(recipe)


def get_hyperparameters(wildcards):
    """Training settings over the recipe (which is an input): GaitGraph2's are the dataset's (datasets/<ds>/train),
    the other methods' benchmark/train, then benchmark/per_method/<method>/train, then its datasets/<ds>.
    """
    if wildcards.method == EXPERIMENT:
        train = config["datasets"][wildcards.dataset]["train"]
    else:
        own = BENCHMARK["per_method"].get(wildcards.method, {})
        train = {**BENCHMARK["train"], **own.get("train", {})}
        train.update(own.get("datasets", {}).get(wildcards.dataset, {}))
    # sorted: the order of keys in a YAML file must not count as a changed parameter; null: the recipe's value
    return {key: train[key] for key in sorted(train) if key != "recipe" and train[key] is not None}


def get_run_dir(wildcards):
    """Lightning's own folder for this run (checkpoints, logs): not a declared output."""
    return "results/train/{dataset}/{keypoints}/{method}/seed{seed}/run".format(**wildcards)


def method_title(wildcards):
    """The method's name in tables and figures (GaitGraph2, GaitGraph, ...)."""
    return get_method(wildcards.method).title


def evaluation_split(wildcards):
    """The split the dataset's first scored convention evaluates: test, GREW's heldout (gaitgraph.datasets)."""
    return get_dataset(wildcards.dataset).scored_split


def train_runtime(wildcards, attempt):
    """Minutes: 12 h, then 24 h, ... A retry resumes from the last checkpoint."""
    return 720 * attempt


def tta_flag(wildcards):
    """evaluate/tta true: each method's own test protocol (GaitGraph2 with TTA, GaitGraph v1 without);
    false: no test-time augmentation for any method that can switch it."""
    return "--tta auto" if config["evaluate"]["tta"] else "--no-tta"


def get_pretrained(wildcards):
    matches = [p for p in config.get("pretrained", []) if p["name"] == wildcards.name]
    if not matches:
        raise ValueError(
            f"no pre-trained checkpoint named {wildcards.name!r} in config 'pretrained'"
        )
    return matches[0]


def get_pretrained_checkpoint(wildcards):
    return get_pretrained(wildcards)["checkpoint"]


def get_pretrained_method(wildcards):
    return get_pretrained(wildcards).get("method", "GaitGraph2 (pre-trained)")


# --- the ablation study and GaitGraph (v1) (rules/ablation.smk) -------------------------------

ABLATION = config["ablation"]  # every key has its schema default
ABLATION_SEEDS = ABLATION["seeds"] if ABLATION["seeds"] is not None else SEEDS
ABLATION_ROWS = {r.name: r for r in select_rows(ABLATION["rows"])}
GAITGRAPH1 = config["gaitgraph1"]


def default_normalization(dataset):
    return config["datasets"][dataset]["normalization"]


def ablation_metrics_files():
    prefix = f"results/ablation/{ABLATION['dataset']}/{ABLATION['keypoints']}"
    return [
        f"{prefix}/evaluate/{row}/seed{seed}/metrics.json"
        for row in ABLATION_ROWS
        for seed in ABLATION_SEEDS
    ]


def training_data(dataset, keypoints, training):
    """The normalized dataset; the normalization row trains on the mode the workflow does not use."""
    if TRAININGS[training].normalization == "other":
        mode = other_normalization(default_normalization(dataset))
        return f"results/ablation/data/{dataset}/{keypoints}/{mode}"
    return f"results/data/normalized/{dataset}/{keypoints}"


def ablation_data(wildcards):
    return training_data(wildcards.dataset, wildcards.keypoints, wildcards.training)


def ablation_recipes(wildcards):
    base = ABLATION["base_recipe"] or config["datasets"][wildcards.dataset]["train"]["recipe"]
    return [recipe_file(r) for r in training_recipes(wildcards.training, base)]


def ablation_settings(wildcards):
    train = config["datasets"][wildcards.dataset]["train"]
    return training_settings(train, ABLATION.get("train"), wildcards.training)


def row_training(wildcards):
    return ABLATION_ROWS[wildcards.row].training


def row_model(wildcards):
    return "results/ablation/{dataset}/{keypoints}/train/{training}/seed{seed}/model.ckpt".format(
        training=row_training(wildcards), **wildcards
    )


def row_data(wildcards):
    return training_data(wildcards.dataset, wildcards.keypoints, row_training(wildcards))


def gaitgraph1_settings(dataset, phase):
    """The dataset's window and validation interval, then gaitgraph1/phase<N>; epochs, learning rate,
    batch size and backbone come from v1's recipes unless phase<N> overrides them."""
    train = config["datasets"][dataset]["train"]
    out = {k: train[k] for k in ("sequence_length", "check_val_every_n_epoch") if k in train}
    out.update(GAITGRAPH1.get(f"phase{phase}") or {})
    return {k: v for k, v in out.items() if v is not None}  # null: the recipe's value


def gaitgraph1_extra():
    """Workflow settings merged into v1's config: min_length where the config sets one."""
    if GAITGRAPH1["min_length"] is None:
        return {}
    return {"data": {"min_length": int(GAITGRAPH1["min_length"])}}
