"""What is written about environments, checked statically (never against what happens to be installed;
`gaitgraph env --check` does that): the pip locks in requirements/ agree with pyproject.toml and with
each other; envs/*.yaml use only conda-forge, pin every package exactly and agree with the lock; explicit
conda pin files, where present, agree with their yaml; the training env asks for a CUDA build; every
rule names an existing env; the small envs really suffice for their rules' imports."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from gaitgraph.environment import canonical_name, read_lock

ROOT = Path(__file__).resolve().parents[1]
ENVS = sorted((ROOT / "envs").glob("*.yaml"))
LOCKS = {flavour: ROOT / "requirements" / f"lock-{flavour}.txt" for flavour in ("cpu", "cuda")}
PIN = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+) =(?P<version>[0-9][0-9A-Za-z.]*)(=(?P<build>\S+))?$")
# conda-forge name -> PyPI name where they differ
PYPI_NAME = {
    "pytorch": "torch",
    "pytorch_geometric": "torch-geometric",
    "matplotlib-base": "matplotlib",
    "seaborn-base": "seaborn",
}
# conda packages that are not Python distributions of the lock
NOT_IN_LOCK = {"python", "pip", "cuda-version"}


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for req in project["dependencies"] + project["optional-dependencies"]["dev"]:
        name, _, ver = req.partition("==")
        assert ver, f"pyproject.toml: {req!r} is not an exact pin"
        pins[canonical_name(re.sub(r"\[.*\]", "", name))] = ver
    return pins


def _lock(flavour: str) -> dict[str, str]:
    return read_lock(LOCKS[flavour])


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


# --- the pip locks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", sorted(LOCKS))
def test_lock_pins_every_direct_dependency_as_pyproject_does(flavour):
    lock = _lock(flavour)
    for name, version in _pyproject_pins().items():
        assert name in lock, f"{LOCKS[flavour].name} lacks {name}; run: bash requirements/compile.sh"
        assert lock[name].split("+")[0] == version, (
            f"{LOCKS[flavour].name}: {name}=={lock[name]} but pyproject.toml pins {version}; run: bash requirements/compile.sh"
        )


@pytest.mark.parametrize("flavour", sorted(LOCKS))
def test_lock_has_hashes_and_says_how_it_was_made(flavour):
    text = LOCKS[flavour].read_text()
    assert "bash requirements/compile.sh" in text.splitlines()[1]
    entries = re.split(r"\n(?=[a-z0-9])", text.split("\n", 2)[2].strip())
    assert entries and all("--hash=sha256:" in e for e in entries), "every pin carries its hashes"


def test_cpu_and_cuda_locks_differ_only_in_the_torch_build():
    cpu, cuda = _lock("cpu"), _lock("cuda")
    assert cpu["torch"] == f"{cuda['torch']}+cpu"
    shared = set(cpu) & set(cuda) - {"torch"}
    assert {n: cpu[n] for n in shared} == {n: cuda[n] for n in shared}
    assert set(cpu) - set(cuda) == set()
    gpu_only = set(cuda) - set(cpu)
    assert gpu_only and all(n.startswith(("nvidia-", "cuda-", "triton")) for n in gpu_only), sorted(gpu_only)


# --- conda envs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_env_is_conda_forge_only_and_exactly_pinned(path):
    env = yaml.safe_load(path.read_text())
    assert env["channels"] == ["conda-forge", "nodefaults"]
    names = [m["name"] for m in _deps(path)]
    assert len(names) == len(set(names)), f"{path.name}: duplicate packages"
    assert "python" in names


def env_disagreements(deps: list[re.Match], lock: dict[str, str], requires_python: str) -> list[str]:
    """Every pin of a conda env that disagrees with the lock (conda names mapped to PyPI names)."""
    lo, hi = re.match(r">=(\d+\.\d+),<(\d+\.\d+)", requires_python).groups()
    as_tuple = lambda v: tuple(int(x) for x in v.split(".")[:2])  # noqa: E731
    problems = []
    for m in deps:
        name, ver = m["name"], m["version"]
        if name == "python":
            # the project pins a Python range, not a patch release: the env pins the minor version
            if not as_tuple(lo) <= as_tuple(ver) < as_tuple(hi):
                problems.append(f"python ={ver} outside {requires_python}")
            continue
        if name in NOT_IN_LOCK:
            continue
        pypi = canonical_name(PYPI_NAME.get(name, name))
        if pypi not in lock:
            problems.append(f"{name} ={ver}: {pypi} is not in the lock")
        elif lock[pypi].split("+")[0] != ver:
            problems.append(f"{name} ={ver} but the lock pins {pypi}=={lock[pypi]}")
    return problems


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_env_versions_agree_with_the_lock(path):
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    problems = env_disagreements(_deps(path), _lock("cpu"), requires)
    assert not problems, f"envs/{path.name}: " + "; ".join(problems)


def test_env_check_catches_drift():
    """The check above can fail: a pin one version off, an unknown package, a Python outside the range."""
    deps = [PIN.match(d) for d in ("python =3.10", "numpy =2.4.5", "notapackage =1.0", "pytorch =2.13.0=cuda12*")]
    problems = env_disagreements(deps, {"numpy": "2.4.6", "torch": "2.13.0+cpu"}, ">=3.11,<3.13")
    assert problems == ["python =3.10 outside >=3.11,<3.13", "numpy =2.4.5 but the lock pins numpy==2.4.6",
                        "notapackage =1.0: notapackage is not in the lock"]


# --- explicit conda pin files (envs/<env>.<platform>.pin.txt, used by Snakemake when present) ------


def pin_file_versions(path: Path) -> dict[str, str]:
    """``name -> version`` of a conda explicit file (``@EXPLICIT`` then one package URL per line)."""
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert lines and lines[0] == "@EXPLICIT", f"{path.name}: not a conda explicit file (first line must be @EXPLICIT)"
    versions = {}
    for url in lines[1:]:
        m = re.match(r".*/(?P<name>[^/]+)-(?P<version>[^-/]+)-(?P<build>[^-/]+)\.(conda|tar\.bz2)(#\S+)?$", url)
        assert m, f"{path.name}: {url!r} is not a package URL"
        versions[m["name"]] = m["version"]
    return versions


def pin_file_disagreements(pin_file: Path, env_yaml: Path) -> list[str]:
    found = pin_file_versions(pin_file)
    problems = []
    for m in _deps(env_yaml):
        name, ver = m["name"], m["version"]
        if name not in found:
            problems.append(f"{name} missing")
        elif not (found[name] == ver or found[name].startswith(ver + ".")):
            problems.append(f"{name} {found[name]} but the yaml pins ={ver}")
    return problems


@pytest.mark.parametrize("pin_file", sorted((ROOT / "envs").glob("*.pin.txt")), ids=lambda p: p.name)
def test_conda_pin_files_agree_with_their_yaml(pin_file):
    env_yaml = pin_file.with_name(pin_file.name.split(".")[0] + ".yaml")
    assert env_yaml.is_file(), f"{pin_file.name}: no {env_yaml.name} beside it"
    problems = pin_file_disagreements(pin_file, env_yaml)
    assert not problems, f"envs/{pin_file.name}: " + "; ".join(problems)


def test_pin_file_check_catches_drift(tmp_path):
    yml = tmp_path / "small.yaml"
    yml.write_text("channels: [conda-forge, nodefaults]\ndependencies:\n  - python =3.11\n  - numpy =2.4.6\n  - pandas =2.3.3\n")
    pin = tmp_path / "small.linux-64.pin.txt"
    base = "https://conda.anaconda.org/conda-forge/linux-64"
    pin.write_text(f"# generated\n@EXPLICIT\n{base}/python-3.11.14-hd63d673_1_cpython.conda#abc\n"
                   f"{base}/numpy-2.4.6-py311h2e04523_0.conda#def\n{base}/pandas-2.3.2-py311hed34c8f_0.conda\n")
    assert pin_file_disagreements(pin, yml) == ["pandas 2.3.2 but the yaml pins =2.3.3"]
    pin.write_text(f"{base}/numpy-2.4.6-py311h2e04523_0.conda\n")
    with pytest.raises(AssertionError, match="@EXPLICIT"):
        pin_file_versions(pin)


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
                   "gaitgraph.viz.rank1_by_view", "gaitgraph.viz.comparison", "gaitgraph.viz.activation"],
    "plot.yaml": ["gaitgraph.viz.rank1_by_view", "gaitgraph.viz.view_heatmaps", "gaitgraph.viz.training_curves", "gaitgraph.viz.comparison", "gaitgraph.paper.tables"],
    "base.yaml": ["gaitgraph.data.download", "gaitgraph.cli.data", "gaitgraph.cli.data_check", "gaitgraph.data.oumvlp",
                  "gaitgraph.data.gait3d", "gaitgraph.data.grew"],
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
