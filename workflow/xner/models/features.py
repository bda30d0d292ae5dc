"""From sentences of words to model inputs: sub-word ids, aligned labels, and windows.

Each word's label goes on its *first* sub-token; its other sub-tokens and the
special tokens get -100, which the loss ignores. Predictions are read back at
word level from the first sub-token (:func:`xner.evaluation.inference.predict`).

A sentence longer than ``max_length`` sub-tokens is not cut: its words are split
greedily into consecutive *windows* that fit, each encoded on its own, so every
word is trained on and predicted. Only two things can leave a word without a
prediction of its own, and both are counted, never hidden: a word the tokenizer
maps to no sub-token at all (some control or zero-width characters), and the
sub-tokens past ``max_length`` of one single word longer than a window (its
first sub-token, which carries the prediction, is always kept).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from xner.labels import LABEL_TO_ID

logger = logging.getLogger(__name__)

IGNORE = -100

# The fixed cost of one more forward (and backward) pass, in padded sub-tokens, by
# device type: what a batch must save in padding to be cut in two (see microbatches).
# CPU: chosen with `xner bench` (README, "Speed"); CUDA: an estimate of a pass's
# launch overhead, not yet measured.
MICROBATCH_OVERHEAD_TOKENS = {"cpu": 128, "cuda": 4096}


@dataclass
class Encoded:
    """Model inputs for some sentences: one item per window (most sentences are one window).

    ``input_ids[i]`` and ``labels[i]`` are the sub-token ids and labels of window i;
    ``first[i]`` holds, for each sub-token position, the index of the word (within its
    sentence) whose first sub-token it is, or -1. ``sentence[i]`` is the window's
    sentence. ``n_words[s]`` is the number of words of sentence s.
    """

    input_ids: list[np.ndarray]
    labels: list[np.ndarray]
    first: list[np.ndarray]
    sentence: np.ndarray
    n_words: np.ndarray
    windowed_sentences: int = 0
    words_without_subtokens: int = 0
    cut_subtokens: int = 0
    lengths: np.ndarray = field(init=False)
    label_counts: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.lengths = np.array([len(ids) for ids in self.input_ids], dtype=np.int64)
        self.label_counts = np.array([int((lab != IGNORE).sum()) for lab in self.labels], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def n_tokens(self) -> int:
        """Sub-tokens over all windows, special tokens included."""
        return int(self.lengths.sum())


def special_tokens_layout(tokenizer) -> tuple[list[int], list[int]]:
    """The special-token ids the tokenizer puts before and after one sequence.

    Found by encoding one word with and without special tokens (the word's ids sit
    between the two parts), which works for any fast tokenizer's template.
    """
    words = ["a"]
    bare = tokenizer(words, is_split_into_words=True, add_special_tokens=False)["input_ids"]
    full = tokenizer(words, is_split_into_words=True, add_special_tokens=True)["input_ids"]
    for at in range(len(full) - len(bare) + 1):
        if full[at : at + len(bare)] == bare:
            return list(full[:at]), list(full[at + len(bare) :])
    raise ValueError(f"cannot find the special-token layout of {type(tokenizer).__name__}")


def encode(
    tokenizer,
    tokens: Sequence[Sequence[str]],
    tags: Sequence[Sequence[str]] | None = None,
    *,
    max_length: int = 256,
) -> Encoded:
    """Encode sentences (lists of words, with their tags if known) into windows of at most ``max_length``."""
    prefix, suffix = special_tokens_layout(tokenizer)
    budget = max_length - len(prefix) - len(suffix)
    if budget < 1:
        raise ValueError(f"max_length {max_length} leaves no room besides the special tokens")
    pieces = tokenizer([list(words) for words in tokens], is_split_into_words=True, add_special_tokens=False)
    out_ids, out_labels, out_first, out_sentence = [], [], [], []
    windowed = empty_words = cut = 0
    for s, words in enumerate(tokens):
        word_ids = pieces.word_ids(s)
        ids = pieces["input_ids"][s]
        # sub-token ids of each word, in order
        per_word: list[list[int]] = [[] for _ in words]
        for token_id, w in zip(ids, word_ids):
            if w is not None:
                per_word[w].append(token_id)
        empty_words += sum(1 for p in per_word if not p)
        label_ids = [LABEL_TO_ID[t] for t in tags[s]] if tags is not None else [IGNORE] * len(words)
        windows: list[list[int]] = [[]]
        used = 0
        for w, word_pieces in enumerate(per_word):
            n = len(word_pieces)
            if used + n > budget and windows[-1]:
                windows.append([])
                used = 0
            windows[-1].append(w)
            used += min(n, budget)
            if n > budget:
                cut += n - budget
        if len(windows) > 1:
            windowed += 1
        for window in windows:
            seq_ids, seq_labels, seq_first = list(prefix), [IGNORE] * len(prefix), [-1] * len(prefix)
            for w in window:
                word_pieces = per_word[w][:budget]
                if not word_pieces:
                    continue
                seq_ids += word_pieces
                seq_labels += [label_ids[w]] + [IGNORE] * (len(word_pieces) - 1)
                seq_first += [w] + [-1] * (len(word_pieces) - 1)
            seq_ids += suffix
            seq_labels += [IGNORE] * len(suffix)
            seq_first += [-1] * len(suffix)
            out_ids.append(np.array(seq_ids, dtype=np.int64))
            out_labels.append(np.array(seq_labels, dtype=np.int64))
            out_first.append(np.array(seq_first, dtype=np.int64))
            out_sentence.append(s)
    if windowed or empty_words or cut:
        logger.info(
            "%d sentence(s) split into windows of at most %d sub-tokens; %d word(s) without sub-tokens "
            "(predicted O); %d sub-token(s) cut from over-long words",
            windowed,
            max_length,
            empty_words,
            cut,
        )
    return Encoded(
        out_ids,
        out_labels,
        out_first,
        np.array(out_sentence, dtype=np.int64),
        np.array([len(words) for words in tokens], dtype=np.int64),
        windowed,
        empty_words,
        cut,
    )


@dataclass(frozen=True)
class Batching:
    """A batching policy (``training.batching``): how batches are drawn, and how a batch's loss is scaled.

    ``bucket_batches``: the items are shuffled and cut into buckets of this many
    batches, each bucket sorted by length and cut into batches (1: the standard
    random sampler, since micro-batches sort a batch anyway; 50: the size of the
    Trainer's ``group_by_length`` mega-batches).

    ``per_epoch_mean``: a batch's summed loss is divided by the mean number of
    labelled sub-tokens per batch of the epoch instead of its own, so that a word
    weighs the same in a batch of short sentences as in one of long sentences.
    """

    bucket_batches: int
    per_epoch_mean: bool = False


BATCHING: dict[str, Batching] = {
    # the standard sampler; each batch's loss is its mean over its labelled sub-tokens
    "random": Batching(1),
    # batches of similar length, each batch's own mean loss: fast, but short sentences
    # (often bare names in PAN-X) weigh more per word than long ones
    "bucketed": Batching(50),
    # the same batches, every labelled sub-token of the epoch weighed alike
    "balanced": Batching(50, per_epoch_mean=True),
}


def batching_policy(name: str) -> Batching:
    if name not in BATCHING:
        raise ValueError(f"unknown batching {name!r}; known: {', '.join(BATCHING)}")
    return BATCHING[name]


def training_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator, batching: str
) -> list[np.ndarray]:
    """One epoch's training batches under a batching policy (see :data:`BATCHING`)."""
    return length_bucketed_batches(
        lengths, batch_size, rng, bucket_batches=batching_policy(batching).bucket_batches
    )


def length_bucketed_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator, bucket_batches: int = 50
) -> list[np.ndarray]:
    """Training batches of ``batch_size`` items of similar length, in random order.

    The items are shuffled, cut into buckets of ``bucket_batches`` batches, sorted by
    length inside each bucket and cut into batches; then the batch order is shuffled.
    So batches are full (but the last), padding is small, and every epoch differs.
    With ``bucket_batches=1`` this is the standard random sampler.
    """
    order = rng.permutation(len(lengths))
    batches = []
    bucket = batch_size * bucket_batches
    for start in range(0, len(order), bucket):
        chunk = order[start : start + bucket]
        if bucket_batches > 1:
            chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def microbatches(lengths: np.ndarray, batch: np.ndarray, overhead_tokens: int) -> list[np.ndarray]:
    """Split one batch into micro-batches of similar length that together cost the least padding.

    A batch of ``batch_size`` items is one optimisation step, but it need not be
    one forward pass: one long window in a batch of short ones would pad every
    row to its length. The batch is sorted by length and cut into consecutive
    groups so that the sum over groups of ``overhead_tokens + rows * width`` is
    least (an exact dynamic programme over cut points). ``overhead_tokens`` is
    the fixed cost of one more forward and backward pass, in padded tokens:
    small on a CPU, large on a GPU, where small passes leave the device idle.
    The training loop accumulates the gradients of the groups and divides the
    loss by the labels of the whole batch, so the step is the same as one pass
    over the whole batch (up to the order of float additions and the dropout
    masks drawn).
    """
    batch = batch[np.argsort(lengths[batch], kind="stable")]
    widths = lengths[batch]
    n = len(batch)
    cost = np.zeros(n + 1)
    cut = np.zeros(n + 1, dtype=np.int64)
    starts = np.arange(n)
    for end in range(1, n + 1):
        # a group batch[start:end] costs overhead + (end - start) * widths[end - 1]
        candidates = cost[:end] + overhead_tokens + (end - starts[:end]) * widths[end - 1]
        cut[end] = int(np.argmin(candidates))
        cost[end] = candidates[cut[end]]
    groups = []
    end = n
    while end > 0:
        groups.append(batch[cut[end] : end])
        end = cut[end]
    return groups[::-1]


