"""xner.evaluation.spans: strict IOB2 spans and per-sentence counts, checked on hand-made cases and against seqeval."""

from __future__ import annotations

import random

import numpy as np
import pytest
from seqeval.metrics import classification_report, f1_score
from seqeval.scheme import IOB2

from xner.evaluation.spans import FN, FP, TP, scores_from_counts, sentence_counts, spans
from xner.labels import ENTITY_TYPES, LABELS


@pytest.mark.parametrize(
    "tags, expected",
    [
        ([], set()),
        (["O", "O"], set()),
        (["B-PER", "I-PER", "O"], {("PER", 0, 1)}),
        (["B-PER", "B-PER"], {("PER", 0, 0), ("PER", 1, 1)}),
        (["I-PER", "I-PER"], set()),  # an entity must begin with B- under strict IOB2
        (["O", "I-LOC", "B-LOC"], {("LOC", 2, 2)}),
        (["B-PER", "I-ORG", "I-ORG"], {("PER", 0, 0)}),  # I- of another type ends it and starts nothing
        (["B-ORG", "I-ORG", "I-ORG"], {("ORG", 0, 2)}),  # to the end of the sentence
    ],
)
def test_spans_under_strict_iob2(tags, expected):
    assert spans(tags) == expected


@pytest.mark.parametrize(
    "tags, expected",
    [
        (["I-PER", "I-PER"], {("PER", 0, 1)}),  # I- after nothing begins an entity
        (["O", "I-LOC", "B-LOC"], {("LOC", 1, 1), ("LOC", 2, 2)}),
        (["B-PER", "I-ORG", "I-ORG"], {("PER", 0, 0), ("ORG", 1, 2)}),
        (["B-ORG", "I-ORG"], {("ORG", 0, 1)}),
    ],
)
def test_spans_in_lenient_mode(tags, expected):
    assert spans(tags, "lenient") == expected


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="unknown mode 'loose'"):
        spans(["O"], "loose")


def test_counts_of_a_sentence():
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["B-PER", "O", "O", "B-LOC"]]  # PER with the wrong end, LOC right
    counts = sentence_counts(gold, pred)
    per, loc = ENTITY_TYPES.index("PER"), ENTITY_TYPES.index("LOC")
    assert counts[0, loc].tolist() == [1, 0, 0]
    assert counts[0, per].tolist() == [0, 1, 1]


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="1 gold sentences but 2 predicted"):
        sentence_counts([["O"]], [["O"], ["O"]])
    with pytest.raises(ValueError, match="sentence 0: 2 gold tags but 1 predicted"):
        sentence_counts([["O", "O"]], [["O"]])


def random_tags(rng: random.Random, n: int) -> list[list[str]]:
    return [[rng.choice(LABELS) for _ in range(rng.randint(0, 8))] for _ in range(n)]


@pytest.mark.parametrize("seed", range(5))
def test_summed_counts_equal_seqeval_on_random_tags(seed):
    """Random tag sequences (invalid I- included): the sums give seqeval's strict scores, type by type."""
    rng = random.Random(seed)
    gold, pred = random_tags(rng, 300), random_tags(rng, 300)
    for g, p in zip(gold, pred):
        del p[len(g) :]
        p.extend(["O"] * (len(g) - len(p)))
    totals = sentence_counts(gold, pred).sum(axis=0)
    report = classification_report(gold, pred, mode="strict", scheme=IOB2, output_dict=True, zero_division=0)
    for k, type_ in enumerate(ENTITY_TYPES):
        assert totals[k, TP] + totals[k, FN] == report[type_]["support"]
    scores = scores_from_counts(totals)
    assert scores["micro"] == pytest.approx(report["micro avg"]["f1-score"])
    lenient = scores_from_counts(sentence_counts(gold, pred, mode="lenient").sum(axis=0))
    assert lenient["micro"] == pytest.approx(f1_score(gold, pred))  # seqeval's default (conlleval) mode
    default = classification_report(gold, pred, output_dict=True, zero_division=0)
    assert lenient["macro"] == pytest.approx(default["macro avg"]["f1-score"])
    assert scores["macro"] == pytest.approx(report["macro avg"]["f1-score"])
    for k, type_ in enumerate(ENTITY_TYPES):
        assert scores["per_type"][k] == pytest.approx(report[type_]["f1-score"])


def test_scores_work_on_stacked_totals():
    totals = np.zeros((2, len(ENTITY_TYPES), 3))
    totals[0, 0] = [1, 1, 0]  # F1 2/3
    totals[1, 0] = [1, 0, 0]  # F1 1
    scores = scores_from_counts(totals, present=np.array([True, False, False]))
    assert scores["micro"].tolist() == pytest.approx([2 / 3, 1.0])
    assert scores["macro"].tolist() == pytest.approx([2 / 3, 1.0])
    assert totals[..., FP].sum() == 1
