"""envs/*.yaml, checked statically (conda-forge cannot be reached from CI): they parse, use only
conda-forge, pin every package exactly, agree with pyproject.toml, the training env asks for a CUDA
build, every rule names an existing env, and the small envs really suffice for their rules' imports."""

import re
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ENVS = sorted((ROOT / "envs").glob("*.yaml"))
PIN = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+) =(?P<version>[0-9][0-9A-Za-z.]*)(=(?P<build>\S+))?$")
# conda-forge name -> PyPI name where they differ
PYPI_NAME = {
    "pytorch": "torch",
    "pytorch_geometric": "torch-geometric",
    "matplotlib-base": "matplotlib",
    "seaborn-base": "seaborn",
    "docstring_parser": "docstring-parser",
}


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for req in project["dependencies"] + project["optional-dependencies"]["dev"]:
        name, _, ver = req.partition("==")
        pins[re.sub(r"\[.*\]", "", name).lower()] = ver
    return pins


def _deps(path: Path) -> list[re.Match]:
    env = yaml.safe_load(path.read_text())
    matches = []
    for dep in env["dependencies"]:
        assert isinstance(dep, str), f"{path.name}: no pip sections ({dep!r}); pip could replace conda's torch"
        m = PIN.match(dep)
        assert m, f"{path.name}: {dep!r} is not an exact `name =version` pin"
        matches.append(m)
    return matches


def test_there_are_envs():
    assert {p.stem for p in ENVS} >= {"torch", "plot", "base"}


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_env_is_conda_forge_only_and_exactly_pinned(path):
    env = yaml.safe_load(path.read_text())
    assert env["channels"] == ["conda-forge", "nodefaults"]
    names = [m["name"] for m in _deps(path)]
    assert len(names) == len(set(names)), f"{path.name}: duplicate packages"
    assert "python" in names


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_env_versions_agree_with_pyproject(path):
    pins = _pyproject_pins()
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    lo, hi = re.match(r">=(\d+\.\d+),<(\d+\.\d+)", requires).groups()
    as_tuple = lambda v: tuple(int(x) for x in v.split(".")[:2])  # noqa: E731
    for m in _deps(path):
        name, ver = m["name"], m["version"]
        if name == "python":
            # the project pins a Python range, not a patch release: the env pins the minor version
            assert as_tuple(lo) <= as_tuple(ver) < as_tuple(hi), f"python ={ver} outside {requires}"
            continue
        pypi = PYPI_NAME.get(name, name).lower()
        if pypi in pins:
            assert ver == pins[pypi], f"{path.name}: {name} ={ver} but pyproject.toml pins {pypi}=={pins[pypi]}"
        elif name not in {"pip", "setuptools", "cuda-version"}:
            # not in pyproject (e.g. jsonargparse[signatures] extras): the version the venv runs with
            assert ver == version(pypi).split("+")[0], f"{path.name}: {name} ={ver}, venv has {version(pypi)}"


def test_training_env_asks_for_a_cuda_build():
    deps = {m["name"]: m for m in _deps(ROOT / "envs" / "torch.yaml")}
    assert deps["pytorch"]["build"] and deps["pytorch"]["build"].startswith("cuda"), (
        "a plain pytorch pin resolves to a cpu_* build on a GPU-less login node"
    )
    cuda_major = deps["cuda-version"]["version"].split(".")[0]
    assert deps["pytorch"]["build"].startswith(f"cuda{cuda_major}")


def test_every_rule_has_an_existing_env():
    """Every rule that runs something (shell/script/run) names an env file that exists."""
    for smk in sorted((ROOT / "rules").glob("*.smk")):
        for block in re.split(r"^(?=(?:local)?rule )", smk.read_text(), flags=re.M)[1:]:
            name = block.split()[1].rstrip(":")
            if not re.search(r"^    (shell|script|run):", block, re.M):
                continue  # a target rule
            env = re.search(r'^    conda:\s*\n\s*"\.\./envs/([^"]+)"', block, re.M)
            assert env, f"{smk.name}: rule {name} has no conda: env"
            assert (ROOT / "envs" / env.group(1)).is_file(), f"{smk.name}: rule {name}: {env.group(1)} missing"


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_post_deploy_installs_the_package(path):
    script = path.with_name(path.stem + ".post-deploy.sh")
    assert script.is_file(), f"{script.name} missing: the env would lack the gaitgraph package"
    assert "install-gaitgraph.sh" in script.read_text()
    for sh in (script, ROOT / "envs" / "install-gaitgraph.sh"):
        subprocess.run(["bash", "-n", str(sh)], check=True)


# third-party top-level module -> the conda-forge package that provides it
MODULE_PACKAGE = {
    "torch": "pytorch",
    "torch_geometric": "pytorch_geometric",
    "pytorch_lightning": "pytorch-lightning",
    "torchmetrics": "torchmetrics",
    "pytorch_metric_learning": "pytorch-metric-learning",
    "jsonargparse": "jsonargparse",
    "tensorboard": "tensorboard",
    "numpy": "numpy",
    "pandas": "pandas",
    "pyarrow": "pyarrow",
    "scipy": "scipy",
    "matplotlib": "matplotlib-base",
    "seaborn": "seaborn-base",
    "yaml": "pyyaml",
    "tqdm": "tqdm",
}
# what the rules using each env import (their shell commands and workflow_scripts/)
ENV_MODULES = {
    "torch.yaml": ["gaitgraph.cli.main", "gaitgraph.cli.data", "gaitgraph.cli.evaluate", "gaitgraph.paper.tables",
                   "gaitgraph.viz.figures", "gaitgraph.viz.activation"],
    "plot.yaml": ["gaitgraph.viz.figures", "gaitgraph.paper.tables"],
    "base.yaml": ["gaitgraph.data.download", "gaitgraph.pipeline"],
}

BLOCKER = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is not in this env")
sys.meta_path.insert(0, Block())
for module in MODULES:
    __import__(module)
"""


@pytest.mark.parametrize("env", sorted(ENV_MODULES))
def test_env_suffices_for_its_rules(env):
    """Import the env's modules with every known third-party package it lacks made unimportable."""
    provided = {m["name"] for m in _deps(ROOT / "envs" / env)}
    blocked = sorted(mod for mod, pkg in MODULE_PACKAGE.items() if pkg not in provided)
    code = f"BLOCKED = {blocked!r}\nMODULES = {ENV_MODULES[env]!r}\n" + BLOCKER
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, f"envs/{env} lacks a package its rules import:\n{r.stderr[-1500:]}"


def test_env_modules_cover_every_env():
    assert set(ENV_MODULES) == {p.name for p in ENVS}
