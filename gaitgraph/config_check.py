"""Validate a configuration mapping against a JSON schema, with messages that name the file, key and line.

The workflow (``rules/common.smk``) calls :func:`validate_config` instead of Snakemake's bare
``snakemake.utils.validate``, whose error on an unknown top-level key prints the whole schema (300+
lines). This module knows nothing of Snakemake: it takes the merged config, the schema and the YAML
files the config came from (lowest precedence first) and raises :class:`ConfigError` with one line::

    config/my.yaml:12: datasets.casia-b.normalization: 'centre' is not one of ['none', 'center-scale'] ...

Defaults of the schema are filled in as Snakemake's ``validate(set_default=True)`` does. The same
check runs outside Snakemake: ``python -m gaitgraph.config_check [--schema S] FILE...`` (later files
override earlier ones, as repeated ``--configfile``); it also names the line of a YAML syntax error,
which Snakemake itself reports without file or line (docs/pipeline.md, "Config errors").
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml

HELP = "see config/README.md"


class ConfigError(ValueError):
    """A configuration that does not load or does not fit the schema; one line naming file, key and line."""


def load_yaml(path: str | os.PathLike) -> dict:
    """One YAML config file as a mapping; a syntax error names ``file:line:column``."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        at = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        what = " ".join(str(x) for x in (e.context, e.problem) if x)
        raise ConfigError(f"{at}: YAML syntax error: {what}; fix the file (tabs are not allowed for indentation)") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte offset {e.start}); save it as UTF-8") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({e})") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: a config file must be a mapping of keys at the top level, got a {type(doc).__name__}")
    return doc


def _line_of(path: Path, keys: Sequence) -> int | None:
    """Line (1-based) of the deepest part of ``keys`` that ``path`` sets, or None if it sets none."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return None
    line = None
    for key in keys:
        if isinstance(node, yaml.MappingNode):
            hit = next(((k, v) for k, v in node.value if k.value == str(key)), None)
            if hit is None:
                return line
            line, node = hit[0].start_mark.line + 1, hit[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def locate(keys: Sequence, files: Sequence[str | os.PathLike]) -> str:
    """``file:line`` where ``keys`` (or their deepest prefix) is set, in the file of highest precedence
    (the last) among those that set most of it; the file names if none sets any (a ``--config`` value)."""
    found = []
    for f in files:
        depth = next((n for n in range(len(keys), 0, -1) if _sets(Path(f), keys[:n])), 0)
        if depth:
            found.append((depth, f))
    if not found:
        return ", ".join(map(str, files)) or "the config"
    depth = max(d for d, _ in found)
    f = [f for d, f in found if d == depth][-1]
    line = _line_of(Path(f), keys[:depth])
    return f"{f}:{line}" if line else str(f)


def _sets(path: Path, keys: Sequence) -> bool:
    """Whether the YAML file ``path`` sets the key path ``keys``."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return False
    for key in keys:
        if isinstance(doc, dict) and key in doc:
            doc = doc[key]
        elif isinstance(doc, list) and isinstance(key, int) and key < len(doc):
            doc = doc[key]
        else:
            return False
    return True


def _validator(schema: dict):
    """Draft 2020-12 validator that fills in the schema's defaults (as Snakemake's validate does)."""
    from jsonschema import Draft202012Validator, validators

    base = Draft202012Validator.VALIDATORS["properties"]

    def properties_with_defaults(validator, properties, instance, schema_):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub:
                    instance.setdefault(name, sub["default"])
        yield from base(validator, properties, instance, schema_)

    return validators.extend(Draft202012Validator, {"properties": properties_with_defaults})(schema)


