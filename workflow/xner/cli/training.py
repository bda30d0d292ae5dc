"""The training commands: train, speed, speed-table (rules in train.smk and speed.smk; code in xner.training)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from xner.cli.options import (
    add_config_option,
    add_device_options,
    add_hparam_options,
    add_model_manifest,
    add_model_name,
    add_run_info,
    add_table_outputs,
    from_args,
    lang_paths,
    model_location,
    run_info,
    set_threads,
)
from xner.errors import XnerError

logger = logging.getLogger("xner")


def _add_train(p: argparse.ArgumentParser) -> None:
    """fine-tune one model on a mixture of languages (one run)

    Fine-tune a token-classification model on the train splits given, select the epoch with the lowest
    loss on the val splits, and write OUT_DIR/model (save_pretrained), history.csv and summary.json. A
    killed run started again resumes after its last completed epoch.
    """
    p.add_argument(
        "--model-path", required=True, help="hub id, local directory or PyPI model source pypi:NAME==VERSION"
    )
    add_model_manifest(p)
    p.add_argument("--train", required=True, nargs="+", type=Path, help="train split tables")
    p.add_argument("--val", required=True, nargs="+", type=Path, help="val split tables")
    p.add_argument(
        "--track", nargs="*", default=[], metavar="LANG=PATH", help="test splits to track every epoch"
    )
    p.add_argument("--out-dir", required=True, type=Path, help="run directory")
    add_run_info(p)
    add_device_options(p)
    add_hparam_options(p)
    p.set_defaults(func=_run_train)


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
    from xner.training.train import fingerprint, load_run_data, train

    set_threads(args.threads)
    budgets = _train_budgets(args.train_langs)
    tracked = lang_paths(args.track, "--track")
    settings = from_args(TrainSettings, args)
    data = load_run_data(args.train, args.val, tracked)
    location, recorded = model_location(args)
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
        run_info={**run_info(args), "train_budgets": budgets, **recorded},
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


def _add_speed(p: argparse.ArgumentParser) -> None:
    """time one model's training epoch and inference for the speed table

    Time one training epoch of xner's loop over the first SENTENCES sentences of a train split (validation
    on the val split included) and inference over the same sentences, with peak memory; write the JSON for
    results/tables/speed.csv. A few batches run untimed first.
    """
    p.add_argument(
        "--model-path", required=True, help="hub id, local directory or PyPI model source pypi:NAME==VERSION"
    )
    add_model_manifest(p)
    add_model_name(p, required=True)
    p.add_argument("--train", required=True, type=Path, help="train split table")
    p.add_argument("--val", required=True, type=Path, help="val split table")
    add_config_option(p, "--sentences", "speed.sentences", type=int, help="training sentences to time")
    p.add_argument("--out", required=True, type=Path, help="JSON file to write")
    add_device_options(p)
    # the speed table times every model at one batch size, for training and inference alike
    add_hparam_options(p, keys={"batch_size": "speed.batch_size", "eval_batch_size": "speed.batch_size"})
    p.set_defaults(func=_run_speed)


def _run_speed(args: argparse.Namespace) -> None:
    from xner.runs import TrainSettings
    from xner.training.speed import measure_speed, write_speed

    set_threads(args.threads)
    location, recorded = model_location(args)
    result = measure_speed(
        args.model_path,
        args.train,
        args.val,
        from_args(TrainSettings, args),
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
    add_table_outputs(p)
    p.set_defaults(func=_run_speed_table)


def _run_speed_table(args: argparse.Namespace) -> None:
    from xner.training.speed import read_speed, speed_table, write_speed_table

    table = speed_table(read_speed(args.speeds))
    write_speed_table(table, args.csv, args.md)
    logger.info("speed of %d model(s) -> %s", len(table), args.csv)


COMMANDS = (
    _add_train,
    _add_speed,
    _add_speed_table,
)
