"""The prediction command: predict (rule predict_run in predict.smk; code in xner.prediction)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from xner.cli.options import (
    add_device_options,
    add_hparam_options,
    set_threads,
)

logger = logging.getLogger("xner")


def _add_predict(p: argparse.ArgumentParser) -> None:
    """tag new text with a trained run: entities per sentence, as JSONL or TSV

    Read sentences from each INPUT (standard input when none is given, or -): raw text, one sentence per
    line; CoNLL/PAN-X token<TAB>tag or token lines, a blank line between sentences (tags kept as gold); or
    JSONL with a "tokens" list per line. Predict a tag for every word as xner evaluate does, and write JSONL
    (tokens, tags and entities with their word span, text, character offsets for raw text, and mean tag
    probability) or token<TAB>tag lines, to --output or standard output.
    """
    from xner.prediction.texts import INPUT_FORMATS, OUTPUT_FORMATS

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
    add_device_options(p)
    add_hparam_options(p, ["max_length", "eval_batch_size", "precision"])
    p.set_defaults(func=_run_predict)


def _run_predict(args: argparse.Namespace) -> None:
    from xner.prediction.texts import PredictSettings, predict_files

    set_threads(args.threads)
    predict_files(
        args.model_dir,
        args.inputs,
        output=args.output,
        input_format=args.input_format,
        output_format=args.output_format,
        split_punctuation=args.split_punctuation,
        settings=PredictSettings(args.max_length, args.eval_batch_size, args.device, args.precision),
    )


COMMANDS = (_add_predict,)
