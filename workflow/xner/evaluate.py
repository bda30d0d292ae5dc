"""Word-level prediction and strict IOB2 scoring (``results/eval/{model}/{langs}/{variant}/{lang}.json``).

Scores come from seqeval in strict mode with the IOB2 scheme, on words (the
first sub-token's prediction stands for its word), over every gold word: a word
that got no prediction of its own (see :mod:`xner.features`) is predicted ``O``
and counted in ``truncated_words``. The TSV beside each JSON holds
``token<TAB>gold<TAB>pred`` per word, a blank line between sentences, in source
order, so that any score can be recomputed from it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from seqeval.metrics import classification_report
from seqeval.scheme import IOB2

from xner.device import device_name, forward_loss
from xner.errors import DataFormatError
from xner.features import MICROBATCH_OVERHEAD_TOKENS, Encoded, collate, eval_plan, pad_multiple
from xner.io import atomic_outputs
from xner.labels import ENTITY_TYPES, LABELS

logger = logging.getLogger(__name__)


@dataclass
class Prediction:
    """Word-level predictions over some sentences, with the loss on their labelled sub-tokens."""

    tags: list[list[str]]
    loss: float
    seconds: float
    tokens: int  # non-padding sub-tokens seen


@torch.inference_mode()
def predict(
    model,
    encoded: Encoded,
    *,
    batch_size: int,
    pad_id: int,
    device: torch.device,
    precision: str = "auto",
    overhead_tokens: int | None = None,
) -> Prediction:
    """Predict a tag for every word of the encoded sentences; words without sub-tokens get ``O``.

    Windows go longest first in batches of ``batch_size``, each cut into
    micro-batches where that saves padding (:func:`xner.features.microbatches`).
    """
    model.eval()
    start = time.perf_counter()
    word_preds = [np.zeros(n, dtype=np.int64) for n in encoded.n_words]
    loss_sum = torch.zeros((), device=device)
    label_count = 0
    multiple = pad_multiple(device.type)
    if overhead_tokens is None:
        overhead_tokens = MICROBATCH_OVERHEAD_TOKENS.get(device.type, 0)
    for batch in eval_plan(encoded.lengths, batch_size, overhead_tokens):
        for group in batch:
            logits, loss = forward_loss(model, collate(encoded, group, pad_id, multiple), device, precision)
            loss_sum += loss
            label_count += int(encoded.label_counts[group].sum())
            best = logits.argmax(-1).cpu().numpy()
            for row, i in enumerate(group):
                first = encoded.first[i]
                positions = np.nonzero(first >= 0)[0]
                word_preds[encoded.sentence[i]][first[positions]] = best[row, positions]
    loss = float(loss_sum.item()) / label_count if label_count else float("nan")
    return Prediction(
        tags=[[LABELS[t] for t in p] for p in word_preds],
        loss=loss,
        seconds=time.perf_counter() - start,
        tokens=encoded.n_tokens,
    )


def score(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict:
    """Strict IOB2 entity scores (seqeval): micro, macro, weighted, and per entity type.

    Each has precision, recall, f1 and support (gold entities). A type absent from
    both gold and predictions scores 0 with support 0.
    """
    report = classification_report(
        [list(g) for g in gold],
        [list(p) for p in pred],
        mode="strict",
        scheme=IOB2,
        output_dict=True,
        zero_division=0,
    )

    def pick(entry: dict | None) -> dict:
        entry = entry or {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0}
        return {
            "precision": float(entry["precision"]),
            "recall": float(entry["recall"]),
            "f1": float(entry["f1-score"]),
            "support": int(entry["support"]),
        }

    return {
        "micro": pick(report.get("micro avg")),
        "macro": pick(report.get("macro avg")),
        "weighted": pick(report.get("weighted avg")),
        "per_type": {t: pick(report.get(t)) for t in ENTITY_TYPES},
    }


def write_predictions_tsv(path: str | Path, tokens, gold, pred) -> None:
    """``token<TAB>gold<TAB>pred`` per word, a blank line between sentences."""
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for s, (words, g, p) in enumerate(zip(tokens, gold, pred)):
            if s:
                f.write("\n")
            for row in zip(words, g, p):
                f.write("\t".join(row) + "\n")


def read_predictions_tsv(path: str | Path) -> tuple[list[list[str]], list[list[str]], list[list[str]]]:
    """Read a predictions TSV back: tokens, gold tags, predicted tags per sentence."""
    tokens: list[list[str]] = [[]]
    gold: list[list[str]] = [[]]
    pred: list[list[str]] = [[]]
    with open(path, encoding="utf-8", newline="\n") as f:
        for lineno, line in enumerate(f, start=1):
            line = line.rstrip("\n")
            if not line:
                tokens.append([])
                gold.append([])
                pred.append([])
                continue
            parts = line.split("\t")
            if len(parts) != 3:
                raise DataFormatError(path, lineno, f"expected token, gold, pred; found {len(parts)} columns")
            for column, value in zip((tokens, gold, pred), parts):
                column[-1].append(value)
    keep = [i for i, t in enumerate(tokens) if t]
    return [tokens[i] for i in keep], [gold[i] for i in keep], [pred[i] for i in keep]


def evaluate_model(
    model,
    tokenizer,
    test_path: str | Path,
    *,
    json_path: str | Path,
    tsv_path: str | Path,
    info: dict,
    max_length: int,
    batch_size: int,
    device: torch.device,
    precision: str,
) -> dict:
    """Evaluate a loaded model (on ``device``, precision resolved) on one test split; write JSON and TSV."""
    import json

    from xner.features import encode
    from xner.io import read_sentences

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
    result = {
        **info,
        "sentences": len(tokens),
        "words": int(sum(map(len, tokens))),
        "loss": prediction.loss,
        **score(gold, prediction.tags),
        "truncated_words": encoded.words_without_subtokens,
        "windowed_sentences": encoded.windowed_sentences,
        "cut_subtokens": encoded.cut_subtokens,
        "max_length": max_length,
        "scheme": "IOB2",
        "mode": "strict",
        "seconds": prediction.seconds,
        "sentences_per_second": len(tokens) / prediction.seconds if prediction.seconds else None,
        "device_type": device.type,
        "device_name": device_name(device),
    }
    with atomic_outputs(json_path, tsv_path) as (json_tmp, tsv_tmp):
        write_predictions_tsv(tsv_tmp, tokens, gold, prediction.tags)
        json_tmp.write_text(json.dumps(result, indent=2) + "\n")
    logger.info(
        "%s: micro F1 %.4f, macro F1 %.4f over %d words (%d sentences) in %.1f s",
        info.get("test_lang"),
        result["micro"]["f1"],
        result["macro"]["f1"],
        result["words"],
        result["sentences"],
        prediction.seconds,
    )
    return result
