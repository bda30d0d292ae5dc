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

from xner.evaluation.spans import scores_from_counts

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
    chunks = [w @ flat for w in _resample_weights(rng, n, settings.resamples)]
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
    n = len(a)
    if n == 0:
        raise ValueError("no sentences to compare")
    observed = float(_micro(a.sum(axis=0)) - _micro(b.sum(axis=0)))
    rng = np.random.default_rng(settings.seed)
    flat_a = a.reshape(n, -1).astype(np.float64)
    flat_b = b.reshape(n, -1).astype(np.float64)
    shape = (-1, *a.shape[1:])

    # paired bootstrap: the same resampled sentences for both systems
    deltas = []
    for w in _resample_weights(rng, n, settings.resamples):
        deltas.append(_micro((w @ flat_a).reshape(shape)) - _micro((w @ flat_b).reshape(shape)))
    low, high = _interval(np.concatenate(deltas), settings.confidence)

    # approximate randomisation: swap the two systems' outputs on each sentence with probability 1/2
    swap_gain = flat_b - flat_a  # what a gains and b loses where a sentence is swapped
    total_a, total_b = flat_a.sum(axis=0), flat_b.sum(axis=0)
    reached = 0
    done = 0
    while done < settings.resamples:
        k = min(CHUNK, settings.resamples - done)
        swaps = rng.integers(0, 2, size=(k, n)).astype(np.float64)
        moved = swaps @ swap_gain
        shuffled = _micro((total_a + moved).reshape(shape)) - _micro((total_b - moved).reshape(shape))
        # a tolerance for floating-point noise, so that identical systems reach 0 every time
        reached += int(np.sum(np.abs(shuffled) >= abs(observed) - 1e-12))
        done += k
    p_value = (reached + 1) / (settings.resamples + 1)
    return Difference(observed, (low, high), p_value)


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
