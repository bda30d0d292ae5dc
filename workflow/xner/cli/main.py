"""The ``xner`` command line: one subcommand per pipeline stage.

Snakemake rules call these subcommands with explicit paths and parameters; they
are just as usable by hand (``xner parse --help``). User errors (bad data, bad
configuration, unreachable downloads) end in one line on stderr and exit code 1,
with no partial output left behind.

This module assembles the parser from the stage groups of :mod:`xner.cli`, which only
parse options and call the stage packages. An option means the same in every
subcommand: sentence tables read are ``--train``, ``--val``, ``--dev``, ``--test``;
sentence tables written are ``--train-out``, ``--val-out``, ``--dev-out``,
``--test-out``; ``--runs`` is a list of run ids (``model/train_langs/variant``);
options shared by several subcommands are defined once, in :mod:`xner.cli.options`,
and an option of a configured setting takes its default from the config schema.
Each subcommand NAME is an ``_add_NAME`` function of its group, whose docstring is
the subcommand's help (first line) and description (the rest), and a ``_run_NAME``
function.
"""

from __future__ import annotations

import argparse
import inspect
import logging
import os
import sys
from collections.abc import Sequence

from xner import __version__
from xner.cli import bench, data, evaluation, models, prediction, reporting, synthetic, training
from xner.errors import XnerError

logger = logging.getLogger("xner")


def _add_subcommand(sub: argparse._SubParsersAction, add) -> None:
    """Declare subcommand NAME of ``add`` (``_add_NAME``, which adds its options).

    The first line of ``add``'s docstring is the subcommand's help, the rest its description.
    """
    name = add.__name__.removeprefix("_add_").replace("_", "-")
    summary, _, description = inspect.cleandoc(add.__doc__ or "").partition("\n")
    add(sub.add_parser(name, help=summary, description=" ".join(description.split())))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xner",
        description="xner: cross-lingual NER on PAN-X. Each subcommand is one stage of the Snakemake "
        "pipeline; run 'xner SUBCOMMAND --help' for its options.",
    )
    parser.add_argument("--version", action="version", version=f"xner {__version__}")
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="default: %(default)s",
    )
    sub = parser.add_subparsers(title="subcommands", dest="command", required=True, metavar="SUBCOMMAND")
    for group in (data, synthetic, models, training, evaluation, prediction, reporting, bench):
        for add in group.COMMANDS:
            _add_subcommand(sub, add)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Job logs: no per-file progress bars or load-report tables from the Hugging Face libraries
    # (xner logs what matters itself); a user's own settings win.
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
        stream=sys.stderr,
    )
    try:
        args.func(args)
    except XnerError as e:
        print(f"xner {args.command}: error: {e}", file=sys.stderr)
        return 1
    return 0
