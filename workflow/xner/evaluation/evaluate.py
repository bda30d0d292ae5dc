"""Evaluation: one model on one test split (:func:`evaluate_model`), and a run on all its test languages.

Scores (:func:`xner.evaluation.scoring.evaluation_scores`) come from seqeval in strict mode
with the IOB2 scheme, and in its lenient default mode under ``lenient``, each F1
with a bootstrap interval, and an error analysis; on words (the first
sub-token's prediction stands for its word), over every gold word: a word that
got no prediction of its own (see :mod:`xner.models.features`) is predicted ``O`` and
counted in ``truncated_words``. The TSV beside each JSON holds
``token<TAB>gold<TAB>pred`` per word, a blank line between sentences, in source
order (:func:`xner.io.write_predictions_tsv`), so that any score can be
recomputed from it.

A run's evaluations on all its test languages, in one process (``results/runs/.../evaluations/``).

One job per run loads the trained model once and evaluates it on every test
language (:func:`evaluate_run`), writing ``{lang}.json``, ``{lang}.tsv`` and
``{lang}.counts.parquet`` as :func:`evaluate_model` writes them
(:func:`evaluation_files`), and ``index.json``: for each language, the key it
was made from (the model's files, the test split's bytes, the run and
evaluation settings) and how long it took. A language whose key is unchanged is
kept, not evaluated again, so adding a test language to an experiment evaluates
that language only; a language no longer asked for is removed, so that the
directory holds the run's test languages and nothing else. The reporting reads
these files in place (:func:`run_evaluation_files`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, astuple, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from xner.data.splits import DEFAULT_LENGTH_BINS
from xner.errors import XnerError
from xner.evaluation.bootstrap import BootstrapSettings
from xner.evaluation.spans import gold_digest, sentence_counts
from xner.io import (
    atomic_outputs,
    sha256_directory,
    sha256_file,
    write_json,
    write_predictions_tsv,
    write_sentence_counts,
)
from xner.labels import ENTITY_TYPES
from xner.model_sources import model_directory
from xner.models.card import CARD, write_card

if TYPE_CHECKING:  # torch only where a model is evaluated: reading an index needs none
    import torch

logger = logging.getLogger(__name__)


def evaluate_model(
    model,
    tokenizer,
    test_path: str | Path,
    *,
    json_path: str | Path,
    tsv_path: str | Path,
    counts_path: str | Path,
    info: dict,
    max_length: int,
    batch_size: int,
    device: torch.device,
    precision: str,
    bootstrap: BootstrapSettings,
    length_bins: Sequence[int],
) -> dict:
    """Evaluate a loaded model (on ``device``, precision resolved) on one test split; write JSON, TSV and counts.

    ``bootstrap``: the intervals' settings; ``length_bins``: the edges of the
    sentence-length bins of F1 by length (the split's).
    """
    from xner.device import device_name
    from xner.evaluation.inference import predict
    from xner.evaluation.scoring import evaluation_scores
    from xner.io import read_sentences
    from xner.models.features import encode

    table = read_sentences(test_path)
    tokens, gold = table.column("tokens").to_pylist(), table.column("tags").to_pylist()
    encoded = encode(tokenizer, tokens, gold, max_length=max_length)
    prediction = predict(
        model,
        encoded,
        batch_size=batch_size,
        pad_id=tokenizer.pad_token_id,
        device=device,
        precision=precision,
    )
    inference = Inference(
        loss=prediction.loss,
        seconds=prediction.seconds,
        truncated_words=encoded.words_without_subtokens,
        windowed_sentences=encoded.windowed_sentences,
        cut_subtokens=encoded.cut_subtokens,
        max_length=max_length,
        device_type=device.type,
        device_name=device_name(device),
    )
    files = EvaluationFiles(Path(json_path), Path(tsv_path), Path(counts_path))
    scores = evaluation_scores(gold, prediction.tags, bootstrap, length_bins)
    return write_evaluation(
        files, tokens, gold, prediction.tags, info=info, inference=inference, scores=scores
    )


@dataclass(frozen=True)
class Inference:
    """What inference reports beside the predicted tags, for the evaluation JSON."""

    loss: float
    seconds: float
    truncated_words: int  # gold words without a sub-token of their own, predicted O
    windowed_sentences: int
    cut_subtokens: int
    max_length: int
    device_type: str
    device_name: str


def evaluation_result(
    info: Mapping, scores: dict, inference: Inference, *, sentences: int, words: int
) -> dict:
    """An evaluation JSON: the run's ``info``, the test set's size, ``scores`` (:func:`evaluation_scores`) and
    what ``inference`` reports."""
    return {
        **info,
        "sentences": sentences,
        "words": words,
        "loss": inference.loss,
        **scores,
        "truncated_words": inference.truncated_words,
        "windowed_sentences": inference.windowed_sentences,
        "cut_subtokens": inference.cut_subtokens,
        "max_length": inference.max_length,
        "scheme": "IOB2",
        "mode": "strict",
        "seconds": inference.seconds,
        "sentences_per_second": sentences / inference.seconds if inference.seconds else None,
        "device_type": inference.device_type,
        "device_name": inference.device_name,
    }


def write_evaluation(
    files: EvaluationFiles,
    tokens: Sequence[Sequence[str]],
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    *,
    info: Mapping,
    inference: Inference,
    scores: dict,
) -> dict:
    """Write one evaluation of word-level predictions: JSON (:func:`evaluation_result`), TSV and per-sentence
    counts, all or none; return the JSON. ``scores``: :func:`evaluation_scores` of ``gold`` and ``pred``.

    What :func:`evaluate_model` does once the model has predicted.
    """
    result = evaluation_result(
        info, scores, inference, sentences=len(tokens), words=int(sum(map(len, tokens)))
    )
    counts = sentence_counts(gold, pred)
    with atomic_outputs(files.json, files.tsv, files.counts) as (json_tmp, tsv_tmp, counts_tmp):
        write_predictions_tsv(tsv_tmp, tokens, gold, pred)
        write_sentence_counts(counts_tmp, counts, ENTITY_TYPES, gold_digest(gold))
        write_json(json_tmp, result)
    logger.info(
        "%s: micro F1 %.4f %s, macro F1 %.4f over %d words (%d sentences) in %.1f s",
        info.get("test_lang"),
        result["micro"]["f1"],
        _interval(result["micro"]),
        result["macro"]["f1"],
        result["words"],
        result["sentences"],
        inference.seconds,
    )
    return result


def _interval(entry: dict) -> str:
    low, high = entry.get("f1_ci", (float("nan"), float("nan")))
    return f"[{low:.4f}, {high:.4f}]"


INDEX = "index.json"


def read_index(out_dir: str | Path) -> dict[str, dict]:
    """The index of a run's evaluations directory (empty when there is none yet)."""
    path = Path(out_dir) / INDEX
    if not path.exists():
        return {}
    try:
        index = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise XnerError(
            f"{path}: not a valid evaluations index ({e}); delete the directory to start over"
        ) from None
    return index


def evaluation_key(model_sha256: str, test_path: str | Path, info: Mapping, settings: Mapping) -> dict:
    """What an evaluation depends on: the model's files, the test split's bytes, the run and settings."""
    return {
        "model_sha256": model_sha256,
        "test_sha256": sha256_file(test_path),
        "info": dict(info),
        "settings": dict(settings),
    }


def evaluation_settings(
    max_length: int, batch_size: int, precision: str, bootstrap: BootstrapSettings, length_bins: Sequence[int]
) -> dict:
    """The settings part of an evaluation's key (:func:`evaluation_key`)."""
    return {
        "max_length": max_length,
        "eval_batch_size": batch_size,
        "precision": precision,
        "bootstrap": asdict(bootstrap),
        "length_bins": list(length_bins),
    }


def evaluate_run(
    model_dir: str | Path,
    tests: Mapping[str, str | Path],
    out_dir: str | Path,
    *,
    info: Mapping,
    split: str,
    max_length: int = 256,
    batch_size: int = 256,
    device: str = "auto",
    precision: str = "auto",
    bootstrap: BootstrapSettings | None = None,
    length_bins: Sequence[int] = DEFAULT_LENGTH_BINS,
    summary: str | Path | None = None,
) -> dict[str, dict]:
    """Evaluate a run on each test language (``tests``: language -> test split), loading its model once.

    ``model_dir``: the run's model directory, or the run's directory holding it
    (:func:`xner.model_sources.model_directory`).

    Writes the files of :func:`evaluation_files` for each language whose key
    (:func:`evaluation_key`) differs from the one in ``out_dir/index.json``, and
    the index after each; removes the languages not in ``tests``; returns the
    index entries of ``tests``. With the run's
    ``summary`` (its summary.json), the model's card (``model_dir/README.md``,
    :mod:`xner.models.card`) is rewritten with every evaluation in the index; the
    card is no part of the model's key.
    """
    model_dir = model_directory(model_dir)
    out_dir = Path(out_dir)
    bootstrap = bootstrap or BootstrapSettings()
    out_dir.mkdir(parents=True, exist_ok=True)
    index = read_index(out_dir)
    settings = evaluation_settings(max_length, batch_size, precision, bootstrap, length_bins)
    model_sha256 = sha256_directory(model_dir, exclude=(CARD,))
    infos = {lang: {**info, "test_lang": lang, "split": split} for lang in tests}
    keys = {lang: evaluation_key(model_sha256, path, infos[lang], settings) for lang, path in tests.items()}
    files = {lang: evaluation_files(out_dir, lang) for lang in tests}
    todo = [
        lang
        for lang in tests
        if index.get(lang, {}).get("key") != keys[lang]
        or not all(path.exists() for path in astuple(files[lang]))
    ]
    kept = [lang for lang in tests if lang not in todo]
    if kept:
        logger.info("kept (model, test split and settings unchanged): %s", ", ".join(kept))
    removed = [lang for lang in index if lang not in tests]
    if removed:  # the directory holds the run's test languages and nothing else
        index = {lang: entry for lang, entry in index.items() if lang in tests}
        write_json(out_dir / INDEX, index)
        for lang in removed:
            for path in astuple(evaluation_files(out_dir, lang)):
                path.unlink(missing_ok=True)
        logger.info("removed the evaluations of languages no longer tested: %s", ", ".join(removed))
    if todo:
        from xner.device import prepare_device
        from xner.models.loading import load_model, load_tokenizer

        start = time.perf_counter()
        dev, resolved = prepare_device(device, precision)  # TF32 on CUDA, as validation during training
        tokenizer = load_tokenizer(str(model_dir))
        model = load_model(str(model_dir)).to(dev)
        load_seconds = time.perf_counter() - start
        logger.info("loaded %s on %s in %.1f s; evaluating %s", model_dir, dev, load_seconds, ", ".join(todo))
        for lang in todo:
            start = time.perf_counter()
            evaluate_model(
                model,
                tokenizer,
                tests[lang],
                json_path=files[lang].json,
                tsv_path=files[lang].tsv,
                counts_path=files[lang].counts,
                info=infos[lang],
                max_length=max_length,
                batch_size=batch_size,
                device=dev,
                precision=resolved,
                bootstrap=bootstrap,
                length_bins=length_bins,
            )
            # the model's loading is part of the first language's time
            seconds = time.perf_counter() - start + load_seconds
            load_seconds = 0.0
            index[lang] = {"key": keys[lang], "wall_seconds": seconds, "device_type": dev.type}
            write_json(out_dir / INDEX, index)
    if summary is not None:
        evaluations = {
            lang: json.loads(paths.json.read_text(encoding="utf-8"))
            for lang, paths in run_evaluation_files(out_dir).items()
        }
        card = write_card(model_dir, json.loads(Path(summary).read_text(encoding="utf-8")), evaluations)
        logger.info("model card with %d evaluation(s): %s", len(evaluations), card)
    return {lang: index[lang] for lang in tests}


@dataclass(frozen=True)
class EvaluationFiles:
    """One test language's files in a run's evaluations directory."""

    json: Path  # scores, errors, settings (evaluate_model's result)
    tsv: Path  # token, gold, pred per word
    counts: Path  # per-sentence strict counts (xner.io.write_sentence_counts)


def evaluation_files(out_dir: str | Path, lang: str) -> EvaluationFiles:
    """Where a run's evaluation on ``lang`` lies in its evaluations directory."""
    out_dir = Path(out_dir)
    return EvaluationFiles(
        out_dir / f"{lang}.json", out_dir / f"{lang}.tsv", out_dir / f"{lang}.counts.parquet"
    )


def run_evaluation_files(
    out_dir: str | Path, langs: Sequence[str] | None = None
) -> dict[str, EvaluationFiles]:
    """The evaluations of a run's evaluations directory: of ``langs``, or of every language in its index.

    Each language asked for must have its JSON; an error names the first missing one.
    """
    langs = list(read_index(out_dir) if langs is None else langs)
    files = {lang: evaluation_files(out_dir, lang) for lang in langs}
    for lang, paths in files.items():
        if not paths.json.exists():
            raise XnerError(f"{paths.json}: no evaluation of this run on {lang} (run its evaluate job)")
    return files


def experiment_evaluations(directories: Sequence[str | Path], langs: Sequence[str]) -> list[EvaluationFiles]:
    """The evaluations of runs (their evaluations directories) on test languages, run by run."""
    return [files for directory in directories for files in run_evaluation_files(directory, langs).values()]