def sorted_batches(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Evaluation batches: items sorted by length (longest first, so memory errors come at once)."""
    order = np.argsort(-lengths, kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def eval_plan(lengths: np.ndarray, batch_size: int, overhead_tokens: int) -> list[list[np.ndarray]]:
    """Evaluation batches (longest first), each cut into micro-batches where that saves padding."""
    return [microbatches(lengths, batch, overhead_tokens) for batch in sorted_batches(lengths, batch_size)]


def pad_multiple(device_type: str) -> int:
    """Batches are padded to a multiple of this (8 on CUDA, for tensor-core shapes)."""
    return 8 if device_type == "cuda" else 1


def padded_tokens(encoded: Encoded, plan: list[list[np.ndarray]], multiple: int = 1) -> int:
    """Sub-token positions a plan (batches of micro-batches) computes on, padding included."""
    return sum(
        len(group) * -(-int(encoded.lengths[group].max()) // multiple) * multiple
        for batch in plan
        for group in batch
    )


def collate(encoded: Encoded, batch: np.ndarray, pad_id: int, multiple_of: int = 1) -> dict[str, np.ndarray]:
    """Pad a batch of windows to its own longest length (rounded up to ``multiple_of``)."""
    width = int(encoded.lengths[batch].max())
    width = -(-width // multiple_of) * multiple_of
    input_ids = np.full((len(batch), width), pad_id, dtype=np.int64)
    labels = np.full((len(batch), width), IGNORE, dtype=np.int64)
    attention_mask = np.zeros((len(batch), width), dtype=np.int64)
    for row, i in enumerate(batch):
        n = encoded.lengths[i]
        input_ids[row, :n] = encoded.input_ids[i]
        labels[row, :n] = encoded.labels[i]
        attention_mask[row, :n] = 1
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}
