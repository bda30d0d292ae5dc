"""What a system gets wrong, span by span (strict IOB2), and how F1 varies with sentence length.

Every gold and predicted entity of a sentence (:func:`xner.evaluation.spans.spans`) falls
in exactly one class:

- a gold entity with a predicted one of the same boundaries: counted in
  ``confusion[gold type][predicted type]`` (the diagonal is what is right);
- otherwise, a gold entity that overlaps a predicted one of its type:
  ``boundary_errors`` (right type, wrong boundaries);
- otherwise, a gold entity that overlaps any predicted one:
  ``boundary_and_type_errors``;
- a gold entity that overlaps no predicted one: ``missed``;
- a predicted entity with neither the boundaries of a gold one nor any overlap
  with one: ``spurious``.

``by_length`` gives micro F1 per sentence-length bin (the split's
``length_bins``), with its sentences and gold entities.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from xner.data.splits import bin_names, length_bins
from xner.evaluation.spans import FN, FP, TP, scores_from_counts, sentence_counts, spans
from xner.labels import ENTITY_TYPES


def _overlaps(a: tuple[str, int, int], b: tuple[str, int, int]) -> bool:
    return a[1] <= b[2] and b[1] <= a[2]


def span_errors(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict:
    """The classes above, summed over sentences, per (gold or predicted) entity type."""
    confusion = {g: {p: 0 for p in ENTITY_TYPES} for g in ENTITY_TYPES}
    boundary = dict.fromkeys(ENTITY_TYPES, 0)
    boundary_and_type = dict.fromkeys(ENTITY_TYPES, 0)
    missed = dict.fromkeys(ENTITY_TYPES, 0)
    spurious = dict.fromkeys(ENTITY_TYPES, 0)
    for g_tags, p_tags in zip(gold, pred):
        gold_spans, pred_spans = spans(g_tags), spans(p_tags)
        pred_by_bounds = {(s[1], s[2]): s[0] for s in pred_spans}
        gold_bounds = {(s[1], s[2]) for s in gold_spans}
        for g in gold_spans:
            same = pred_by_bounds.get((g[1], g[2]))
            if same is not None:
                confusion[g[0]][same] += 1
                continue
            overlapping = [p for p in pred_spans if _overlaps(g, p)]
            if any(p[0] == g[0] for p in overlapping):
                boundary[g[0]] += 1
            elif overlapping:
                boundary_and_type[g[0]] += 1
            else:
                missed[g[0]] += 1
        for p in pred_spans:
            if (p[1], p[2]) not in gold_bounds and not any(_overlaps(p, g) for g in gold_spans):
                spurious[p[0]] += 1
    return {
        "confusion": confusion,
        "boundary_errors": boundary,
        "boundary_and_type_errors": boundary_and_type,
        "missed": missed,
        "spurious": spurious,
    }


def f1_by_length(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    edges: Sequence[int],
    counts: np.ndarray | None = None,
) -> list[dict]:
    """Micro F1 (strict) per sentence-length bin: ``bin``, ``sentences``, ``support`` (gold entities),
    ``predicted`` (predicted entities) and ``f1`` (None where the bin has neither)."""
    counts = (
        sentence_counts(gold, pred) if counts is None else counts
    )  # strict, as evaluation_scores has them
    bins = length_bins([len(g) for g in gold], edges)
    rows = []
    for b, name in enumerate(bin_names(edges)):
        members = bins == b
        totals = counts[members].sum(axis=0) if members.any() else np.zeros(counts.shape[1:])
        rows.append(
            {
                "bin": name,
                "sentences": int(members.sum()),
                "support": int(totals[:, TP].sum() + totals[:, FN].sum()),
                "predicted": int(totals[:, TP].sum() + totals[:, FP].sum()),
                # no entity in the bin, gold or predicted: nothing to score
                "f1": float(scores_from_counts(totals)["micro"]) if totals.any() else None,
            }
        )
    return rows


def error_analysis(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    edges: Sequence[int],
    counts: np.ndarray | None = None,
) -> dict:
    """Span errors and F1 by sentence length, for an evaluation JSON's ``errors`` entry.

    ``counts``: the strict per-sentence counts, where the caller has them already.
    """
    return {**span_errors(gold, pred), "by_length": f1_by_length(gold, pred, edges, counts)}
