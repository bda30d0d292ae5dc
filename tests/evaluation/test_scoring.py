"""xner.evaluation.scoring: an evaluation's scores in both modes, with intervals that the sentence counts reproduce."""

from __future__ import annotations

import random

import pytest
from seqeval.metrics import f1_score, precision_score, recall_score
from seqeval.scheme import IOB2

from xner.evaluation.bootstrap import BootstrapSettings
from xner.evaluation.scoring import check_counts, evaluation_scores, score
from xner.evaluation.spans import TP, sentence_counts
from xner.labels import ENTITY_TYPES, LABELS

SETTINGS = BootstrapSettings(resamples=200, seed=3)
BINS = [0, 5, 10, 100]


def noisy(gold: list[list[str]], rng: random.Random, rate: float) -> list[list[str]]:
    """Gold tags with a share ``rate`` of them replaced by random labels (invalid I- included)."""
    return [[rng.choice(LABELS) if rng.random() < rate else t for t in g] for g in gold]


@pytest.fixture(scope="module")
def data():
    rng = random.Random(0)
    gold = []
    for _ in range(400):
        tags = []
        while len(tags) < rng.randint(1, 14):
            t = rng.choice(ENTITY_TYPES)
            tags += rng.choice([["O"], ["O", "O"], [f"B-{t}"], [f"B-{t}", f"I-{t}"]])
        gold.append(tags)
    return gold, noisy(gold, rng, 0.15)


def test_every_f1_has_an_interval_around_it_in_both_modes(data):
    gold, pred = data
    result = evaluation_scores(gold, pred, SETTINGS, BINS)
    for scores in (result, result["lenient"]):
        entries = [scores["micro"], scores["macro"], *scores["per_type"].values()]
        for entry in entries:
            low, high = entry["f1_ci"]
            assert low <= entry["f1"] <= high and high - low < 0.2
    assert result["bootstrap"] == {
        "resamples": 200,
        "seed": 3,
        "confidence": 0.95,
        "method": "percentile bootstrap over sentences",
    }
    assert {"confusion", "missed", "spurious", "by_length"} <= set(result["errors"])


def test_the_lenient_scores_are_seqevals_default_mode(data):
    gold, pred = data
    result = evaluation_scores(gold, pred, SETTINGS, BINS)
    assert result["lenient"]["micro"]["f1"] == pytest.approx(f1_score(gold, pred))
    assert result["micro"]["f1"] == score(gold, pred)["micro"]["f1"]
    assert result["lenient"]["micro"]["f1"] != result["micro"]["f1"]  # the noise has I- after O


def test_lenient_mode_starts_an_entity_at_a_stray_i_tag():
    gold, pred = [["B-PER", "I-PER", "O"]], [["I-PER", "I-PER", "O"]]
    assert score(gold, pred)["micro"]["f1"] == 0.0
    assert score(gold, pred, "lenient")["micro"]["f1"] == 1.0
    with pytest.raises(ValueError, match="unknown mode"):
        score(gold, pred, "conlleval")


def test_counts_that_disagree_with_seqeval_are_refused(data):
    gold, pred = data
    counts = sentence_counts(gold, pred)
    check_counts(counts, score(gold, pred), "strict")  # they agree
    wrong = counts.copy()
    wrong[0, 0, TP] += 1
    with pytest.raises(AssertionError, match="strict (macro|LOC): the sentence counts give"):
        check_counts(wrong, score(gold, pred), "strict")


def test_intervals_are_reproducible_and_follow_the_confidence(data):
    gold, pred = data
    a = evaluation_scores(gold, pred, SETTINGS, BINS)["micro"]["f1_ci"]
    assert evaluation_scores(gold, pred, SETTINGS, BINS)["micro"]["f1_ci"] == a
    narrow = BootstrapSettings(resamples=200, seed=3, confidence=0.5)
    b = evaluation_scores(gold, pred, narrow, BINS)["micro"]["f1_ci"]
    assert a[0] < b[0] < b[1] < a[1]


GOLD = [
    ["B-PER", "I-PER", "O", "B-LOC"],
    ["B-ORG", "I-ORG", "I-ORG", "O", "B-PER"],
    ["O", "O"],
    ["B-LOC", "I-LOC", "B-LOC"],
]
PRED = [
    ["B-PER", "I-PER", "O", "B-ORG"],  # PER right, LOC typed wrong
    ["B-ORG", "I-ORG", "O", "O", "I-PER"],  # ORG boundary wrong, I-PER without B: no entity in strict mode
    ["O", "B-LOC"],  # a spurious LOC
    ["B-LOC", "I-LOC", "B-LOC"],
]


def test_micro_scores_equal_seqeval_strict():
    got = score(GOLD, PRED)["micro"]
    kwargs = {"mode": "strict", "scheme": IOB2}
    assert got["precision"] == pytest.approx(precision_score(GOLD, PRED, **kwargs))
    assert got["recall"] == pytest.approx(recall_score(GOLD, PRED, **kwargs))
    assert got["f1"] == pytest.approx(f1_score(GOLD, PRED, **kwargs))
    assert got["support"] == 6


def test_per_type_macro_and_weighted_by_hand():
    result = score(GOLD, PRED)
    # gold: PER 2, LOC 3, ORG 1; correct: PER 1, LOC 2, ORG 0; predicted: PER 1, LOC 3, ORG 2
    per = result["per_type"]
    assert per["PER"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert per["LOC"]["precision"] == pytest.approx(2 / 3) and per["LOC"]["recall"] == pytest.approx(2 / 3)
    assert per["ORG"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    f1s = [per[t]["f1"] for t in ("LOC", "ORG", "PER")]
    assert result["macro"]["f1"] == pytest.approx(sum(f1s) / 3)
    assert result["weighted"]["f1"] == pytest.approx((3 * f1s[0] + 1 * f1s[1] + 2 * f1s[2]) / 6)


def test_strict_mode_is_not_lenient_about_loose_i_tags():
    # Lenient (conlleval) scoring would count the I-PER chunk as a correct PER.
    assert score([["B-PER", "I-PER"]], [["I-PER", "I-PER"]])["micro"]["f1"] == 0.0


def test_absent_type_scores_zero_with_zero_support():
    result = score([["B-PER", "O"]], [["B-PER", "O"]])
    assert result["per_type"]["LOC"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert result["micro"]["f1"] == 1.0
