"""Validating ``config.yaml``: the schema, its defaults, and checks a schema cannot express.

:func:`validate_config` is the first thing the Snakefile calls. It returns the
configuration with every default filled in, or raises one :class:`ConfigError`
that names the offending key (``data.languages[2]``) and says what is wrong,
before any job starts.
"""

from __future__ import annotations

import copy
import difflib
import functools
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from jsonschema import Draft202012Validator, ValidationError, validators

from xner.errors import ConfigError, XnerError
from xner.labels import PANX_LANGUAGES, XTREME_LANGUAGES
from xner.model_sources import parse_requirement

# Keys of a model's entry (models.NAME) that are not training hyperparameters.
MODEL_KEYS: tuple[str, ...] = ("path", "pypi", "revision", "train_minutes")
# Directories results/models/NAME of models the workflow builds itself (rule tiny_model).
BUILT_MODEL_NAMES: tuple[str, ...] = ("tiny-bert", "tiny-roberta")

DEFAULT_SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "config.schema.yaml"


def load_schema(path: str | Path = DEFAULT_SCHEMA) -> dict:
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def schema_defaults(schema: dict) -> dict[str, Any]:
    """Every setting's default in ``schema``, by its dotted key (``evaluation.bootstrap_resamples``)."""
    out: dict[str, Any] = {}

    def walk(node: dict, path: tuple[str, ...]) -> None:
        if node.get("type") == "object" and "properties" in node:
            for name, sub in node["properties"].items():
                walk(sub, (*path, name))
        elif "default" in node:
            out[".".join(path)] = node["default"]

    walk(schema, ())
    return out


@functools.cache
def _default_schema() -> dict:
    return load_schema()


@functools.cache
def _default_schema_defaults() -> dict[str, Any]:
    return schema_defaults(_default_schema())


def experiment_choice(key: str) -> tuple[tuple[str, ...], str]:
    """The values and the default of an experiment's setting ``key`` (``experiments.NAME.KEY``, e.g.
    ``compare``, ``table``) in the config schema, for the command line's option of the same meaning."""
    node = _default_schema()["$defs"]["experiment"]["properties"][key]
    return tuple(node["enum"]), node["default"]


def schema_default(key: str) -> Any:
    """The default of setting ``key`` (dotted) in the config schema: the one home of every default that
    the command line shares with the configuration."""
    return copy.deepcopy(_default_schema_defaults()[key])


