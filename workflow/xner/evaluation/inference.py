"""The model over encoded windows: a tag and its probability for every word (:func:`predict`).

Used by validation during training, by evaluation, by ``xner predict`` and by the
speed measurements: one batched forward pass (:func:`xner.device.forward_loss`),
longest windows first, each word predicted by its first sub-token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from xner.device import forward_loss
from xner.labels import LABELS
from xner.models.features import MICROBATCH_OVERHEAD_TOKENS, Encoded, collate, eval_plan, pad_multiple


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
    micro-batches where that saves padding (:func:`xner.models.features.microbatches`).
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
