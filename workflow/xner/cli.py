"""The ``xner`` command line: one subcommand per pipeline stage.

Snakemake rules call these subcommands with explicit paths and parameters; they
are just as usable by hand (``xner parse --help``). User errors (bad data, bad
configuration, unreachable downloads) end in one line on stderr and exit code 1,
with no partial output left behind.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from xner import __version__
from xner.errors import XnerError

logger = logging.getLogger("xner")


def _add_download(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "download",
        help="fetch one language's raw PAN-X files into a raw directory",
        description=(
            "Fetch one language's PAN-X files, exactly as published, into OUT "
            "(with manifest.json and SHA256SUMS). Sources: huggingface (google/xtreme parquet files), "
            "panx_dataset (the upstream archive: panx_dataset.tar, a directory of {lang}.tar.gz, or a "
            "path/URL with {lang}), local (a directory of {split}-{lang}.tsv[.gz])."
        ),
    )
    p.add_argument("--source", required=True, choices=["huggingface", "panx_dataset", "local"])
    p.add_argument("--lang", required=True, help="PAN-X language code, e.g. en")
    p.add_argument("--path", help="file, directory or URL (panx_dataset, local)")
    p.add_argument("--hf-repo", default="google/xtreme", help="dataset repository (default: %(default)s)")
    p.add_argument("--hf-revision", default="main", help="branch, tag or commit sha (default: %(default)s)")
    p.add_argument("--retries", type=int, default=3, help="attempts per download (default: %(default)s)")
    p.add_argument("--out", required=True, type=Path, help="raw directory to create, e.g. results/raw/en")
    p.set_defaults(func=_run_download)


def _run_download(args: argparse.Namespace) -> None:
    from xner.download import download_language

    manifest = download_language(
        args.source,
        args.lang,
        args.out,
        path=args.path or None,
        hf_repo=args.hf_repo,
        hf_revision=args.hf_revision,
        retries=args.retries,
    )
    logger.info("%s: %s files in %s", args.lang, len(manifest["files"]), args.out)


def _add_fetch(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fetch",
        help="download a URL atomically, with retries and a sha256 file",
        description="Download URL to OUT (temporary file, then rename), retrying transient errors; "
        "write OUT.sha256 beside it.",
    )
    p.add_argument("--url", required=True)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--retries", type=int, default=3, help="attempts (default: %(default)s)")
    p.set_defaults(func=_run_fetch)


def _run_fetch(args: argparse.Namespace) -> None:
    from xner.download import fetch_url

    digest = fetch_url(args.url, args.out, retries=args.retries)
    logger.info("%s sha256 %s", args.out, digest)


def _add_parse(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "parse",
        help="parse a raw directory into one sentence table per PAN-X split",
        description="Parse the raw files of one language (a directory made by 'xner download') into "
        "Parquet sentence tables (columns id, lang, tokens, tags), one per PAN-X split. "
        "All outputs are written, or none.",
    )
    p.add_argument("--raw", required=True, type=Path, help="raw directory, e.g. results/raw/en")
    for split in ("train", "dev", "test"):
        p.add_argument(f"--{split}", required=True, type=Path, help=f"output parquet for PAN-X {split}")
    p.set_defaults(func=_run_parse)


def _run_parse(args: argparse.Namespace) -> None:
    from xner.data import parse_language

    parse_language(args.raw, {"train": args.train, "dev": args.dev, "test": args.test})


def _add_split(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "split",
        help="divide PAN-X train into train and val, stratified on sentence length",
        description="Divide PAN-X train into train and val by a split stratified on sentence-length "
        "bins (sparse bins are merged with a neighbour, so no sentence is dropped), and copy the "
        "test split. train and val together are exactly PAN-X train, each in source order.",
    )
    p.add_argument("--train-in", required=True, type=Path, help="PAN-X train (parsed parquet)")
    p.add_argument("--test-in", required=True, type=Path, help="the PAN-X split used as test set")
    p.add_argument("--train", required=True, type=Path, help="output: train parquet")
    p.add_argument("--val", required=True, type=Path, help="output: val parquet")
    p.add_argument("--test", required=True, type=Path, help="output: test parquet")
    p.add_argument("--val-fraction", type=float, default=0.2, help="default: %(default)s")
    p.add_argument("--seed", type=int, default=42, help="default: %(default)s")
    p.add_argument(
        "--length-bins",
        type=int,
        nargs="+",
        default=[0, 5, 10, 15, 20, 25, 30, 40, 100],
        help="bin edges in words (default: %(default)s)",
    )
    p.set_defaults(func=_run_split)


def _run_split(args: argparse.Namespace) -> None:
    from xner.io import read_sentences, write_parquet
    from xner.splits import SplitSettings, split_train

    try:
        settings = SplitSettings(args.val_fraction, args.seed, tuple(args.length_bins))
    except ValueError as e:
        raise XnerError(str(e)) from None
    train, val = split_train(read_sentences(args.train_in), settings)
    test = read_sentences(args.test_in)
    write_parquet({args.train: train, args.val: val, args.test: test})


def _add_stats(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "stats",
        help="count sentences, words and tags per language, split and training mixture",
        description="Write the dataset statistics table (CSV and Markdown): one row per language and "
        "split (train, val, test), one per training mixture (train and val of its languages).",
    )
    p.add_argument(
        "--inputs", required=True, nargs="+", type=Path, help="split tables, each .../{lang}/{split}.parquet"
    )
    p.add_argument("--mixtures", nargs="*", default=[], help="training mixtures, e.g. en+it")
    p.add_argument("--csv", required=True, type=Path)
    p.add_argument("--md", required=True, type=Path)
    p.set_defaults(func=_run_stats)


def _run_stats(args: argparse.Namespace) -> None:
    from xner.io import write_table
    from xner.stats import SPLITS, data_stats

    paths = {(path.parent.name, path.stem): path for path in args.inputs}
    bad = [str(p) for p in args.inputs if p.stem not in SPLITS]
    if bad:
        raise XnerError(f"not a split table (.../{{lang}}/{{train,val,test}}.parquet): {', '.join(bad)}")
    mixtures = [tuple(m.split("+")) for m in args.mixtures]
    missing = sorted(
        {f"{lang}/{split}" for m in mixtures for lang in m for split in ("train", "val")}
        - {f"{lang}/{split}" for lang, split in paths}
    )
    if missing:
        raise XnerError(f"mixtures need split tables that are not among --inputs: {', '.join(missing)}")
    table = data_stats(paths, mixtures)
    write_table(table, args.csv, args.md)
    logger.info("%d rows -> %s", len(table), args.csv)


def _add_demo_data(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo-data",
        help="write deterministic synthetic PAN-X data in the upstream archive format",
        description="Write a synthetic panx_dataset.tar ({lang}.tar.gz members with train, dev, test, "
        "extra), deterministic for a given seed, for the offline demo and the tests.",
    )
    p.add_argument("--out", required=True, type=Path, help="output .tar, e.g. results/demo/panx_dataset.tar")
    p.add_argument("--languages", nargs="+", default=["en", "de", "sw"])
    p.add_argument("--train", type=int, default=1500, help="sentences per language (default: %(default)s)")
    p.add_argument("--dev", type=int, default=500, help="default: %(default)s")
    p.add_argument("--test", type=int, default=500, help="default: %(default)s")
    p.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    p.set_defaults(func=_run_demo_data)


def _run_demo_data(args: argparse.Namespace) -> None:
    from xner.demo import DemoSettings, write_panx_archive

    try:
        settings = DemoSettings(tuple(args.languages), args.train, args.dev, args.test, args.seed)
        write_panx_archive(args.out, settings)
    except ValueError as e:
        raise XnerError(str(e)) from None


def _add_check_config(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check-config",
        help="validate a config file and print it with every default filled in",
        description="Validate config files (later ones override earlier ones, as with snakemake "
        "--configfile) against the schema; print the resulting configuration as JSON.",
    )
    p.add_argument("configfiles", nargs="+", type=Path)
    p.set_defaults(func=_run_check_config)


def _run_check_config(args: argparse.Namespace) -> None:
    import yaml

    from xner.config import merge_configs, validate_config

    config: dict = {}
    for path in args.configfiles:
        with open(path, encoding="utf-8") as f:
            config = merge_configs(config, yaml.safe_load(f) or {})
    print(json.dumps(validate_config(config), indent=2))


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
    for add in (
        _add_download,
        _add_fetch,
        _add_parse,
        _add_split,
        _add_stats,
        _add_demo_data,
        _add_check_config,
    ):
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
