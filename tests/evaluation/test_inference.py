"""xner.evaluation.inference: prediction covers every word of windowed sentences, micro-batches change nothing."""

from __future__ import annotations

import pytest
from seqeval.scheme import IOB2

from xner.evaluation.scoring import score


def test_windows_and_words_without_sub_tokens_are_all_scored():
    """A long sentence split into windows and a word with no sub-token: every gold word is predicted
    (the latter as O), and the scores equal seqeval on the full word sequences."""
    import torch
    from seqeval.metrics import f1_score
    from transformers import BertConfig, BertForTokenClassification

    from xner.evaluation.inference import predict
    from xner.models.features import encode
    from xner.synthetic.models import train_tokenizer

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

    from xner.evaluation.inference import predict
    from xner.labels import LABELS
    from xner.models.architectures import ARCHITECTURES
    from xner.models.features import encode
    from xner.synthetic.models import build_model, train_tokenizer
    from xner.synthetic.panx import generate_sentences

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
