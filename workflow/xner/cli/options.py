"""Options shared by several subcommands: each defined once, with one help text."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from xner.errors import XnerError

logger = logging.getLogger("xner")

# The precision settings, as xner.device.PRECISIONS (not imported here: it needs torch).
PRECISIONS: tuple[str, ...] = ("auto", "bf16", "fp32")


def add_split_outputs(p: argparse.ArgumentParser, splits: Sequence[str], what: str) -> None:
    """``--{split}-out`` for each split: the sentence tables a subcommand writes."""
    for split in splits:
        p.add_argument(
            f"--{split}-out", required=True, type=Path, help=f"output: the {what} {split} split (parquet)"
        )


def split_outputs(args: argparse.Namespace, splits: Sequence[str]) -> dict[str, Path]:
    return {split: getattr(args, f"{split}_out") for split in splits}


def add_table_outputs(p: argparse.ArgumentParser) -> None:
    """``--csv`` and ``--md``: a table written twice, for programs and for reading."""
    p.add_argument("--csv", required=True, type=Path, help="output: the table as CSV")
    p.add_argument("--md", required=True, type=Path, help="output: the table as Markdown")


def add_config_option(
    p: argparse.ArgumentParser | argparse._ArgumentGroup, flag: str, key: str, *, help: str, **kwargs
) -> argparse.Action:
    """Option ``flag`` of the setting that the configuration names ``key`` (dotted): its default is the
    schema's (:func:`xner.config.schema_default`), never written here, and its help names the key."""
    from xner.config import schema_default

    default, convert = schema_default(key), kwargs.get("type")
    if convert is not None and default is not None:  # 0 in the schema is 0.0 for a float option
        default = [convert(v) for v in default] if isinstance(default, list) else convert(default)
    action = p.add_argument(
        flag, default=default, help=f"{help} (config key {key}; default: %(default)s)", **kwargs
    )
    action.config_key = key  # read by the test that holds every option's default to the schema
    return action


def add_length_bins(p: argparse.ArgumentParser) -> None:
    """``--length-bins``: the sentence-length bins of the split (config key split.length_bins)."""
    add_config_option(
        p,
        "--length-bins",
        "split.length_bins",
        type=int,
        nargs="+",
        help="edges of the sentence-length bins, in words: bin i holds lengths in (edge i, edge i+1]",
    )


def add_split_seed(p: argparse.ArgumentParser) -> None:
    """``--seed``: the random seed of the split and of the stratified order (config key split.seed)."""
    add_config_option(
        p,
        "--seed",
        "split.seed",
        type=int,
        help="random seed of the train/val split and of the stratified order of budgets",
    )


def add_bootstrap_options(p: argparse.ArgumentParser) -> None:
    """The resampling settings of intervals and tests (config section evaluation)."""
    group = p.add_argument_group("resampling (config section evaluation)")
    add_config_option(
        group,
        "--bootstrap-resamples",
        "evaluation.bootstrap_resamples",
        type=int,
        help="resamples of the bootstrap and shuffles of the randomisation test",
    )
    add_config_option(group, "--bootstrap-seed", "evaluation.seed", type=int, help="seed of the resampling")
    add_config_option(
        group, "--confidence", "evaluation.confidence", type=float, help="confidence of the intervals"
    )


def bootstrap(args: argparse.Namespace):
    from xner.evaluation.bootstrap import BootstrapSettings

    try:
        return BootstrapSettings(args.bootstrap_resamples, args.bootstrap_seed, args.confidence)
    except ValueError as e:
        raise XnerError(str(e)) from None


