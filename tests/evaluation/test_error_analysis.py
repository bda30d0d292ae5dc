"""xner.evaluation.error_analysis on hand-made sentences: each gold entity in exactly one class, F1 by length."""

from __future__ import annotations

import random

import pytest

from xner.evaluation.error_analysis import error_analysis, f1_by_length, span_errors
from xner.evaluation.spans import TP, sentence_counts, spans
from xner.labels import ENTITY_TYPES, LABELS


def test_each_kind_of_error_is_counted_where_it_belongs():
    gold = [
        ["B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG", "O", "B-LOC", "I-LOC", "O"],
        ["O", "O", "O"],
    ]
    pred = [
        ["B-PER", "I-PER", "O", "B-ORG", "O", "B-ORG", "I-ORG", "O", "B-PER", "O"],
        ["O", "B-LOC", "O"],
    ]
    errors = span_errors(gold, pred)
    assert errors["confusion"]["PER"]["PER"] == 1  # right
    assert errors["confusion"]["LOC"]["ORG"] == 1  # same boundaries, wrong type
    assert errors["boundary_errors"]["ORG"] == 1  # ORG 5-5 predicted as ORG 5-6
    assert errors["boundary_and_type_errors"]["LOC"] == 1  # LOC 7-8 overlapped by PER 8-8
    assert errors["spurious"]["LOC"] == 1  # the LOC in the second sentence
    assert sum(errors["missed"].values()) == 0


def test_a_gold_entity_with_no_prediction_near_it_is_missed():
    errors = span_errors([["B-ORG", "I-ORG", "O"]], [["O", "O", "O"]])
    assert errors["missed"]["ORG"] == 1 and sum(errors["spurious"].values()) == 0


@pytest.mark.parametrize("seed", range(3))
def test_classes_partition_the_gold_entities_and_the_diagonal_is_the_true_positives(seed):
    rng = random.Random(seed)
    gold = [[rng.choice(LABELS) for _ in range(rng.randint(1, 9))] for _ in range(200)]
    pred = [[rng.choice(LABELS) for _ in g] for g in gold]
    errors = span_errors(gold, pred)
    for type_ in ENTITY_TYPES:
        classified = (
            sum(errors["confusion"][type_].values())
            + errors["boundary_errors"][type_]
            + errors["boundary_and_type_errors"][type_]
            + errors["missed"][type_]
        )
        assert classified == sum(1 for g in gold for s in spans(g) if s[0] == type_)
    tp = sentence_counts(gold, pred)[..., TP].sum(axis=0)
    assert [errors["confusion"][t][t] for t in ENTITY_TYPES] == tp.tolist()


def test_f1_by_length_bins_sentences_by_their_words():
    gold = [["B-PER"], ["B-PER", "O", "O", "O", "O", "O", "O"], ["O"] * 20]
    pred = [["B-PER"], ["O"] * 7, ["O"] * 20]
    rows = f1_by_length(gold, pred, [0, 5, 10, 100])
    assert [r["bin"] for r in rows] == ["1-5", "6-10", ">10"]
    assert [r["sentences"] for r in rows] == [1, 1, 1]
    assert [r["support"] for r in rows] == [1, 1, 0]
    assert [r["f1"] for r in rows] == [1.0, 0.0, None]  # the last bin has no entity to score


def test_error_analysis_has_every_part():
    result = error_analysis([["B-LOC"]], [["B-LOC"]], [0, 5, 100])
    assert set(result) == {
        "confusion",
        "boundary_errors",
        "boundary_and_type_errors",
        "missed",
        "spurious",
        "by_length",
    }
