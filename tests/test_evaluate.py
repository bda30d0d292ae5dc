"""xner.evaluate: strict IOB2 scores equal seqeval's, and the predictions TSV round-trips."""

from __future__ import annotations

import pytest
from seqeval.metrics import f1_score, precision_score, recall_score
from seqeval.scheme import IOB2

from xner.evaluate import read_predictions_tsv, score, write_predictions_tsv

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
    write_predictions_tsv(path, tokens, gold, pred)
    assert path.read_text() == 'NA\tB-PER\tB-PER\nNone\tI-PER\tO\n"\tO\tO\n\n3:15\tO\tB-LOC\n'
    assert read_predictions_tsv(path) == (tokens, gold, pred)


def test_windows_and_words_without_sub_tokens_are_all_scored():
    """A long sentence split into windows and a word with no sub-token: every gold word is predicted
    (the latter as O), and the scores equal seqeval on the full word sequences."""
    import torch
    from seqeval.metrics import f1_score
    from transformers import BertConfig, BertForTokenClassification

    from xner.evaluate import predict
    from xner.features import encode
    from xner.random_models import train_tokenizer

    words = ["Anna", "Kowalski", "visited", "Berlin", "and", "Paris", "in", "May", "."] * 6
    tags = ["B-PER", "I-PER", "O", "B-LOC", "O", "B-LOC", "O", "O", "O"] * 6
    sentences = [words, ["Anna", "\u200b", "Kowalski"], ["Berlin"]]
    gold = [tags, ["B-PER", "I-PER", "I-PER"], ["B-LOC"]]
    tokenizer = train_tokenizer([words] * 20, "bert", vocab_size=300)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=64, num_labels=7,
    )  # fmt: skip
    model = BertForTokenClassification(config)
    encoded = encode(tokenizer, sentences, gold, max_length=12)
    assert encoded.windowed_sentences == 1 and encoded.words_without_subtokens == 1
    result = predict(model, encoded, batch_size=4, pad_id=tokenizer.pad_token_id, device=torch.device("cpu"))
    assert [len(p) for p in result.tags] == [len(s) for s in sentences]
    assert result.tags[1][1] == "O"
    assert score(gold, result.tags)["micro"]["f1"] == pytest.approx(
        f1_score(gold, result.tags, mode="strict", scheme=IOB2)
    )
    # Each window is predicted on its own: the same as predicting its words as separate sentences.
    windows = [[w for w in first[first >= 0]] for first, s in zip(encoded.first, encoded.sentence) if s == 0]
    pieces = [[words[i] for i in window] for window in windows]
    alone = predict(
        model, encode(tokenizer, pieces, None, max_length=12), batch_size=4, pad_id=tokenizer.pad_token_id,
        device=torch.device("cpu"),
    )  # fmt: skip
    assert [t for part in alone.tags for t in part] == result.tags[0]


def test_micro_batches_change_no_prediction():
    """Cutting evaluation batches into micro-batches gives the same tags and loss as whole batches."""
    import torch

    from xner.architectures import ARCHITECTURES
    from xner.demo import generate_sentences
    from xner.evaluate import predict
    from xner.features import encode
    from xner.labels import LABELS
    from xner.random_models import build_model, train_tokenizer

    pairs = generate_sentences("en", "test", 120, seed=4)
    tokens, tags = [[w for w, _ in s] for s in pairs], [[t for _, t in s] for s in pairs]
    tokens[7], tags[7] = tokens[7] * 8, tags[7] * 8  # one long sentence among short ones
    tokenizer = train_tokenizer(tokens, "bert", 400)
    model = build_model(ARCHITECTURES["small-bert"], tokenizer, len(LABELS), seed=1)
    encoded = encode(tokenizer, tokens, tags, max_length=256)
    cpu = torch.device("cpu")
    common = {"batch_size": 32, "pad_id": tokenizer.pad_token_id, "device": cpu, "precision": "fp32"}
    split = predict(model, encoded, overhead_tokens=0, **common)
    whole = predict(model, encoded, overhead_tokens=10**9, **common)
    assert split.tags == whole.tags
    assert split.loss == pytest.approx(whole.loss, rel=1e-5)
    assert len(set(map(tuple, split.tags))) > 1  # a random model still predicts more than one tag pattern