def add_device_options(p: argparse.ArgumentParser) -> None:
    """``--device`` and ``--threads``: where a model computes."""
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: %(default)s)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for torch (default: torch's choice)")


def add_model_name(p: argparse.ArgumentParser, *, required: bool = False) -> None:
    p.add_argument(
        "--model-name",
        required=required,
        default="",
        help="short model name, as under config key models (recorded in the output)",
    )


def add_model_manifest(p: argparse.ArgumentParser) -> None:
    """``--model-manifest`` and ``--model-revision``: load --model-path as `xner fetch-models` recorded it."""
    p.add_argument(
        "--model-manifest",
        type=Path,
        default=None,
        help="load --model-path from the directory this manifest (results/models/NAME/manifest.json) records",
    )
    p.add_argument(
        "--model-revision",
        default=None,
        help="the hub revision the config asks for (checked against the manifest; default: main)",
    )


def model_location(args: argparse.Namespace) -> tuple[str, dict[str, str]]:
    """Where to load --model-path from, and what to record of it (the commit of a hub model)."""
    if args.model_manifest is None:
        return args.model_path, {}
    from xner.models.hub import load_location

    location, manifest = load_location(args.model_manifest, args.model_path, args.model_revision)
    if manifest["kind"] == "hub":
        return location, {"model_commit": manifest["commit"]}
    if manifest["kind"] == "pypi":
        return location, {"model_wheel_sha256": manifest["wheel"]["sha256"]}
    return location, {}


def add_run_info(p: argparse.ArgumentParser) -> None:
    """``--model-name``, ``--train-langs`` and ``--variant``: the run an output belongs to."""
    add_model_name(p)
    p.add_argument(
        "--train-langs",
        default="",
        help="the run's training languages, e.g. en+de, with budgets en@2000+de@500 (recorded)",
    )
    p.add_argument("--variant", default="", help="the run's variant slug, e.g. base (recorded)")


def run_info(args: argparse.Namespace) -> dict[str, str]:
    return {"model": args.model_name, "train_langs": args.train_langs, "variant": args.variant}


def add_test_langs(p: argparse.ArgumentParser, *, required: bool) -> None:
    p.add_argument(
        "--test-langs",
        required=required,
        nargs="+",
        default=None,
        help="test languages, in column order"
        + ("" if required else " (default: all, in order of appearance)"),
    )


def add_run_evaluations(p: argparse.ArgumentParser, help: str) -> None:
    """``--run-evaluations DIR ...``: runs' evaluations directories (made by xner evaluate), read in place."""
    p.add_argument("--run-evaluations", required=True, nargs="+", type=Path, metavar="DIR", help=help)


def add_experiment_runs(p: argparse.ArgumentParser) -> None:
    """``--scores``, ``--runs`` and ``--test-langs``: an experiment's part of scores.csv."""
    p.add_argument("--scores", required=True, type=Path, help="scores.csv (made by xner scores)")
    p.add_argument(
        "--runs",
        required=True,
        nargs="+",
        metavar="RUN",
        help="the experiment's runs, as run ids model/train_langs/variant",
    )
    add_test_langs(p, required=True)


def add_hparam(
    p: argparse.ArgumentParser | argparse._ArgumentGroup,
    name: str,
    *,
    key: str | None = None,
    default: object = None,
    default_text: str = "%(default)s",
) -> None:
    """The option of one hyperparameter (a field of TrainSettings), with its help text from HPARAM_HELP.

    Its default is config key ``key``'s (default: ``training.NAME``, which a test holds equal to
    TrainSettings'); a tool with defaults of its own (the benchmark) gives ``default`` instead
    (``default_text`` then says what it means).
    """
    from xner.models.features import BATCHING
    from xner.runs import HPARAM_HELP, TrainSettings

    own = getattr(TrainSettings(), name)
    flag, text = "--" + name.replace("_", "-"), HPARAM_HELP[name]
    if isinstance(own, bool):
        p.add_argument(flag, action="store_true", help=text)
        return
    choices = {"precision": PRECISIONS, "batching": tuple(BATCHING)}.get(name)
    if default is None:
        add_config_option(p, flag, key or f"training.{name}", type=type(own), choices=choices, help=text)
        return
    p.add_argument(
        flag, type=type(own), choices=choices, default=default, help=f"{text} (default: {default_text})"
    )


def add_hparam_options(
    p: argparse.ArgumentParser, names: Sequence[str] | None = None, keys: Mapping[str, str] | None = None
) -> None:
    """Options for the hyperparameters ``names`` (default: all of TrainSettings), in their own group;
    ``keys``: config keys other than ``training.NAME`` that give some of them their defaults."""
    from dataclasses import fields

    from xner.runs import TrainSettings

    group = p.add_argument_group("hyperparameters (config section training)")
    for name in names or [f.name for f in fields(TrainSettings)]:
        add_hparam(group, name, key=(keys or {}).get(name))


def from_args(cls, args: argparse.Namespace, **values):
    """A settings dataclass from the options named like its fields; ``values`` replace options."""
    from dataclasses import fields

    options = {f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)}
    return cls(**{**options, **values})


def set_threads(threads: int) -> None:
    """Fix torch's CPU threads (to the job's), so that runs on one machine and on a cluster compute alike."""
    if threads > 0:
        import torch

        torch.set_num_threads(threads)


def parse_pairs(items: Sequence[str], option: str, metavar: str = "LANG=PATH") -> dict[str, str]:
    """``KEY=VALUE ...`` as a mapping (``option`` and ``metavar`` name the flag in errors)."""
    pairs = {}
    for item in items:
        key, _, value = item.partition("=")
        if not key or not value:
            raise XnerError(f"{option} expects {metavar}, not {item!r}")
        if key in pairs:
            raise XnerError(f"{option}: {key!r} given twice")
        pairs[key] = value
    return pairs


def lang_paths(items: Sequence[str], option: str) -> dict[str, Path]:
    """``LANG=PATH ...`` as a mapping of language to path."""
    return {lang: Path(path) for lang, path in parse_pairs(items, option).items()}
