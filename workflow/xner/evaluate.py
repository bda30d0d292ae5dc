"""Word-level prediction and its evaluation (``results/eval/{model}/{langs}/{variant}/{lang}.json``).

Scores (:func:`xner.scoring.evaluation_scores`) come from seqeval in strict mode
with the IOB2 scheme, and in its lenient default mode under ``lenient``, each F1
with a bootstrap interval, and an error analysis; on words (the first
sub-token's prediction stands for its word), over every gold word: a word that
got no prediction of its own (see :mod:`xner.features`) is predicted ``O`` and
counted in ``truncated_words``. The TSV beside each JSON holds
``token<TAB>gold<TAB>pred`` per word, a blank line between sentences, in source
order (:func:`xner.io.write_predictions_tsv`), so that any score can be
recomputed from it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from xner.bootstrap import BootstrapSettings
from xner.device import device_name, forward_loss
from xner.features import MICROBATCH_OVERHEAD_TOKENS, Encoded, collate, eval_plan, pad_multiple
from xner.io import atomic_outputs, write_predictions_tsv
from xner.labels import LABELS

logger = logging.getLogger(__name__)


@dataclass
class Prediction:
    """Word-level predictions over some sentences, with the loss on their labelled sub-tokens."""

    tags: list[list[str]]
    loss: float
    seconds: float
    tokens: int  # non-padding sub-tokens seen
    probabilities: list[np.ndarray]  # per word, the model's probability of its tag (1.0 for an O by default)


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
    progress: bool = False,
) -> Prediction:
    """Predict a tag for every word of the encoded sentences; words without sub-tokens get ``O``.

    Windows go longest first in batches of ``batch_size``, each cut into
    micro-batches where that saves padding (:func:`xner.features.microbatches`).
    ``progress``: a progress bar over the batches (on stderr).
    """
    from tqdm.auto import tqdm

    model.eval()
    start = time.perf_counter()
    word_preds = [np.zeros(n, dtype=np.int64) for n in encoded.n_words]
    word_probs = [np.ones(n, dtype=np.float32) for n in encoded.n_words]
    loss_sum = torch.zeros((), device=device)
    label_count = 0
    multiple = pad_multiple(device.type)
    if overhead_tokens is None:
        overhead_tokens = MICROBATCH_OVERHEAD_TOKENS.get(device.type, 0)
    plan = eval_plan(encoded.lengths, batch_size, overhead_tokens)
    for batch in tqdm(plan, desc="predicting", unit="batch", disable=not progress):
        for group in batch:
            logits, loss = forward_loss(model, collate(encoded, group, pad_id, multiple), device, precision)
            loss_sum += loss
            label_count += int(encoded.label_counts[group].sum())
            best = logits.argmax(-1)
            probs = logits.float().softmax(-1).gather(-1, best.unsqueeze(-1)).squeeze(-1)
            best, probs = best.cpu().numpy(), probs.cpu().numpy()
            for row, i in enumerate(group):
                first = encoded.first[i]
                positions = np.nonzero(first >= 0)[0]
                word_preds[encoded.sentence[i]][first[positions]] = best[row, positions]
                word_probs[encoded.sentence[i]][first[positions]] = probs[row, positions]
    loss = float(loss_sum.item()) / label_count if label_count else float("nan")
    return Prediction(
        tags=[[LABELS[t] for t in p] for p in word_preds],
        loss=loss,
        seconds=time.perf_counter() - start,
        tokens=encoded.n_tokens,
        probabilities=word_probs,
    )


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
    bootstrap: BootstrapSettings,
    length_bins: Sequence[int],
) -> dict:
    """Evaluate a loaded model (on ``device``, precision resolved) on one test split; write JSON and TSV.

    ``bootstrap``: the intervals' settings; ``length_bins``: the edges of the
    sentence-length bins of F1 by length (the split's).
    """
    import json

    from xner.features import encode
    from xner.io import read_sentences
    from xner.scoring import evaluation_scores

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
        **evaluation_scores(gold, prediction.tags, bootstrap, length_bins),
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
        "%s: micro F1 %.4f %s, macro F1 %.4f over %d words (%d sentences) in %.1f s",
        info.get("test_lang"),
        result["micro"]["f1"],
        _interval(result["micro"]),
        result["macro"]["f1"],
        result["words"],
        result["sentences"],
        prediction.seconds,
    )
    return result


def _interval(entry: dict) -> str:
    low, high = entry.get("f1_ci", (float("nan"), float("nan")))
    return f"[{low:.4f}, {high:.4f}]"
