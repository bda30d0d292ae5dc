"""The synthetic data and models of the demo and the tests: demo-data, tiny-model (code in xner.synthetic)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from xner.errors import XnerError
from xner.labels import PANX_SPLITS

logger = logging.getLogger("xner")


def _add_demo_data(p: argparse.ArgumentParser) -> None:
    """write deterministic synthetic PAN-X data in the upstream archive format

    Write a synthetic panx_dataset.tar ({lang}.tar.gz members with train, dev, test, extra), deterministic
    for a given seed, for the offline demo and the tests.
    """
    from xner.synthetic.panx import DEFAULT_SETTINGS

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
    from xner.synthetic.panx import DemoSettings, write_panx_archive

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
    from xner.synthetic.models import TinyModelSettings, build_tiny_model

    sentences = [words for path in args.train for words in read_sentences(path).column("tokens").to_pylist()]
    try:
        settings = TinyModelSettings(family=args.family, vocab_size=args.vocab_size, seed=args.seed)
    except ValueError as e:
        raise XnerError(str(e)) from None
    build_tiny_model(sentences, args.out, settings)


COMMANDS = (
    _add_demo_data,
    _add_tiny_model,
)
