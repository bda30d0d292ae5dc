"""The evaluation command: evaluate (rule in evaluate.smk; code in xner.evaluation)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from xner.cli.options import (
    add_bootstrap_options,
    add_device_options,
    add_hparam_options,
    add_length_bins,
    add_run_info,
    bootstrap,
    lang_paths,
    run_info,
    set_threads,
)

logger = logging.getLogger("xner")


def _add_evaluate(p: argparse.ArgumentParser) -> None:
    """score a trained run on its test languages (strict IOB2, on words), loading the model once

    Predict every word of each test split with a trained run and write OUT_DIR/LANG.json (scores on words:
    seqeval, strict mode, IOB2 scheme, and under "lenient" seqeval's default mode, as XTREME scores PAN-X;
    each F1 with a bootstrap interval over sentences; an error analysis), OUT_DIR/LANG.tsv (predictions:
    token, gold, pred), OUT_DIR/LANG.counts.parquet (per sentence and entity type: true positives, false
    positives, misses) and OUT_DIR/index.json (what each was made from). A language already evaluated there
    from the same model files, test split and settings is kept, not evaluated again; one not in --test is
    removed, so that OUT_DIR holds the languages of --test.
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
    add_run_info(p)
    p.add_argument("--split", default="", help="the PAN-X split the test sets are (dev or test; recorded)")
    add_device_options(p)
    add_hparam_options(p, ["max_length", "eval_batch_size", "precision"])
    add_bootstrap_options(p)
    add_length_bins(p)
    p.set_defaults(func=_run_evaluate)


def _run_evaluate(args: argparse.Namespace) -> None:
    from xner.evaluation.evaluate import evaluate_run

    set_threads(args.threads)
    evaluate_run(
        args.model_dir,
        lang_paths(args.test, "--test"),
        args.out_dir,
        info=run_info(args),
        split=args.split,
        max_length=args.max_length,
        batch_size=args.eval_batch_size,
        device=args.device,
        precision=args.precision,
        bootstrap=bootstrap(args),
        length_bins=args.length_bins,
        summary=args.summary,
    )


COMMANDS = (_add_evaluate,)
