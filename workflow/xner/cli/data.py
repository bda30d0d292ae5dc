"""The data commands: download, fetch, parse, split, budget, stats (rules in data.smk, splits.smk, stats.smk; code in xner.data)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from xner.cli.options import (
    add_config_option,
    add_length_bins,
    add_split_outputs,
    add_split_seed,
    add_table_outputs,
    from_args,
    split_outputs,
)
from xner.errors import XnerError
from xner.labels import PANX_SPLITS, STUDY_SPLITS, TRAINING_SPLITS

logger = logging.getLogger("xner")


def _add_download(p: argparse.ArgumentParser) -> None:
    """fetch one language's raw PAN-X files into a raw directory

    Fetch one language's PAN-X files, exactly as published, into OUT (with manifest.json and SHA256SUMS).
    Sources: huggingface (google/xtreme parquet files), panx_dataset (the upstream archive:
    panx_dataset.tar, a directory of {lang}.tar.gz, or a path/URL with {lang}), local (a directory of
    {split}-{lang}.tsv[.gz]).
    """
    p.add_argument("--source", required=True, choices=["huggingface", "panx_dataset", "local"])
    p.add_argument("--lang", required=True, help="PAN-X language code, e.g. en")
    p.add_argument("--path", help="file, directory or URL (panx_dataset, local)")
    add_config_option(p, "--hf-repo", "data.hf_repo", help="dataset repository")
    add_config_option(p, "--hf-revision", "data.hf_revision", help="branch, tag or commit sha")
    add_config_option(p, "--retries", "data.retries", type=int, help="attempts per download")
    p.add_argument("--out", required=True, type=Path, help="raw directory to create, e.g. results/raw/en")
    p.set_defaults(func=_run_download)


def _run_download(args: argparse.Namespace) -> None:
    from xner.data.download import download_language

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


def _add_fetch(p: argparse.ArgumentParser) -> None:
    """download a URL atomically, with retries and a sha256 file

    Download URL to OUT (temporary file, then rename), retrying transient errors; write OUT.sha256 beside
    it.
    """
    p.add_argument("--url", required=True)
    p.add_argument("--out", required=True, type=Path)
    add_config_option(p, "--retries", "data.retries", type=int, help="attempts")
    p.set_defaults(func=_run_fetch)


def _run_fetch(args: argparse.Namespace) -> None:
    from xner.data.http import fetch_url

    digest = fetch_url(args.url, args.out, retries=args.retries)
    logger.info("%s sha256 %s", args.out, digest)


def _add_parse(p: argparse.ArgumentParser) -> None:
    """parse a raw directory into one sentence table per PAN-X split

    Parse the raw files of one language (a directory made by 'xner download') into Parquet sentence tables
    (columns id, lang, tokens, tags), one per PAN-X split. All outputs are written, or none.
    """
    p.add_argument("--raw", required=True, type=Path, help="raw directory, e.g. results/raw/en")
    add_split_outputs(p, PANX_SPLITS, "PAN-X")
    p.set_defaults(func=_run_parse)


def _run_parse(args: argparse.Namespace) -> None:
    from xner.data.parse import parse_language

    parse_language(args.raw, split_outputs(args, PANX_SPLITS))


def _add_split(p: argparse.ArgumentParser) -> None:
    """divide PAN-X train into train and val, stratified on sentence length

    Divide PAN-X train into train and val by a split stratified on sentence-length bins (sparse bins are
    merged with a neighbour, so no sentence is dropped), and copy the test split. train and val together
    are exactly PAN-X train, each in source order.
    """
    p.add_argument("--train", required=True, type=Path, help="PAN-X train (parsed parquet)")
    p.add_argument(
        "--test", required=True, type=Path, help="the PAN-X split used as test set (parsed parquet)"
    )
    add_split_outputs(p, STUDY_SPLITS, "study's")
    add_config_option(
        p,
        "--val-fraction",
        "split.val_fraction",
        type=float,
        help="the share of PAN-X train that becomes val",
    )
    add_split_seed(p)
    add_length_bins(p)
    p.add_argument(
        "--test-budget",
        type=int,
        default=None,
        metavar="N",
        help="keep at most N test sentences, the first of the stratified order, in source order "
        "(default: all)",
    )
    p.set_defaults(func=_run_split)


def _split_settings(args: argparse.Namespace):
    from xner.data.splits import SplitSettings

    try:
        return from_args(SplitSettings, args, length_bins=tuple(args.length_bins))
    except ValueError as e:
        raise XnerError(str(e)) from None


def _run_split(args: argparse.Namespace) -> None:
    from xner.data.splits import split_language

    split_language(args.train, args.test, split_outputs(args, STUDY_SPLITS), _split_settings(args))


def _add_budget(p: argparse.ArgumentParser) -> None:
    """take the first N train sentences of a stratified order, and val in the same ratio

    Write a language's budgeted train and val splits: the first N sentences of a stratified order of train
    (strata: sentence-length bin x the entity types in the sentence; systematic sampling from --seed, so that
    every prefix is a proportional sample and smaller budgets are part of larger ones), and the first
    round(N x |val| / |train|) (at least 1) of val's. Rows keep their ids and source order. A budget larger
    than train is an error, and nothing is written.
    """
    p.add_argument("--train", required=True, type=Path, help="the language's train split (parquet)")
    p.add_argument("--val", required=True, type=Path, help="the language's val split (parquet)")
    p.add_argument("--budget", required=True, type=int, metavar="N", help="train sentences to keep")
    add_split_outputs(p, TRAINING_SPLITS, "budgeted")
    add_split_seed(p)
    add_length_bins(p)
    p.set_defaults(func=_run_budget)


def _run_budget(args: argparse.Namespace) -> None:
    from xner.data.splits import budget_language

    budget_language(
        args.train, args.val, args.budget, split_outputs(args, TRAINING_SPLITS), _split_settings(args)
    )


def _add_stats(p: argparse.ArgumentParser) -> None:
    """count sentences, words and tags per language, split and training mixture

    Write the dataset statistics table (CSV and Markdown): one row per language and split (train, val,
    test), one per training mixture (train and val of its languages).
    """
    p.add_argument(
        "--inputs", required=True, nargs="+", type=Path, help="split tables, each .../{lang}/{split}.parquet"
    )
    p.add_argument(
        "--mixtures", nargs="*", default=[], help="training mixtures, e.g. en+it, with budgets en@2000+it"
    )
    add_table_outputs(p)
    p.set_defaults(func=_run_stats)


def _run_stats(args: argparse.Namespace) -> None:
    from xner.data.statistics import data_stats, stats_inputs
    from xner.io import write_table

    table = data_stats(*stats_inputs(args.inputs, args.mixtures))
    write_table(table, args.csv, args.md)
    logger.info("%d rows -> %s", len(table), args.csv)


COMMANDS = (
    _add_download,
    _add_fetch,
    _add_parse,
    _add_split,
    _add_budget,
    _add_stats,
)
