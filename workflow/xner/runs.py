"""From experiments to runs: which models to train on which languages with which hyperparameters.

A *run* is one training job, identified by ``(model, langs, variant)`` and
written to ``results/runs/{model}/{langs}/{variant}/``: ``langs`` is the
training languages joined by ``+`` in config order, each with its budget if it
has one (``en@2000+de@500``; ``en+de`` without budgets), and ``variant`` is ``base``
or a short readable slug of the hyperparameters that differ from the run's
defaults (``training`` overridden by the model's own settings), e.g. ``lr1e-4``,
``frozen``, ``frozen-seed2``. The slug depends only on those differences, so the
same run gets the same directory from one config to the next and cached results
are reused; a run wanted by several experiments is trained once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from xner.config import MODEL_KEYS, Member, mixture_name, parse_mixture
from xner.errors import ConfigError
from xner.model_sources import SCHEME as PYPI_SCHEME


@dataclass(frozen=True)
class TrainSettings:
    """The hyperparameters of a run (config section ``training``, per-model overrides, grids)."""

    lr: float = 1e-5
    batch_size: int = 128
    epochs: int = 20
    patience: int = 3
    lr_patience: int = 3
    lr_factor: float = 0.1
    weight_decay: float = 0.01
    freeze_encoder: bool = False
    from_scratch: bool = False
    grad_clip: float = 0.0
    max_length: int = 256
    seed: int = 42
    eval_batch_size: int = 256
    precision: str = "auto"
    batching: str = "random"


HPARAM_HELP: dict[str, str] = {
    "lr": "AdamW learning rate",
    "batch_size": "sentences per training batch",
    "epochs": "most epochs to train",
    "patience": "early stopping after this many epochs without a lower val loss",
    "lr_patience": "ReduceLROnPlateau patience, in epochs",
    "lr_factor": "ReduceLROnPlateau factor",
    "weight_decay": "AdamW weight decay",
    "freeze_encoder": "train only the classification head",
    "from_scratch": "initialise the encoder at random (its architecture and tokenizer kept) instead of "
    "loading its pretrained weights: the floor that transfer is measured against",
    "grad_clip": "clip the gradient norm to this value (0: off)",
    "max_length": "most sub-words per window; longer sentences are split into windows",
    "seed": "random seed of initialisation, dropout and batch order",
    "eval_batch_size": "sentences per evaluation batch",
    "precision": "auto (bf16 autocast on CUDA, fp32 on CPU), bf16 or fp32",
    "batching": "training batches: random, bucketed (by length) or balanced (by length, every word "
    "weighed alike)",
}

# Hyperparameters in slug order, each with its short name in the slug.
SLUG_NAMES: dict[str, str] = {
    "freeze_encoder": "frozen",
    "from_scratch": "scratch",
    "lr": "lr",
    "batch_size": "bs",
    "epochs": "ep",
    "patience": "pat",
    "lr_patience": "lrpat",
    "lr_factor": "lrf",
    "weight_decay": "wd",
    "grad_clip": "clip",
    "max_length": "len",
    "precision": "",
    "eval_batch_size": "ebs",
    "batching": "",
    "seed": "seed",
}

# A switch in the slug: its word when on, and when off (where a model's default turns it on).
BOOLEAN_SLUGS: dict[str, tuple[str, str]] = {
    "freeze_encoder": ("frozen", "unfrozen"),
    "from_scratch": ("scratch", "pretrained"),
}


@dataclass(frozen=True)
class Run:
    """One training job and the languages it is tested on.

    ``train_budgets`` gives each of ``train_langs`` its budget (the first N
    sentences of its stratified order; None: all of them); it defaults to none.
    """

    model: str
    model_path: str
    train_langs: tuple[str, ...]
    variant: str
    hparams: Mapping[str, Any] = field(compare=False, hash=False)
    test_langs: tuple[str, ...] = field(default=(), compare=False, hash=False)
    experiments: tuple[str, ...] = field(default=(), compare=False, hash=False)
    train_budgets: tuple[int | None, ...] = ()

    def __post_init__(self) -> None:
        if not self.train_budgets:
            object.__setattr__(self, "train_budgets", (None,) * len(self.train_langs))
        if len(self.train_budgets) != len(self.train_langs):
            raise ValueError(f"budgets {self.train_budgets} do not match the languages {self.train_langs}")

    @property
    def members(self) -> tuple[Member, ...]:
        """The training mixture: each language with its budget."""
        return tuple(Member(*pair) for pair in zip(self.train_langs, self.train_budgets))

    @property
    def langs(self) -> str:
        return mixture_name(self.members)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.model, self.langs, self.variant)


def format_value(value: Any) -> str:
    """A hyperparameter value as it appears in a slug: 1e-4, 0.1, 64, true."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if value != 0 and (abs(value) < 1e-2 or abs(value) >= 1e4):
            mantissa, exponent = f"{value:e}".split("e")
            mantissa = mantissa.rstrip("0").rstrip(".")
            return f"{mantissa}e{int(exponent)}"
        return f"{value:g}"
    return str(value)