def _describe(error) -> tuple[list, str]:
    """(key path, one-line reason) of a jsonschema error; unknown keys get their own name in the path."""
    keys = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set((error.schema.get("properties") or {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        if extra:
            where = ".".join(map(str, keys)) or "the top level"
            known = ", ".join(sorted(allowed)) or "none"
            return keys + [extra[0]], f"unknown key {extra[0]!r} at {where} (known keys: {known})"
    return keys, error.message


def validate_config(config: dict, schema: str | os.PathLike | dict, files: Iterable[str | os.PathLike] = ()) -> dict:
    """Check ``config`` against ``schema`` (a YAML/JSON file or a mapping), filling in its defaults.

    ``files``: the config files that were merged into ``config``, lowest precedence first, to name
    the file and line of the offending key. Raises :class:`ConfigError` (one line) for the first error.
    """
    files = [Path(f) for f in files]
    if not isinstance(schema, dict):
        schema = load_yaml(schema)
    from jsonschema.exceptions import best_match

    error = best_match(_validator(schema).iter_errors(config))
    if error is None:
        return config
    keys, reason = _describe(error)
    key = ".".join(map(str, keys)) or "(top level)"
    raise ConfigError(f"{locate(keys, files)}: {key}: {reason}; {HELP}")


def _option_names(tool) -> set[str]:
    """The ``--option`` names (as config keys: ``-`` -> ``_``) a dataset tool's parser takes."""
    parser = argparse.ArgumentParser(add_help=False)
    tool.add_arguments(parser)
    return {o[2:].replace("-", "_") for a in parser._actions for o in a.option_strings if o.startswith("--")}


def registry_problems(config: dict) -> list[tuple[list, str]]:
    """``(key path, reason)`` for every dataset setting the dataset modules (``gaitgraph.datasets``) do not
    support: unknown dataset names, keypoint sources, sources, converter and local-file options; and
    datasets/keypoints named by ``pretrained``, ``ablation`` and ``gaitgraph1`` that are not configured."""
    from gaitgraph.datasets import get_dataset, list_datasets

    problems = []
    datasets = config.get("datasets") or {}
    for name, block in datasets.items():
        try:
            spec = get_dataset(name)
        except ValueError:
            problems.append((["datasets", name], f"unknown dataset {name!r} (known: {', '.join(list_datasets())})"))
            continue
        if spec.convert is None:
            problems.append((["datasets", name], f"{name} has no converter: it cannot be a dataset of the workflow"))
            continue
        for i, kp in enumerate(block.get("keypoints", [])):
            if kp not in spec.keypoints:
                problems.append((["datasets", name, "keypoints", i],
                                 f"{name} has no keypoint source {kp!r} (known: {', '.join(spec.keypoints)})"))
        source = block.get("source", "synthetic")
        if source == "synthetic" and spec.synthesize is None:
            problems.append((["datasets", name, "source"], f"{name} has no synthetic twin"))
        if source in ("download", "local") and source not in block:
            problems.append((["datasets", name, "source"], f"source is {source} but datasets.{name}.{source} is not set"))
        convert_options = _option_names(spec.convert)
        for key in block.get("convert", {}):
            if key not in convert_options - {"input", "output", "keypoints"}:
                problems.append((["datasets", name, "convert", key],
                                 f"`gaitgraph-data convert {name}` has no option --{key.replace('_', '-')}"))
        for key in set(block.get("local", {})) - {"path"}:
            if key not in convert_options:
                problems.append((["datasets", name, "local", key],
                                 f"`gaitgraph-data convert {name}` reads no file option --{key.replace('_', '-')}"))

    def configured(keys: list, dataset, keypoints) -> None:
        if dataset not in datasets:
            problems.append((keys + ["dataset"], f"dataset {dataset!r} is not configured under datasets"))
        elif keypoints is not None and keypoints not in datasets[dataset].get("keypoints", []):
            problems.append((keys + ["keypoints"], f"{keypoints!r} is not among datasets.{dataset}.keypoints"))

    for name, block in datasets.items():
        recipe = (block.get("train") or {}).get("recipe")
        if recipe is not None:
            problems += _recipe_problems(["datasets", name, "train", "recipe"], recipe, full=True)
    base = (config.get("ablation") or {}).get("base_recipe")
    if base is not None:
        problems += _recipe_problems(["ablation", "base_recipe"], base, full=True)
    from gaitgraph.ablation.study import ROW_BY_NAME

    for i, row in enumerate((config.get("ablation") or {}).get("rows") or []):
        if row not in ROW_BY_NAME:
            problems.append((["ablation", "rows", i], f"unknown ablation row {row!r} (known: {', '.join(ROW_BY_NAME)})"))
    for i, p in enumerate(config.get("pretrained") or []):
        configured(["pretrained", i], p.get("dataset"), p.get("keypoints"))
    problems += _benchmark_problems(config.get("benchmark") or {}, datasets)
    for section in ("ablation", "gaitgraph1"):
        block = config.get(section) or {}
        if section == "gaitgraph1" and not block.get("enabled", False):
            continue
        if "dataset" in block and block["dataset"] in datasets:
            configured([section], block["dataset"], block.get("keypoints"))
    return problems


def _benchmark_problems(bench: dict, datasets: dict) -> list[tuple[list, str]]:
    """The benchmark's methods: registered and trainable; its per-method recipes: of that method, for a
    configured dataset."""
    from gaitgraph.methods import get_method

    problems = []
    named = [(["benchmark", "methods", i], m) for i, m in enumerate(bench.get("methods") or [])]
    named += [(["benchmark", "per_method", m], m) for m in bench.get("per_method") or {}]
    for keys, name in named:
        try:
            spec = get_method(name)
        except ValueError as e:
            problems.append((keys, str(e)))
            continue
        if spec.name != name:
            problems.append((keys, f"write the method's name {spec.name!r}, not {name!r}"))
        elif not spec.trainable:
            problems.append((keys, f"{name} cannot be trained by this version (no LightningModule)"))
    for name, block in (bench.get("per_method") or {}).items():
        for dataset, recipe in (block.get("recipes") or {}).items():
            keys = ["benchmark", "per_method", name, "recipes", dataset]
            if dataset not in datasets:
                problems.append((keys, f"dataset {dataset!r} is not configured under datasets"))
            problems += _recipe_problems(keys, recipe, full=True, method=name)
        for dataset in block.get("datasets") or {}:
            if dataset not in datasets:
                problems.append((["benchmark", "per_method", name, "datasets", dataset],
                                 f"dataset {dataset!r} is not configured under datasets"))
    return problems


def _recipe_problems(keys: list, recipe: str, full: bool, method: str = "gaitgraph2") -> list[tuple[list, str]]:
    """A recipe that does not resolve, or (``full``) that names no method or another one than ``method``
    (the datasets' recipes: GaitGraph2, the method of the default target's runs; GaitGraph v1 has its own
    section, ``gaitgraph1``; the benchmark's per-method recipes: that method)."""
    from gaitgraph.recipes import RecipeError, recipe_method

    try:
        named = recipe_method(recipe)
    except RecipeError as e:
        return [(keys, str(e))]
    except (OSError, yaml.YAMLError) as e:
        return [(keys, f"cannot read {recipe} ({str(e).splitlines()[0]})")]
    if full and named is None:
        return [(keys, f"{recipe} names no method (an overlay?); give a full recipe such as {method}/casia-b, "
                       f"or add `method: {method}` to your file")]
    if full and named != method:
        where = ("the workflow's runs train gaitgraph2 (GaitGraph v1: the gaitgraph1 section)" if method == "gaitgraph2"
                 else f"this entry is {method}'s")
        return [(keys, f"{recipe} trains {named}; {where}")]
    return []


def check_registry(config: dict, files: Iterable[str | os.PathLike] = ()) -> None:
    """:func:`registry_problems` as one :class:`ConfigError` (the first problem, with file and line)."""
    problems = registry_problems(config)
    if problems:
        keys, reason = problems[0]
        key = ".".join(map(str, keys))
        raise ConfigError(f"{locate(keys, [Path(f) for f in files])}: {key}: {reason}; {HELP}")


def main(argv: list[str] | None = None) -> int:
    from gaitgraph.cli.boundary import guarded

    return guarded("python -m gaitgraph.config_check", _main, argv)


def _main(argv: list[str] | None) -> int:
    p = argparse.ArgumentParser(prog="python -m gaitgraph.config_check",
                                description="Check workflow config files against the schema; one line per problem.")
    p.add_argument("files", nargs="+", type=Path, help="config files, lowest precedence first (as --configfile)")
    p.add_argument("--schema", type=Path, default=Path("config/config.schema.yaml"))
    args = p.parse_args(argv)
    merged: dict = {}
    for f in args.files:
        _update(merged, load_yaml(f))
    validate_config(merged, args.schema, args.files)
    check_registry(merged, args.files)
    print(f"{', '.join(map(str, args.files))}: valid")
    return 0


def _update(base: dict, new: dict) -> None:
    """Recursive update, as Snakemake merges config files (mappings key by key, other values replaced)."""
    for k, v in new.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            _update(base[k], v)
        else:
            base[k] = v


if __name__ == "__main__":
    sys.exit(main())
