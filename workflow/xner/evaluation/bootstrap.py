"""How sure a score is, and whether two systems differ: resampling over sentences, vectorised.

All functions take per-sentence counts (:func:`xner.evaluation.spans.sentence_counts`,
shape (sentences, types, 3)) and never rescore tags, so that 1,000 resamples of
10,000 sentences take a fraction of a second:

- :func:`confidence_intervals`: percentile bootstrap intervals for micro F1,
  macro F1 and each type's F1 (sentences drawn with replacement; each
  resample's F1 recomputed from its summed counts);
- :func:`paired_difference`: for two systems on the same sentences, the
  difference in micro F1 with a paired bootstrap interval, and a p-value by
  approximate randomisation (each sentence's outputs swapped between the
  systems with probability 1/2; p = (r + 1) / (R + 1), r the shuffles whose
  absolute difference reaches the observed one);
- :func:`holm`: Holm's step-down correction of a family of p-values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from xner.evaluation.spans import FN, FP, TP, f1, scores_from_counts

METHOD = "percentile bootstrap over sentences"
TEST = "approximate randomisation over sentences (paired)"
CHUNK = 100  # resamples drawn at a time: (CHUNK, sentences) counts in memory


@dataclass(frozen=True)
class BootstrapSettings:
    """``evaluation.bootstrap_resamples``, ``evaluation.seed`` and ``evaluation.confidence``."""

    resamples: int = 1000
    seed: int = 0
    confidence: float = 0.95

    def __post_init__(self) -> None:
        if self.resamples < 1:
            raise ValueError(f"resamples must be at least 1, not {self.resamples}")
        if not 0 < self.confidence < 1:
            raise ValueError(f"confidence must be between 0 and 1, not {self.confidence}")


def _resample_weights(rng: np.random.Generator, sentences: int, resamples: int):
    """Chunks of (k, sentences) arrays: how often each sentence is drawn in each of k resamples."""
    done = 0
    while done < resamples:
        k = min(CHUNK, resamples - done)
        drawn = rng.integers(0, sentences, size=(k, sentences)) + sentences * np.arange(k)[:, None]
        yield np.bincount(drawn.ravel(), minlength=k * sentences).reshape(k, sentences).astype(np.float64)
        done += k


def _resampled_totals(counts: np.ndarray, settings: BootstrapSettings) -> np.ndarray:
    """Summed counts of every resample, shape (resamples, types, 3)."""
    n, types, _ = counts.shape
    flat = counts.reshape(n, types * 3).astype(np.float64)
    rng = np.random.default_rng(settings.seed)
    columns = _Columns(flat)
    chunks = [columns.weighted(w) for w in _resample_weights(rng, n, settings.resamples)]
    return np.concatenate(chunks).reshape(settings.resamples, types, 3)


def _interval(values: np.ndarray, confidence: float) -> list[float]:
    alpha = 1 - confidence
    low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2], axis=0)
    return [float(low), float(high)]


def confidence_intervals(counts: np.ndarray, settings: BootstrapSettings = BootstrapSettings()) -> dict:
    """Intervals for micro, macro and each type's F1: ``{"micro": [lo, hi], "macro": ..., "per_type": [...]}``.

    The macro average is over the types present in the full data (as the point
    estimate), in every resample.
    """
    if len(counts) == 0:
        raise ValueError("no sentences to resample")
    totals = counts.sum(axis=0)
    present = (totals.sum(axis=-1)) > 0
    scores = scores_from_counts(_resampled_totals(counts, settings), present)
    return {
        "micro": _interval(scores["micro"], settings.confidence),
        "macro": _interval(scores["macro"], settings.confidence),
        "per_type": [
            _interval(scores["per_type"][:, k], settings.confidence) for k in range(counts.shape[1])
        ],
    }


@dataclass(frozen=True)
class Difference:
    """Micro F1 of system a minus system b on the same sentences, its interval and p-value."""

    difference: float
    interval: tuple[float, float]
    p_value: float


def _micro(totals: np.ndarray) -> np.ndarray:
    return scores_from_counts(totals)["micro"]


def paired_difference(
    a: np.ndarray, b: np.ndarray, settings: BootstrapSettings = BootstrapSettings()
) -> Difference:
    """Micro F1 of ``a`` minus ``b`` (counts on the same sentences), paired interval and randomisation p."""
    if a.shape != b.shape:
        raise ValueError(f"the two systems' counts differ in shape: {a.shape} and {b.shape}")
    return paired_differences([a, b], [(0, 1)], settings)[0]


class _Columns:
    """Non-negative integer columns (sentences x columns), weighted by sentence many times over, exactly.

    ``weighted(w)`` is ``w @ columns`` for integer weights ``w`` (k x sentences),
    computed as ``(columns.T @ w.T).T``, which BLAS runs about ten times as fast
    for these shapes, and in float32 where every sum is an integer below 2**24
    and so exact, three times as fast again: the same numbers as float64.
    """

    def __init__(self, columns: np.ndarray) -> None:
        self.totals = columns.sum(axis=0)
        self.transposed = np.ascontiguousarray(columns.T)
        self.transposed32 = self.transposed.astype(np.float32)

    def weighted(self, w: np.ndarray) -> np.ndarray:
        exact32 = float(w.max(initial=0)) * float(self.totals.max(initial=0)) < 2**24
        if exact32:
            return (self.transposed32 @ w.astype(np.float32).T).T.astype(np.float64)
        return (self.transposed @ w.T).T


def paired_differences(
    systems: Sequence[np.ndarray],
    pairs: Sequence[tuple[int, int]],
    settings: BootstrapSettings = BootstrapSettings(),
) -> list[Difference]:
    """:func:`paired_difference` of each pair ``(i, j)`` of ``systems`` (counts on the same sentences, of
    shape (sentences, types, 3), or (sentences, 3) summed over the types: micro F1 is the same).

    The resamples are drawn once, for all systems: every pair gets the very
    resamples :func:`paired_difference` draws with the same seed (the same
    sentences drawn, the same swaps), so the result is the same as pair by
    pair, at the cost of one pass over the sentences instead of one per pair.
    """
    if not pairs:
        return []
    shapes = {s.shape for s in systems}
    if len(shapes) != 1:
        raise ValueError(f"the systems' counts differ in shape: {sorted(shapes)}")
    n = len(systems[0])
    if n == 0:
        raise ValueError("no sentences to compare")
    a = np.array([i for i, _ in pairs])
    b = np.array([j for _, j in pairs])
    # micro F1 needs the counts summed over the types only: (sentences, systems x (tp, fp, fn))
    flat = np.concatenate([s.reshape(n, -1, 3).sum(axis=1) for s in systems], axis=1).astype(np.float64)
    columns = _Columns(flat)

    def by_system(totals: np.ndarray) -> np.ndarray:
        """(k, systems * 3) -> (k, systems, 3)"""
        return totals.reshape(len(totals), len(systems), 3)

    def _micro(totals: np.ndarray) -> np.ndarray:
        return f1(totals[..., TP], totals[..., FP], totals[..., FN])

    totals = by_system(flat.sum(axis=0, keepdims=True))[0]
    micro = _micro(totals)
    observed = micro[a] - micro[b]
    rng = np.random.default_rng(settings.seed)

    # paired bootstrap: the same resampled sentences for both systems
    deltas = []
    for w in _resample_weights(rng, n, settings.resamples):
        resampled = _micro(by_system(columns.weighted(w)))  # (k, systems)
        deltas.append(resampled[:, a] - resampled[:, b])
    deltas = np.concatenate(deltas)  # (resamples, pairs)

    # approximate randomisation: swap the two systems' outputs on each sentence with probability 1/2;
    # where a sentence is swapped, a gains b's counts and loses its own (and b the opposite)
    reached = np.zeros(len(pairs), dtype=np.int64)
    done = 0
    while done < settings.resamples:
        k = min(CHUNK, settings.resamples - done)
        swaps = rng.integers(0, 2, size=(k, n))
        # (k, systems, 3): each system's counts on the swapped sentences
        swapped = by_system(columns.weighted(swaps))
        moved = swapped[:, b] - swapped[:, a]
        shuffled = _micro(totals[a] + moved) - _micro(totals[b] - moved)
        # a tolerance for floating-point noise, so that identical systems reach 0 every time
        reached += np.sum(np.abs(shuffled) >= np.abs(observed) - 1e-12, axis=0)
        done += k
    p_values = (reached + 1) / (settings.resamples + 1)
    return [
        Difference(
            float(observed[m]), tuple(_interval(deltas[:, m], settings.confidence)), float(p_values[m])
        )
        for m in range(len(pairs))
    ]


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values, in the order given: the i-th smallest times (m - i + 1), running maximum, at most 1."""
    p = np.asarray(p_values, dtype=np.float64)
    m = len(p)
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    adjusted_sorted = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    return adjusted.tolist()
