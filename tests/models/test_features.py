"""xner.models.features: first-sub-token labels, windows for long sentences, length-bucketed batches."""

from __future__ import annotations

import numpy as np
import pytest

from xner.labels import LABEL_TO_ID
from xner.models.features import (
    BATCHING,
    IGNORE,
    collate,
    encode,
    length_bucketed_batches,
    microbatches,
    sorted_batches,
    training_batches,
)
from xner.synthetic.models import train_tokenizer

CORPUS = [
    ["Johannesburg", "is", "in", "South", "Africa", "."],
    ["Anna", "Kowalski", "visited", "Kraków", "and", "Zürich", "in", "1999", "."],
    ["The", "Metropolitan", "Opera", "House", "opened", "."],
    ["NA", "None", "3:15", "#", '"', "Sioux", "City"],
] * 30


@pytest.fixture(scope="module", params=["bert", "roberta"])
def tokenizer(request):
    # Small vocabularies, so that some words split into several sub-tokens.
    return train_tokenizer(CORPUS, request.param, vocab_size={"bert": 120, "roberta": 400}[request.param])


def test_label_on_first_sub_token_only(tokenizer):
    words = ["SiouxAfrica", "Metropolitan", "in", "Kraków"]
    tags = ["B-LOC", "B-ORG", "O", "B-LOC"]
    enc = encode(tokenizer, [words], [tags], max_length=64)
    (ids,), (labels,), (first,) = enc.input_ids, enc.labels, enc.first
    pieces = tokenizer(words, is_split_into_words=True, add_special_tokens=False).word_ids()
    assert len(pieces) > len(words), "the test needs words that split into several sub-tokens"
    labelled = np.nonzero(labels != IGNORE)[0]
    assert len(labelled) == len(words)
    assert [int(labels[p]) for p in labelled] == [LABEL_TO_ID[t] for t in tags]
    assert first[labelled].tolist() == [0, 1, 2, 3]
    # B- is not copied onto the other sub-tokens of a word
    assert (labels != IGNORE).sum() < len(ids) - 2
    # special tokens are ignored, and the sub-tokens are those of the words in order
    special = set(tokenizer.all_special_ids)
    assert ids[0] in special and ids[-1] in special and labels[0] == labels[-1] == IGNORE
    assert (
        ids[1:-1].tolist()
        == tokenizer(words, is_split_into_words=True, add_special_tokens=False)["input_ids"]
    )


def test_byte_level_words_get_a_prefix_space(tokenizer):
    if tokenizer.__class__.__name__.lower().startswith("bert"):
        pytest.skip("WordPiece has no prefix space")
    alone = tokenizer(["Africa"], is_split_into_words=True, add_special_tokens=False)["input_ids"]
    in_text = tokenizer(" Africa", add_special_tokens=False)["input_ids"]
    assert alone == in_text


def test_long_sentence_is_split_into_windows_losing_no_word(tokenizer):
    words = [w for sentence in CORPUS[:12] for w in sentence]
    tags = ["O"] * len(words)
    tags[0], tags[-1] = "B-LOC", "B-PER"
    enc = encode(tokenizer, [words, ["short"]], [tags, ["O"]], max_length=16)
    assert enc.windowed_sentences == 1
    assert len(enc) > 3
    assert all(len(ids) <= 16 for ids in enc.input_ids)
    windows = [i for i in range(len(enc)) if enc.sentence[i] == 0]
    seen = np.concatenate([enc.first[i][enc.first[i] >= 0] for i in windows])
    assert seen.tolist() == list(range(len(words)))  # every word once, in order
    labels = np.concatenate([enc.labels[i][enc.labels[i] != IGNORE] for i in windows])
    assert labels.tolist() == [LABEL_TO_ID[t] for t in tags]


def test_overlong_word_keeps_its_first_sub_token(tokenizer):
    enc = encode(tokenizer, [["a", "SiouxAfrica", "b"]], [["O", "B-PER", "O"]], max_length=5)
    assert enc.cut_subtokens > 0
    firsts = np.concatenate([f[f >= 0] for f in enc.first])
    assert firsts.tolist() == [0, 1, 2]
    assert all(len(ids) <= 5 for ids in enc.input_ids)


def test_word_without_sub_tokens_is_counted(tokenizer):
    # A zero-width space is removed by the normalisers: no sub-token, so no prediction of its own.
    enc = encode(tokenizer, [["Anna", "\u200b", "Kowalski"]], [["B-PER", "O", "I-PER"]], max_length=32)
    if enc.words_without_subtokens == 0:
        pytest.skip("this tokenizer keeps a zero-width space")
    assert enc.words_without_subtokens == 1
    assert enc.first[0][enc.first[0] >= 0].tolist() == [0, 2]


