"""Entity spans under strict IOB2, and per-sentence counts of true positives, false positives and misses.

This is xner's own reading of the tags, independent of seqeval (which it must
agree with, see tests/test_spans.py). Under the strict IOB2 scheme an entity of
type X is a ``B-X`` followed by any number of ``I-X``; an ``I-X`` that does not
continue an entity of type X (after ``O``, at the start, or after another type)
belongs to no entity. A predicted span counts as a true positive only when a
gold span has the same type, first and last word.

:func:`sentence_counts` gives, per sentence and entity type, the numbers from
which every strict score is a sum: the bootstrap (:mod:`xner.evaluation.bootstrap`)
resamples these rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from xner.labels import ENTITY_TYPES

# The last axis of :func:`sentence_counts`.
TP, FP, FN = 0, 1, 2
MODES = ("strict", "lenient")


def spans(tags: Sequence[str], mode: str = "strict") -> set[tuple[str, int, int]]:
    """The entities of one sentence's IOB2 tags: ``(type, first word, last word)``.

    ``strict``: an entity is ``B-X`` followed by ``I-X``s; an ``I-X`` that
    continues no entity of type X belongs to none. ``lenient`` (conlleval's and
    seqeval's default mode, which XTREME scores PAN-X with): such an ``I-X``
    begins an entity of type X.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; known: {', '.join(MODES)}")
    found = set()
    current: tuple[str, int] | None = None  # (type, first word) of the entity being read
    for i, tag in enumerate(tags):
        prefix, _, type_ = tag.partition("-")
        continues = current is not None and prefix == "I" and type_ == current[0]
        if current is not None and not continues:
            found.add((current[0], current[1], i - 1))
            current = None
        if prefix == "B" or (prefix == "I" and not continues and mode == "lenient"):
            current = (type_, i)
    if current is not None:
        found.add((current[0], current[1], len(tags) - 1))
    return found


def sentence_counts(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    types: Sequence[str] = ENTITY_TYPES,
    mode: str = "strict",
) -> np.ndarray:
    """Counts per sentence and type, shape (sentences, types, 3): true positives, false positives, misses.

    Spans are read in ``mode`` (:func:`spans`).
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sentences but {len(pred)} predicted ones")
    index = {t: k for k, t in enumerate(types)}
    counts = np.zeros((len(gold), len(types), 3), dtype=np.int64)
    for i, (g, p) in enumerate(zip(gold, pred)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: {len(g)} gold tags but {len(p)} predicted ones")
        gold_spans, pred_spans = spans(g, mode), spans(p, mode)
        for span in gold_spans | pred_spans:
            k = index.get(span[0])
            if k is None:
                raise ValueError(f"sentence {i}: entity type {span[0]!r} is not one of {', '.join(types)}")
            if span in gold_spans and span in pred_spans:
                counts[i, k, TP] += 1
            elif span in pred_spans:
                counts[i, k, FP] += 1
            else:
                counts[i, k, FN] += 1
    return counts


def gold_digest(gold: Sequence[Sequence[str]]) -> str:
    """SHA-256 of the gold tags, sentence by sentence: equal exactly when two evaluations scored the same tags."""
    h = hashlib.sha256()
    for tags in gold:
        h.update(" ".join(tags).encode())
        h.update(b"\n")
    return h.hexdigest()


def f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    """F1 from counts, elementwise; 0 where there is nothing (no gold and no predicted entity)."""
    tp, fp, fn = (np.asarray(x, dtype=np.float64) for x in (tp, fp, fn))
    denominator = 2 * tp + fp + fn
    return np.divide(2 * tp, denominator, out=np.zeros_like(denominator), where=denominator > 0)


def scores_from_counts(totals: np.ndarray, present: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Micro F1, macro F1 and each type's F1 from summed counts of shape (..., types, 3).

    Macro F1 averages the types in ``present`` (a boolean mask over types; by
    default those with a gold or predicted entity in ``totals``), as seqeval does.
    """
    per_type = f1(totals[..., TP], totals[..., FP], totals[..., FN])
    micro_counts = totals.sum(axis=-2)
    micro = f1(micro_counts[..., TP], micro_counts[..., FP], micro_counts[..., FN])
    if present is None:
        present = (totals[..., TP] + totals[..., FP] + totals[..., FN]) > 0
    present = np.broadcast_to(present, per_type.shape)
    n_present = present.sum(axis=-1)
    macro = np.divide(
        (per_type * present).sum(axis=-1),
        n_present,
        out=np.zeros(per_type.shape[:-1]),
        where=n_present > 0,
    )
    return {"micro": micro, "macro": macro, "per_type": per_type}
