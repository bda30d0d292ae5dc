"""xner.evaluate: strict IOB2 scores equal seqeval's, and the predictions TSV round-trips."""

from __future__ import annotations

import pytest
from seqeval.metrics import f1_score, precision_score, recall_score
from seqeval.scheme import IOB2

from xner.evaluate import read_tsv, score, write_tsv

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


def test_tsv_round_trip(tmp_path):
    tokens = [["NA", "None", '"'], ["3:15"]]
    gold = [["B-PER", "I-PER", "O"], ["O"]]
    pred = [["B-PER", "O", "O"], ["B-LOC"]]
    path = tmp_path / "en.tsv"
    write_tsv(path, tokens, gold, pred)
    assert path.read_text() == 'NA\tB-PER\tB-PER\nNone\tI-PER\tO\n"\tO\tO\n\n3:15\tO\tB-LOC\n'
    assert read_tsv(path) == (tokens, gold, pred)
