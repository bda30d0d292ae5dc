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
    line, split into words by --tokenizer; CoNLL/PAN-X token<TAB>tag or token lines, a blank line between
    sentences (tags kept as gold); or JSONL with a "tokens" list per line. Predict a tag for every word as xner evaluate does, and write JSONL
    (tokens, tags and entities with their word span, text, character offsets for raw text, and mean tag
    probability) or token<TAB>tag lines, to --output or standard output.
    """
    from xner.prediction.texts import INPUT_FORMATS, OUTPUT_FORMATS
    from xner.prediction.words import DEFAULT_LANG, DEFAULT_TOKENIZER, TOKENIZERS

    p.add_argument(
        "model_dir",
        metavar="MODEL_DIR",
        type=Path,
        help="a run's directory (results/runs/MODEL/LANGS/VARIANT) or its model/ directory",
    )
    p.add_argument("inputs", metavar="INPUT", nargs="*", help="input files (default: standard input, or -)")
    p.add_argument("--output", type=Path, help="output file, written whole or not at all (default: stdout)")
    p.add_argument(
        "--input-format",
        choices=INPUT_FORMATS,
        help="default: from the extension (.txt text; .tsv, .conll, .iob conll; .jsonl jsonl); text on stdin",
    )
    p.add_argument("--output-format", choices=OUTPUT_FORMATS, default="jsonl", help="default: %(default)s")
    p.add_argument(
        "--tokenizer",
        choices=TOKENIZERS,
        default=DEFAULT_TOKENIZER,
        help="raw text into words: xner (punctuation split off words except in abbreviations, numbers, "
        "URLs, hyphenated and apostrophe words: close to PAN-X's tokens), moses (the Moses tokenizer), "
        "punctuation (every punctuation character a word), whitespace (default: %(default)s)",
    )
    p.add_argument(
        "--lang",
        help="raw text: its language (ISO 639-1), for the abbreviations a period does not end: the "
        f"tokenizer xner knows its and English's, moses its own (default: {DEFAULT_LANG})",
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
        tokenizer=args.tokenizer,
        lang=args.lang,
        settings=PredictSettings(args.max_length, args.eval_batch_size, args.device, args.precision),
    )


COMMANDS = (_add_predict,)