def variant_slug(hparams: Mapping[str, Any], defaults: Mapping[str, Any]) -> str:
    """``base``, or the hyperparameters that differ from ``defaults`` as a short, stable slug."""
    parts = []
    for key, short in SLUG_NAMES.items():
        if key not in hparams or hparams[key] == defaults.get(key):
            continue
        value = hparams[key]
        if key in BOOLEAN_SLUGS:
            parts.append(BOOLEAN_SLUGS[key][0 if value else 1])
        else:
            parts.append(f"{short}{format_value(value)}")
    unknown = sorted(set(hparams) - set(SLUG_NAMES))
    if unknown:
        raise ValueError(f"no slug name for hyperparameter(s) {unknown}")
    return "-".join(parts) or "base"


def cli_options(hparams: Mapping[str, Any]) -> str:
    """Hyperparameters as options of ``xner train`` (``--lr 1e-05 --freeze-encoder ...``).

    Always in the order of :class:`TrainSettings`' fields, whatever the order of
    the keys in the config: the rules pass these as params, and Snakemake reruns
    a job whose params change, so reordering a config file must not change them.
    """
    order = {f.name: i for i, f in enumerate(fields(TrainSettings))}
    options = []
    for key, value in sorted(hparams.items(), key=lambda item: order.get(item[0], len(order))):
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            options += [flag] if value else []
        else:
            options += [flag, str(value)]
    return " ".join(options)


def model_settings(config: Mapping, name: str) -> tuple[str, dict[str, Any]]:
    """A model's path and its defaults: ``training`` overridden by the model's own settings.

    The path is a hub id, a local directory, or for ``models.NAME.pypi`` the model source
    ``pypi:NAME==VERSION`` that every command loading a model accepts.
    """
    entry = config["models"][name]
    if isinstance(entry, str):
        return entry, dict(config["training"])
    overrides = {k: v for k, v in entry.items() if k not in MODEL_KEYS}
    path = entry["path"] if "path" in entry else f"{PYPI_SCHEME}{entry['pypi']}"
    return path, {**config["training"], **overrides}


def model_revision(config: Mapping, name: str) -> str | None:
    """The hub revision configured for a model (models.NAME.revision), None when not given."""
    entry = config["models"][name]
    return entry.get("revision") if isinstance(entry, dict) else None


def train_minutes(config: Mapping, name: str) -> int:
    """A model's training time limit per training language (models.NAME.train_minutes, else train_minutes)."""
    entry = config["models"][name]
    return (
        entry.get("train_minutes", config["train_minutes"])
        if isinstance(entry, dict)
        else config["train_minutes"]
    )


def speed_hparams(config: Mapping, model: str) -> dict:
    """A model's hyperparameters for the speed table: its own, at the batch size of config key speed."""
    _, hparams = model_settings(config, model)
    batch_size = config["speed"]["batch_size"]
    return {**hparams, "batch_size": batch_size, "eval_batch_size": batch_size}


def speed_models(config: Mapping) -> list[str]:
    """The models of the speed table: speed.models, or every configured model; none if disabled."""
    if not config["speed"]["enabled"]:
        return []
    return list(config["speed"]["models"] or config["models"])


def _grid_points(grid: Mapping[str, list]) -> list[dict[str, Any]]:
    points: list[dict[str, Any]] = [{}]
    for key, values in grid.items():
        points = [{**point, key: value} for point in points for value in values]
    return points


def expand_runs(config: Mapping) -> list[Run]:
    """Every run of every experiment, each once, in order of first appearance.

    A run's test languages are the union (in order of appearance) of those of the
    experiments that use it.
    """
    runs: dict[tuple[str, str, str], Run] = {}
    for exp_name, experiment in config["experiments"].items():
        for block in experiment.get("runs", [experiment]):
            seeds = block.get("seeds", [None])
            for model in block["models"]:
                path, defaults = model_settings(config, model)
                for mixture in block["train"]:
                    members = parse_mixture(mixture)
                    train_langs = tuple(member.lang for member in members)
                    budgets = tuple(member.budget for member in members)
                    for point in _grid_points(block.get("grid", {})):
                        for seed in seeds:
                            hparams = {**defaults, **point, **({} if seed is None else {"seed": seed})}
                            variant = variant_slug(hparams, defaults)
                            run = Run(model, path, train_langs, variant, hparams, train_budgets=budgets)
                            old = runs.get(run.key, run)
                            runs[run.key] = Run(
                                model,
                                path,
                                train_langs,
                                variant,
                                hparams,
                                tuple(dict.fromkeys(old.test_langs + tuple(experiment["test"]))),
                                tuple(dict.fromkeys(old.experiments + (exp_name,))),
                                train_budgets=budgets,
                            )
    return list(runs.values())


def predictions(config: Mapping, runs: Mapping[tuple[str, str, str], Run]) -> list[tuple[Run, str]]:
    """``(run, input name)`` for every job of config section ``predict``; each run must be one of ``runs``."""
    section = config["predict"]
    jobs = []
    for i, run_id in enumerate(section["runs"]):
        run = runs.get(tuple(run_id.split("/")))
        if run is None:
            known = ", ".join("/".join(key) for key in runs) or "none"
            raise ConfigError(
                f"predict.runs[{i}]", f"{run_id!r} is not a run of the experiments; known: {known}"
            )
        jobs += [(run, name) for name in section["inputs"]]
    if section["runs"] and not section["inputs"]:
        raise ConfigError("predict.inputs", "no input to tag with the runs of predict.runs")
    return jobs
