"""A run's evaluations on all its test languages, in one process (``results/runs/.../evaluations/``).

One job per run loads the trained model once and evaluates it on every test
language (:func:`evaluate_run`), writing ``{lang}.json`` and ``{lang}.tsv`` as
:func:`xner.evaluate.evaluate_model` writes them, and ``index.json``: for each
language, the key it was made from (the model's files, the test split's bytes,
the run and evaluation settings) and how long it took. A language whose key is
unchanged is kept, not evaluated again, so adding a test language to an
experiment evaluates that language only. :func:`export_evaluation` then copies
one language's files to ``results/eval/{model}/{langs}/{variant}/{lang}.{json,tsv}``.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

from xner.bootstrap import BootstrapSettings
from xner.errors import XnerError
from xner.io import atomic_outputs, atomic_path, sha256_directory, sha256_file
from xner.model_card import CARD, write_card
from xner.splits import DEFAULT_LENGTH_BINS

logger = logging.getLogger(__name__)

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

    Writes ``out_dir/{lang}.json`` and ``.tsv`` for each language whose key
    (:func:`evaluation_key`) differs from the one in ``out_dir/index.json``, and
    the index after each; returns the index entries of ``tests``. With the run's
    ``summary`` (its summary.json), the model's card (``model_dir/README.md``,
    :mod:`xner.model_card`) is rewritten with every evaluation in the index; the
    card is no part of the model's key.
    """
    out_dir = Path(out_dir)
    bootstrap = bootstrap or BootstrapSettings()
    out_dir.mkdir(parents=True, exist_ok=True)
    index = read_index(out_dir)
    settings = {
        "max_length": max_length,
        "eval_batch_size": batch_size,
        "precision": precision,
        "bootstrap": asdict(bootstrap),
        "length_bins": list(length_bins),
    }
    model_sha256 = sha256_directory(model_dir, exclude=(CARD,))
    infos = {lang: {**info, "test_lang": lang, "split": split} for lang in tests}
    keys = {lang: evaluation_key(model_sha256, path, infos[lang], settings) for lang, path in tests.items()}
    todo = [
        lang
        for lang in tests
        if index.get(lang, {}).get("key") != keys[lang]
        or not (out_dir / f"{lang}.json").exists()
        or not (out_dir / f"{lang}.tsv").exists()
    ]
    kept = [lang for lang in tests if lang not in todo]
    if kept:
        logger.info("kept (model, test split and settings unchanged): %s", ", ".join(kept))
    if todo:
        from xner.device import prepare_device
        from xner.evaluate import evaluate_model
        from xner.models import load_model, load_tokenizer

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
                json_path=out_dir / f"{lang}.json",
                tsv_path=out_dir / f"{lang}.tsv",
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
            with atomic_path(out_dir / INDEX) as tmp:
                tmp.write_text(json.dumps(index, indent=2) + "\n")
    if summary is not None:
        evaluations = {
            lang: json.loads((out_dir / f"{lang}.json").read_text(encoding="utf-8"))
            for lang in index
            if (out_dir / f"{lang}.json").exists()
        }
        card = write_card(model_dir, json.loads(Path(summary).read_text(encoding="utf-8")), evaluations)
        logger.info("model card with %d evaluation(s): %s", len(evaluations), card)
    return {lang: index[lang] for lang in tests}


def export_evaluation(
    evaluations_dir: str | Path, lang: str, json_path: str | Path, tsv_path: str | Path
) -> None:
    """Copy one language's evaluation (JSON and TSV) out of a run's evaluations directory."""
    evaluations_dir = Path(evaluations_dir)
    if lang not in read_index(evaluations_dir):
        raise XnerError(f"{evaluations_dir}: no evaluation on {lang!r} (evaluate the run on it first)")
    with atomic_outputs(json_path, tsv_path) as (json_tmp, tsv_tmp):
        shutil.copyfile(evaluations_dir / f"{lang}.json", json_tmp)
        shutil.copyfile(evaluations_dir / f"{lang}.tsv", tsv_tmp)
