"""xner.evaluation.bootstrap on hand-made systems whose answer is known: intervals, paired differences, Holm."""

from __future__ import annotations

import numpy as np
import pytest

from xner.evaluation.bootstrap import (
    BootstrapSettings,
    confidence_intervals,
    holm,
    paired_difference,
    paired_differences,
)
from xner.evaluation.spans import scores_from_counts
from xner.labels import ENTITY_TYPES

SETTINGS = BootstrapSettings(resamples=500, seed=1)


def counts_of(rng: np.random.Generator, sentences: int, hit_rate: float) -> np.ndarray:
    """Each sentence has one gold entity of a random type, found with probability ``hit_rate``."""
    counts = np.zeros((sentences, len(ENTITY_TYPES), 3), dtype=np.int64)
    types = rng.integers(0, len(ENTITY_TYPES), size=sentences)
    hits = rng.random(sentences) < hit_rate
    counts[np.arange(sentences), types, 0] = hits
    counts[np.arange(sentences), types, 1] = ~hits  # a wrong span instead
    counts[np.arange(sentences), types, 2] = ~hits
    return counts


def test_intervals_contain_the_point_estimate_and_narrow_with_more_sentences():
    rng = np.random.default_rng(0)
    small, large = counts_of(rng, 200, 0.7), counts_of(rng, 5000, 0.7)
    for counts in (small, large):
        point = scores_from_counts(counts.sum(axis=0))
        ci = confidence_intervals(counts, SETTINGS)
        assert ci["micro"][0] <= point["micro"] <= ci["micro"][1]
        assert ci["macro"][0] <= point["macro"] <= ci["macro"][1]
        for k in range(len(ENTITY_TYPES)):
            assert ci["per_type"][k][0] <= point["per_type"][k] <= ci["per_type"][k][1]
    width = lambda c: c["micro"][1] - c["micro"][0]  # noqa: E731
    assert width(confidence_intervals(large, SETTINGS)) < width(confidence_intervals(small, SETTINGS)) / 3


def test_intervals_are_reproducible_for_a_seed():
    counts = counts_of(np.random.default_rng(0), 300, 0.6)
    assert confidence_intervals(counts, SETTINGS) == confidence_intervals(counts, SETTINGS)
    other = confidence_intervals(counts, BootstrapSettings(resamples=500, seed=2))
    assert other != confidence_intervals(counts, SETTINGS)


def test_a_perfect_system_has_a_degenerate_interval():
    counts = counts_of(np.random.default_rng(0), 100, 1.0)
    assert confidence_intervals(counts, SETTINGS)["micro"] == [1.0, 1.0]


def test_identical_systems_differ_by_nothing_with_p_one():
    counts = counts_of(np.random.default_rng(0), 400, 0.7)
    result = paired_difference(counts, counts.copy(), SETTINGS)
    assert result.difference == 0.0 and result.interval == (0.0, 0.0)
    assert result.p_value == 1.0


def test_a_system_better_on_every_sentence_is_significantly_better():
    rng = np.random.default_rng(0)
    worse = counts_of(rng, 400, 0.0)  # misses every entity
    better = worse.copy()
    better[..., 0], better[..., 1], better[..., 2] = worse[..., 2], 0, 0  # finds every one
    result = paired_difference(better, worse, SETTINGS)
    assert result.difference == pytest.approx(1.0)
    assert result.interval[0] > 0.9
    assert result.p_value == pytest.approx(1 / (SETTINGS.resamples + 1))
    assert paired_difference(worse, better, SETTINGS).difference == pytest.approx(-1.0)


def test_a_small_difference_on_few_sentences_is_not_significant():
    rng = np.random.default_rng(3)
    a = counts_of(rng, 60, 0.7)
    b = a.copy()
    a[0], b[0] = counts_of(rng, 1, 1.0)[0], counts_of(rng, 1, 0.0)[0]  # one sentence differs
    result = paired_difference(a, b, SETTINGS)
    assert result.difference > 0
    assert result.p_value > 0.3 and result.interval[0] <= 0 <= result.interval[1]


def test_holm_on_a_known_list():
    # m = 4: sorted 0.01, 0.02, 0.03, 0.5 -> 0.04, 0.06, 0.06 (running max), 0.5 -> back in the given order
    assert holm([0.03, 0.01, 0.5, 0.02]) == pytest.approx([0.06, 0.04, 0.5, 0.06])
    assert holm([0.6, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert holm([]) == []


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="resamples must be at least 1"):
        BootstrapSettings(resamples=0)
    with pytest.raises(ValueError, match="confidence must be between 0 and 1"):
        BootstrapSettings(confidence=1.0)


def test_many_pairs_at_once_equal_each_pair_on_its_own():
    rng = np.random.default_rng(3)
    systems = [counts_of(rng, 400, rate) for rate in (0.5, 0.6, 0.7, 0.6)]
    pairs = [(0, 1), (2, 1), (3, 0), (1, 1)]
    together = paired_differences(systems, pairs, SETTINGS)
    for (i, j), d in zip(pairs, together):
        assert d == paired_difference(systems[i], systems[j], SETTINGS)
    assert together[3].difference == 0 and together[3].p_value == 1.0  # a system against itself
    assert paired_differences(systems, [], SETTINGS) == []
    # counts summed over the types give the same micro F1, hence the same tests
    assert paired_differences([s.sum(axis=1) for s in systems], pairs, SETTINGS) == together
    with pytest.raises(ValueError, match="differ in shape"):
        paired_differences([systems[0], systems[1][:10]], [(0, 1)], SETTINGS)