def _with_defaults(validator_class):
    """A validator class that fills in ``default`` values while it validates."""
    check_properties = validator_class.VALIDATORS["properties"]

    def properties(validator, props, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in props.items():
                if isinstance(subschema, dict) and "default" in subschema:
                    instance.setdefault(name, copy.deepcopy(subschema["default"]))
        yield from check_properties(validator, props, instance, schema)

    return validators.extend(validator_class, {"properties": properties})


def key_name(path: Iterable[Any]) -> str:
    """``['data', 'languages', 2]`` -> ``data.languages[2]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    by_lower = {choice.lower(): choice for choice in choices}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1)
    return f" (did you mean '{by_lower[close[0]]}'?)" if close else ""


def _schema_error(error: ValidationError) -> ConfigError:
    """Turn the most relevant jsonschema error into a ConfigError naming the key."""
    # For oneOf/anyOf, the sub-error deepest in the instance usually says most.
    if error.context:
        error = max(error.context, key=lambda e: len(e.absolute_path))
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {})
        extra = sorted(k for k in error.instance if k not in allowed)
        key = key_name([*path, extra[0]])
        known = ", ".join(allowed) or "none"
        return ConfigError(key, f"unknown key{_did_you_mean(extra[0], allowed)}; known keys here: {known}")
    if error.validator == "enum":
        choices = ", ".join(map(str, error.validator_value))
        hint = _did_you_mean(str(error.instance), map(str, error.validator_value))
        return ConfigError(key_name(path), f"{error.instance!r} is not one of: {choices}{hint}")
    if error.validator == "required":
        return ConfigError(key_name(path), error.message)
    return ConfigError(key_name(path), error.message)


def merge_configs(base: dict, override: dict) -> dict:
    """Merge ``override`` into ``base`` recursively (as snakemake merges --configfile files)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_configs(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_configs(paths: Iterable[str | Path]) -> dict:
    """Configuration files merged in order, later ones overriding earlier ones (as snakemake --configfile)."""
    config: dict = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            config = merge_configs(config, yaml.safe_load(f) or {})
    return config


# A budget: the first N sentences of a stratified order (xner.data.splits.stratified_order), written
# NAME@N: a language in a training mixture (en@2000), a split in a file name (train@2000.parquet).
# N is a positive whole number in decimal, without sign or leading zeros, so that each budget has
# one spelling and a run keeps its directory.
BUDGET_MARK = "@"
BUDGET_PATTERN = r"[1-9][0-9]*"
MIXTURE_JOIN = "+"


class Member(NamedTuple):
    """One language of a training mixture and its budget (None: all of its sentences)."""

    lang: str
    budget: int | None = None


def budgeted_name(name: str, budget: int | None) -> str:
    """``en``, ``train`` with a budget: ``en@2000``, ``train@2000``; unchanged without one."""
    return name if budget is None else f"{name}{BUDGET_MARK}{budget}"


def parse_budgeted(text: str) -> tuple[str, int | None]:
    """``"en@2000"`` -> ``("en", 2000)``, ``"en"`` -> ``("en", None)``; ValueError says what is malformed."""
    name, mark, budget = text.partition(BUDGET_MARK)
    if not name:
        where = f" before {BUDGET_MARK!r}" if mark else ""
        raise ValueError(f"{text!r} has no language{where} (write LANG or LANG@N, e.g. en@2000)")
    if not mark:
        return name, None
    if BUDGET_MARK in budget:
        raise ValueError(f"{text!r} has more than one {BUDGET_MARK!r} (write LANG or LANG@N, e.g. en@2000)")
    if not budget:
        raise ValueError(f"{text!r} has no budget after {BUDGET_MARK!r} (write LANG@N, e.g. en@2000)")
    if not re.fullmatch(BUDGET_PATTERN, budget):
        raise ValueError(
            f"{text!r}: the budget {budget!r} is not a positive whole number written in decimal "
            "without sign or leading zeros (e.g. en@2000)"
        )
    return name, int(budget)


def parse_mixture(value: str | Sequence[str]) -> tuple[Member, ...]:
    """A training mixture from ``"en@2000+it"`` or ``["en@2000", "it"]``, in the order given.

    Raises ValueError for a malformed member or a language given twice.
    """
    texts = value.split(MIXTURE_JOIN) if isinstance(value, str) else list(value)
    members = tuple(Member(*parse_budgeted(text)) for text in texts)
    langs = [member.lang for member in members]
    twice = next((lang for i, lang in enumerate(langs) if lang in langs[:i]), None)
    if twice is not None:
        raise ValueError(f"the language {twice!r} appears twice in {value!r}")
    return members


def mixture_name(members: Iterable[Member]) -> str:
    """A mixture's name, its run directory: ``en@2000+de@500``, and ``en+de`` without budgets."""
    return MIXTURE_JOIN.join(budgeted_name(lang, budget) for lang, budget in members)


def _check_language(code: str, key: str, known: Iterable[str], what: str) -> None:
    if code not in known:
        raise ConfigError(key, f"unknown {what} language code {code!r}{_did_you_mean(code, known)}")


def validate_config(config: dict, schema: dict | None = None) -> dict:
    """Validate ``config`` against the schema, fill in defaults, and check what the schema cannot.

    Returns a new dict; ``config`` itself is not modified.
    """
    config = copy.deepcopy(dict(config))
    schema = schema if schema is not None else load_schema()
    validator = _with_defaults(Draft202012Validator)(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if errors:
        raise _schema_error(errors[0])

    data = config["data"]
    languages = data["languages"]
    for i, code in enumerate(languages):
        _check_language(code, f"data.languages[{i}]", PANX_LANGUAGES, "PAN-X")
        if data["source"] == "huggingface" and code not in XTREME_LANGUAGES:
            raise ConfigError(
                f"data.languages[{i}]",
                f"{code!r} is not among the 40 PAN-X languages of {data['hf_repo']}; "
                "use data.source: panx_dataset (176 languages) for it",
            )
        if code in languages[:i]:
            raise ConfigError(f"data.languages[{i}]", f"{code!r} is listed twice")
    if data["source"] in ("panx_dataset", "local") and not data["path"]:
        raise ConfigError("data.path", f"required with data.source: {data['source']}")

    edges = config["split"]["length_bins"]
    if any(b <= a for a, b in zip(edges, edges[1:])):
        raise ConfigError("split.length_bins", f"edges must increase strictly, got {edges}")

    training_schema = schema["properties"]["training"]["properties"]
    for name, entry in config["models"].items():
        if name in BUILT_MODEL_NAMES or "/" in name:
            raise ConfigError(
                f"models.{name}",
                "a model name may not contain '/' nor be one of "
                + ", ".join(BUILT_MODEL_NAMES)
                + " (results/models/NAME is the model's manifest directory)",
            )
        if isinstance(entry, dict):
            _check_model_source(name, entry)
            for key, value in entry.items():
                if key not in MODEL_KEYS:
                    _check_hparam(f"models.{name}.{key}", training_schema[key], value)
    for name, experiment in config["experiments"].items():
        _check_experiment(name, experiment, config, training_schema)
    speed = config["speed"]
    if speed["enabled"] and config["models"]:
        if speed["lang"] not in languages:
            raise ConfigError("speed.lang", f"{speed['lang']!r} is not in data.languages {languages}")
        for i, model in enumerate(speed["models"] or []):
            if model not in config["models"]:
                raise ConfigError(
                    f"speed.models[{i}]",
                    f"{model!r} is not a configured model{_did_you_mean(model, config['models'])}",
                )
    return config


def _check_model_source(name: str, entry: dict) -> None:
    """A PyPI model is pinned to one version and has no hub revision."""
    if "pypi" not in entry:
        return
    try:
        parse_requirement(entry["pypi"])
    except XnerError as error:
        raise ConfigError(f"models.{name}.pypi", str(error)) from None
    if "revision" in entry:
        raise ConfigError(
            f"models.{name}.revision",
            "only a hub model has a revision; a PyPI model is pinned by its version",
        )


def _check_hparam(key: str, subschema: dict, value: Any) -> None:
    """Validate one hyperparameter value against its schema in the training section."""
    error = next(iter(Draft202012Validator(subschema).iter_errors(value)), None)
    if error is not None:
        raise ConfigError(key, error.message)


def _check_experiment(name: str, experiment: dict, config: dict, training_schema: dict) -> None:
    key = f"experiments.{name}"
    languages = config["data"]["languages"]
    has_block = "models" in experiment or "train" in experiment
    if "runs" in experiment and has_block:
        raise ConfigError(key, "give either models and train, or runs, not both")
    if "runs" not in experiment and not ("models" in experiment and "train" in experiment):
        raise ConfigError(key, "needs models and train (or runs: a list of such blocks)")
    for i, code in enumerate(experiment["test"]):
        if code not in languages:
            raise ConfigError(f"{key}.test[{i}]", f"{code!r} is not in data.languages {languages}")
    blocks = experiment.get("runs", [experiment])
    for b, block in enumerate(blocks):
        block_key = f"{key}.runs[{b}]" if "runs" in experiment else key
        for i, model in enumerate(block["models"]):
            if model not in config["models"]:
                raise ConfigError(
                    f"{block_key}.models[{i}]",
                    f"unknown model {model!r}{_did_you_mean(model, config['models'])}; define it under models",
                )
        for i, value in enumerate(block["train"]):
            try:
                mixture = parse_mixture(value)
            except ValueError as e:
                raise ConfigError(f"{block_key}.train[{i}]", str(e)) from None
            for code, _ in mixture:
                if code not in languages:
                    raise ConfigError(
                        f"{block_key}.train[{i}]", f"{code!r} is not in data.languages {languages}"
                    )
        for hparam, values in block.get("grid", {}).items():
            if hparam == "seed":
                raise ConfigError(f"{block_key}.grid.seed", "list seeds under seeds, not in the grid")
            if hparam not in training_schema:
                hint = _did_you_mean(hparam, training_schema)
                raise ConfigError(f"{block_key}.grid.{hparam}", f"not a training hyperparameter{hint}")
            for i, value in enumerate(values):
                _check_hparam(f"{block_key}.grid.{hparam}[{i}]", training_schema[hparam], value)


def training_mixtures(config: dict) -> list[tuple[Member, ...]]:
    """Every training mixture of the configured experiments, in order of first appearance."""
    mixtures: dict[tuple[Member, ...], None] = {}
    for experiment in config["experiments"].values():
        for block in experiment.get("runs", [experiment]):
            for value in block["train"]:
                mixtures[parse_mixture(value)] = None
    return list(mixtures)
