"""The study's speed table as a pipeline target (``results/speed/{model}.json``, ``results/tables/speed.csv``).

For each configured model: one training epoch of xner's loop over the first
``sentences`` sentences of a language's training split (the study: 16,000
English sentences, batch size 64) with validation on its val split, and
inference over the same training sentences, each with its peak memory. The
table puts the study's own numbers (one RTX 3090) beside them for reference.

Before the timed epoch a few batches run untimed (CUDA initialisation, kernel
selection), so the times are those of an epoch in the middle of training.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd
import torch

from xner.device import PeakMemory, device_name, synchronize
from xner.errors import XnerError
from xner.evaluation.inference import predict
from xner.evaluation.scoring import score
from xner.io import markdown_table, read_sentences, write_json, write_table
from xner.models.features import encode
from xner.models.loading import load_model, load_tokenizer
from xner.runs import TrainSettings
from xner.runs import speed_hparams as speed_hparams  # the speed table's configuration, kept here too
from xner.runs import speed_models as speed_models

logger = logging.getLogger(__name__)

# The study's measurements: one RTX 3090, batch size 64, 16,000 English sentences;
# an epoch includes validation. Text, because the study gives ranges.
STUDY_SPEED: dict[str, dict[str, str]] = {
    "deberta-v2": {
        "study_model": "mdeberta-v3-base",
        "study_epoch_seconds": "111",
        "study_inference_seconds": "37",
    },
    "other": {
        "study_model": "base-size BERT-like models",
        "study_epoch_seconds": "79-83",
        "study_inference_seconds": "28-30",
    },
}

SPEED_COLUMNS = [
    "model",
    "model_path",
    "model_type",
    "device_name",
    "precision",
    "train_sentences",
    "batch_size",
    "epoch_seconds",
    "train_seconds",
    "val_seconds",
    "train_peak_memory_mib",
    "inference_sentences",
    "inference_seconds",
    "inference_peak_memory_mib",
    "study_model",
    "study_epoch_seconds",
    "study_inference_seconds",
]


def _first(path: str | Path, n: int | None) -> tuple[list[list[str]], list[list[str]]]:
    table = read_sentences(path)
    if n is not None:
        table = table.slice(0, n)
    return table.column("tokens").to_pylist(), table.column("tags").to_pylist()


def measure_speed(
    model_path: str,
    train_path: str | Path,
    val_path: str | Path,
    settings: TrainSettings,
    *,
    sentences: int,
    device: str = "auto",
    warmup_batches: int = 2,
    load_from: str | None = None,
) -> dict:
    """Time one training epoch (with validation) and inference over the first ``sentences`` sentences.

    ``load_from``: where to load ``model_path`` from when that is elsewhere (its manifest's directory).
    """
    from xner.device import prepare_device
    from xner.training.train import make_optimizer, train_one_epoch

    if sentences < 1:
        raise XnerError(f"the number of sentences to time must be positive, not {sentences}")
    dev, precision = prepare_device(device, settings.precision)
    torch.manual_seed(settings.seed)
    tokenizer = load_tokenizer(load_from or model_path)
    model = load_model(load_from or model_path).to(dev)
    pad_id = tokenizer.pad_token_id
    train = _first(train_path, sentences)
    val = _first(val_path, None)
    if len(train[0]) < sentences:
        logger.warning(
            "%s has %d sentences, fewer than the %d asked for: timing those",
            train_path,
            len(train[0]),
            sentences,
        )
    train_enc = encode(tokenizer, *train, max_length=settings.max_length)
    val_enc = encode(tokenizer, *val, max_length=settings.max_length)
    optimizer = make_optimizer(model, settings, dev)
    kwargs = {"pad_id": pad_id, "device": dev, "precision": precision}

    # Untimed warm-up on a few batches, from which the weights are then restored.
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    warm = min(len(train[0]), warmup_batches * settings.batch_size)
    if warm:
        warm_enc = encode(tokenizer, train[0][:warm], train[1][:warm], max_length=settings.max_length)
        train_one_epoch(model, optimizer, warm_enc, settings, epoch=0, **kwargs)
        predict(model, warm_enc, batch_size=settings.eval_batch_size, **kwargs)
    model.load_state_dict(state)
    optimizer = make_optimizer(model, settings, dev)
    del state

    with PeakMemory(dev) as train_memory:
        start = time.perf_counter()
        loss, tokens, _ = train_one_epoch(model, optimizer, train_enc, settings, epoch=1, **kwargs)
        synchronize(dev)
        train_seconds = time.perf_counter() - start
        validation = predict(model, val_enc, batch_size=settings.eval_batch_size, **kwargs)
        synchronize(dev)
        epoch_seconds = time.perf_counter() - start
    val_f1 = score(val[1], validation.tags)["micro"]["f1"]
    with PeakMemory(dev) as inference_memory:
        start = time.perf_counter()
        predict(model, train_enc, batch_size=settings.eval_batch_size, **kwargs)
        synchronize(dev)
        inference_seconds = time.perf_counter() - start
    result = {
        "model_path": model_path,
        "model_type": model.config.model_type,
        "device_type": dev.type,
        "device_name": device_name(dev),
        "threads": torch.get_num_threads(),
        "precision": precision,
        "batch_size": settings.batch_size,
        "eval_batch_size": settings.eval_batch_size,
        "max_length": settings.max_length,
        "lr": settings.lr,
        "train_sentences": len(train[0]),
        "train_subtokens": tokens,
        "val_sentences": len(val[0]),
        "epoch_seconds": epoch_seconds,
        "train_seconds": train_seconds,
        "val_seconds": epoch_seconds - train_seconds,
        "train_loss": loss,
        "val_loss": validation.loss,
        "val_f1": val_f1,
        "train_peak_memory_mib": train_memory.mib,
        "inference_sentences": len(train[0]),
        "inference_seconds": inference_seconds,
        "inference_peak_memory_mib": inference_memory.mib,
        "memory": "CUDA allocator peak" if dev.type == "cuda" else "process resident set peak",
    }
    logger.info(
        "%s: epoch %.1f s (train %.1f s + val %.1f s), inference over %d sentences %.1f s",
        model_path,
        epoch_seconds,
        train_seconds,
        epoch_seconds - train_seconds,
        len(train[0]),
        inference_seconds,
    )
    return result


def write_speed(result: dict, path: str | Path) -> None:
    write_json(path, result)


def speed_table(results: Iterable[dict]) -> pd.DataFrame:
    """One row per model, with the study's numbers for its kind of model beside xner's."""
    rows = []
    for r in results:
        study = STUDY_SPEED.get(r["model_type"], STUDY_SPEED["other"])
        rows.append({**{k: r.get(k) for k in SPEED_COLUMNS}, **study})
    return pd.DataFrame(rows, columns=SPEED_COLUMNS)


def speed_markdown(table: pd.DataFrame) -> str:
    """The table for reading: seconds with one decimal, memory in whole MiB, the study beside."""
    view = pd.DataFrame(
        {
            "model": table["model"],
            "device": table["device_name"] + " (" + table["precision"] + ")",
            "train sentences": table["train_sentences"],
            "epoch s (with val)": table["epoch_seconds"].map("{:.1f}".format),
            "train peak MiB": table["train_peak_memory_mib"].map("{:.0f}".format),
            "inference s": table["inference_seconds"].map("{:.1f}".format),
            "inference peak MiB": table["inference_peak_memory_mib"].map("{:.0f}".format),
            "study epoch s": table["study_epoch_seconds"],
            "study inference s": table["study_inference_seconds"],
            "study model": table["study_model"],
        }
    )
    note = (
        "\nThe study: one RTX 3090, batch size 64, 16,000 English sentences; an epoch includes "
        "validation. xner: the device above, the batch size and sentences of config key speed.\n"
    )
    return markdown_table(view) + note


def write_speed_table(table: pd.DataFrame, csv_path: str | Path, md_path: str | Path) -> None:
    write_table(table, csv_path, md_path, markdown=speed_markdown(table))


def read_speed(paths: Sequence[str | Path]) -> list[dict]:
    return [json.loads(Path(p).read_text()) for p in paths]
