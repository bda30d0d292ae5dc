"""The scores of word-level predictions: what an evaluation JSON says beside the run's identity.

- :func:`score`: seqeval's precision, recall, F1 and support (micro, macro,
  weighted, per entity type), in strict IOB2 mode (xner's scores) or in
  seqeval's default, lenient mode (conlleval's, which XTREME scores PAN-X with);
- :func:`evaluation_scores`: both, each F1 with its bootstrap interval
  (:mod:`xner.evaluation.bootstrap`, from the per-sentence counts of :mod:`xner.evaluation.spans`,
  which are checked against seqeval's totals every time), and the error
  analysis (:mod:`xner.evaluation.error_analysis`).

Nothing here needs torch: training's validation F1 and the tables use it too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from seqeval.metrics import classification_report
from seqeval.scheme import IOB2

from xner.evaluation.bootstrap import METHOD, BootstrapSettings, confidence_intervals
from xner.evaluation.error_analysis import error_analysis
from xner.evaluation.spans import FN, FP, TP, scores_from_counts, sentence_counts
from xner.labels import ENTITY_TYPES


def score(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], mode: str = "strict") -> dict:
    """Entity scores (seqeval): micro, macro, weighted, and per entity type.

    ``mode``: ``strict`` (strict mode, IOB2 scheme) or ``lenient`` (seqeval's
    default mode). Each has precision, recall, f1 and support (gold entities). A
    type absent from both gold and predictions scores 0 with support 0.
    """
    options = {"mode": "strict", "scheme": IOB2} if mode == "strict" else {}
    if mode not in ("strict", "lenient"):
        raise ValueError(f"unknown mode {mode!r}; known: strict, lenient")
    report = classification_report(
        [list(g) for g in gold], [list(p) for p in pred], output_dict=True, zero_division=0, **options
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


def check_counts(counts, scores: dict, mode: str) -> None:
    """Require the per-sentence counts to give seqeval's scores: support and F1 of every type and micro.

    The intervals and significance tests resample these counts, so a
    disagreement would make them describe some other metric.
    """
    totals = counts.sum(axis=0)
    mine = scores_from_counts(totals)
    entries = [(t, scores["per_type"][t], totals[k], mine["per_type"][k]) for k, t in enumerate(ENTITY_TYPES)]
    entries.append(("micro", scores["micro"], totals.sum(axis=0), mine["micro"]))
    if not math.isclose(mine["macro"], scores["macro"]["f1"], abs_tol=1e-9):
        raise AssertionError(
            f"{mode} macro: the sentence counts give F1 {float(mine['macro']):.6f}, "
            f"seqeval {scores['macro']['f1']:.6f}"
        )
    for name, entry, total, f1 in entries:
        if int(total[TP] + total[FN]) != entry["support"] or not math.isclose(f1, entry["f1"], abs_tol=1e-9):
            raise AssertionError(
                f"{mode} {name}: the sentence counts give support {int(total[TP] + total[FN])} and F1 "
                f"{float(f1):.6f} (true positives {int(total[TP])}, false positives {int(total[FP])}), "
                f"seqeval support {entry['support']} and F1 {entry['f1']:.6f}"
            )


def _with_intervals(gold, pred, mode: str, settings: BootstrapSettings) -> tuple[dict, np.ndarray]:
    """:func:`score` in ``mode``, with ``f1_ci`` in micro, macro and each type's entry; and the counts."""
    scores = score(gold, pred, mode)
    counts = sentence_counts(gold, pred, mode=mode)
    check_counts(counts, scores, mode)
    intervals = confidence_intervals(counts, settings)
    scores["micro"]["f1_ci"] = intervals["micro"]
    scores["macro"]["f1_ci"] = intervals["macro"]
    for k, type_ in enumerate(ENTITY_TYPES):
        scores["per_type"][type_]["f1_ci"] = intervals["per_type"][k]
    return scores, counts


def evaluation_scores(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    settings: BootstrapSettings,
    length_bins: Sequence[int],
) -> dict:
    """An evaluation JSON's scores: strict IOB2 at the top level, ``lenient``, ``bootstrap`` and ``errors``."""
    strict, counts = _with_intervals(gold, pred, "strict", settings)
    return {
        **strict,
        "lenient": _with_intervals(gold, pred, "lenient", settings)[0],
        "bootstrap": {
            "resamples": settings.resamples,
            "seed": settings.seed,
            "confidence": settings.confidence,
            "method": METHOD,
        },
        "errors": error_analysis(gold, pred, length_bins, counts),
    }