def test_batches_cover_every_item_once_and_are_full():
    lengths = np.random.default_rng(0).integers(3, 80, size=1003)
    batches = length_bucketed_batches(lengths, 32, np.random.default_rng(1), bucket_batches=10)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(1003))
    assert sum(len(b) < 32 for b in batches) <= 4  # only a bucket's last batch can be short
    # similar lengths within a batch: far less padding than random batches
    padded = sum(len(b) * lengths[b].max() for b in batches)
    assert padded < 1.2 * lengths.sum()


@pytest.mark.parametrize("batching", list(BATCHING))
def test_every_policy_gives_every_window_once_per_epoch_in_full_batches(batching):
    lengths = np.random.default_rng(0).integers(3, 80, size=1003)
    batches = training_batches(lengths, 32, np.random.default_rng([42, 1]), batching)
    assert sorted(np.concatenate(batches).tolist()) == list(range(1003))
    buckets = -(-1003 // (32 * BATCHING[batching].bucket_batches))
    assert sum(len(b) < 32 for b in batches) <= buckets  # only a bucket's last batch can be short
    assert all(0 < len(b) <= 32 for b in batches)


@pytest.mark.parametrize("batching", list(BATCHING))
def test_every_policy_depends_on_the_seed_and_epoch_only(batching):
    lengths = np.arange(500) % 37 + 1

    def plan(seed, epoch):
        return [
            b.tolist() for b in training_batches(lengths, 16, np.random.default_rng([seed, epoch]), batching)
        ]

    assert plan(42, 1) == plan(42, 1)
    assert plan(42, 1) != plan(42, 2)  # another epoch, another order
    assert plan(42, 1) != plan(43, 1)
    # and other batches, not the same batches in another order
    assert {tuple(sorted(b)) for b in plan(42, 1)} != {tuple(sorted(b)) for b in plan(42, 2)}


def test_random_batching_is_not_sorted_by_length_and_bucketed_is():
    lengths = np.random.default_rng(3).integers(1, 100, size=3200)

    def padding(batching):
        batches = training_batches(lengths, 32, np.random.default_rng(0), batching)
        return sum(len(b) * lengths[b].max() for b in batches) / lengths.sum() - 1

    assert padding("bucketed") < 0.1 < 0.5 < padding("random")


def test_unknown_batching_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown batching 'sorted'; known: random"):
        training_batches(np.ones(4, dtype=np.int64), 2, np.random.default_rng(0), "sorted")


def test_dynamic_padding_to_the_longest_in_batch(tokenizer):
    enc = encode(tokenizer, CORPUS[:8], None, max_length=256)
    batch = sorted_batches(enc.lengths, 4)[1]
    arrays = collate(enc, batch, pad_id=0)
    assert arrays["input_ids"].shape == (4, enc.lengths[batch].max())
    assert arrays["input_ids"].shape[1] < 256
    assert (arrays["attention_mask"].sum(1) == enc.lengths[batch]).all()
    assert (arrays["labels"] == IGNORE).all()  # no tags given


def _brute_force_cost(widths: list[int], overhead: int) -> int:
    """The least cost of any cut of sorted widths into consecutive groups (all 2^(n-1) cuts)."""
    n, best = len(widths), None
    for mask in range(2 ** (n - 1)):
        cost, start = 0, 0
        for end in range(1, n + 1):
            if end == n or mask >> (end - 1) & 1:
                cost += overhead + (end - start) * widths[end - 1]
                start = end
        best = cost if best is None else min(best, cost)
    return best


@pytest.mark.parametrize("overhead", [0, 3, 20, 1000])
def test_microbatches_are_an_exact_least_cost_cut_of_the_batch(overhead):
    rng = np.random.default_rng(overhead)
    for _ in range(20):
        lengths = rng.integers(1, 60, size=40)
        batch = rng.choice(40, size=9, replace=False)
        groups = microbatches(lengths, batch, overhead)
        # every item once, nothing else
        assert sorted(np.concatenate(groups).tolist()) == sorted(batch.tolist())
        # groups of consecutive lengths, shortest first
        widths = [lengths[g] for g in groups]
        assert all(w.max() <= v.min() for w, v in zip(widths, widths[1:]))
        cost = sum(overhead + len(g) * lengths[g].max() for g in groups)
        assert cost == _brute_force_cost(sorted(lengths[batch].tolist()), overhead)


def test_one_long_window_no_longer_pads_a_batch_of_short_ones():
    lengths = np.array([12] * 63 + [250])
    batch = np.arange(64)
    groups = microbatches(lengths, batch, overhead_tokens=128)
    assert [len(g) for g in groups] == [63, 1]
    assert sum(len(g) * lengths[g].max() for g in groups) == lengths.sum()
    # a large overhead keeps the batch whole
    assert [len(g) for g in microbatches(lengths, batch, overhead_tokens=10**6)] == [64]


def test_label_counts_count_the_labelled_sub_tokens(tokenizer):
    tags = [["O"] * len(s) for s in CORPUS[:5]]
    enc = encode(tokenizer, CORPUS[:5], tags, max_length=256)
    assert enc.label_counts.tolist() == [len(s) for s in CORPUS[:5]]
