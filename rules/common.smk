"""Config validation, wildcard constraints, target lists and input helpers. No rules here."""

from gaitgraph.config_check import ConfigError, validate_config

# One line naming the config file, the key and the line (snakemake.utils.validate prints the whole
# schema). Files lowest precedence first: the Snakefile's configfile, then --configfile in order.
_cli_configfiles = [str(f) for f in workflow.config_settings.configfiles]
try:
    validate_config(
        config,
        "config/config.schema.yaml",  # beside config/config.yaml, relative to the working directory
        [f for f in workflow.configfiles if str(f) not in _cli_configfiles] + _cli_configfiles,
    )
except ConfigError as e:
    raise WorkflowError(f"config error: {e}") from None

# Our trainings are one experiment; pre-trained checkpoints are evaluated under their own names.
EXPERIMENT = "gaitgraph2"
METHOD = "GaitGraph2"

# (dataset, keypoints) pairs, in config order: casia-b/hrnet, oumvlp-pose/openpose, .../alphapose
RUNS = [(ds, kp) for ds, entry in config["datasets"].items() for kp in entry["keypoints"]]
SEEDS = config["seeds"]


wildcard_constraints:
    dataset="casia-b|oumvlp-pose",
    keypoints="hrnet|openpose|alphapose",
    experiment=EXPERIMENT,
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


def get_gaitgraph1_metrics_files():
    """GaitGraph (v1) evaluations per seed when `gaitgraph1: {enabled: true}` (rules/ablation.smk)."""
    g1 = config.get("gaitgraph1", {})
    if not g1.get("enabled", False):
        return []
    return [
        f"results/evaluate/{g1['dataset']}/{g1['keypoints']}/gaitgraph1/seed{seed}/metrics.json"
        for seed in SEEDS
    ]


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
    """Every figure but the comparison (made with the tables from their summary)."""
    figures = ["results/figures/rank1_by_view.png", "results/figures/training_curves.png"]
    figures += [f"results/figures/view_heatmaps/{ds}/{kp}.png" for ds, kp in RUNS]
    if config["activation_gifs"] > 0:
        figures += [f"results/figures/activations/{ds}/{kp}" for ds, kp in RUNS]
    return figures


def get_final_output():
    return ["results/tables.md", "results/tables.tex", "results/metrics.json"]


# --- data ------------------------------------------------------------------------------------


def get_casia_b_csv(wildcards):
    if config["datasets"]["casia-b"]["source"] == "download":
        return "resources/casia-b/casia-b_pose_coco.csv"
    return "resources/synthetic/casia-b/casia-b_pose_coco.csv"


def get_oumvlp_pose_input(wildcards):
    """The synthetic tree, or the check that the user's licensed copy is in place."""
    if config["datasets"]["oumvlp-pose"]["source"] == "local":
        return {"checked": f"results/data/check/oumvlp-pose/{wildcards.keypoints}.json"}
    return {
        "tree": f"resources/synthetic/oumvlp-pose/{wildcards.keypoints}",
        "id_list": "resources/synthetic/oumvlp-pose/ID_list.csv",
    }


def get_oumvlp_pose_root(wildcards):
    if config["datasets"]["oumvlp-pose"]["source"] == "local":
        return config["datasets"]["oumvlp-pose"]["local"]["path"]
    return "resources/synthetic/oumvlp-pose"


def get_oumvlp_pose_id_list(wildcards):
    if config["datasets"]["oumvlp-pose"]["source"] == "local":
        return config["datasets"]["oumvlp-pose"]["local"]["id_list"]
    return "resources/synthetic/oumvlp-pose/ID_list.csv"


def synthetic_flag(dataset):
    return "--synthetic" if config["datasets"][dataset]["source"] == "synthetic" else ""


def fill_flag(wildcards):
    """Our variant, off in both shipped configs: the original fills missing joints at test time only."""
    fill = config["datasets"][wildcards.dataset].get("fill_before_training", False)
    return "--fill-missing-joints" if fill else ""


# --- training and evaluation -----------------------------------------------------------------


def get_train_config(wildcards):
    return config["datasets"][wildcards.dataset]["train"]["config"]


def get_hyperparameters(wildcards):
    """Training settings of this dataset (minus the base-config path, which is an input)."""
    train = config["datasets"][wildcards.dataset]["train"]
    # sorted: the order of keys in a YAML file must not count as a changed parameter
    return {key: train[key] for key in sorted(train) if key != "config"}


def get_run_dir(wildcards):
    """Lightning's own folder for this run (checkpoints, logs): not a declared output."""
    return "results/train/{dataset}/{keypoints}/{experiment}/seed{seed}/run".format(**wildcards)


def train_runtime(wildcards, attempt):
    """Minutes: 12 h, then 24 h, ... A retry resumes from the last checkpoint."""
    return 720 * attempt


def tta_flag(wildcards):
    return "" if config.get("evaluate", {}).get("tta", True) else "--no-tta"


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
