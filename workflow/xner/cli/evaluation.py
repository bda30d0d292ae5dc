"""The evaluation commands: evaluate, export-evaluation (rules in evaluate.smk; code in xner.evaluation)."""

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
    from xner.evaluation.evaluate import export_evaluation

    export_evaluation(args.evaluations, args.test_lang, args.json, args.tsv)


COMMANDS = (
    _add_evaluate,
    _add_export_evaluation,
)
