"""Encoders built here with random weights: tiny ones for the demo and the tests, published shapes for benchmarks.

:func:`build_tiny_model` makes a small, randomly initialised encoder and a
tokenizer trained on the given sentences, entirely offline, so that the demo
and the tests exercise exactly the code paths of a real model. The directory
it writes is a plain *pretrained-encoder* checkpoint: the base model
(``BertModel`` / ``RobertaModel``, without pooler) and its tokenizer, as
``save_pretrained`` writes them. It has no classification head; like any
encoder from the hub, it gets a fresh one from :func:`xner.models.loading.load_model`.
:func:`build_model` builds a randomly initialised token classifier of a
published shape (:mod:`xner.models.architectures`) for a tokenizer that
:func:`train_tokenizer` learned, so that benchmarks time the real sizes without
the hub.

Randomness: :func:`build_tiny_model` draws its weights from a generator seeded
with ``TinyModelSettings.seed`` and leaves torch's global random state as it
was; the tokenizer learners are deterministic.
"""

from __future__ import annotations

import heapq
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors, trainers
from tokenizers import models as tokenizer_models
from transformers import (
    AutoConfig,
    AutoModelForTokenClassification,
    BertConfig,
    BertModel,
    BertTokenizerFast,
    PretrainedConfig,
    PreTrainedTokenizerBase,
    RobertaConfig,
    RobertaModel,
    RobertaTokenizerFast,
)

from xner.io import atomic_directory
from xner.models.architectures import Architecture
from xner.models.loading import count_parameters

logger = logging.getLogger(__name__)

FAMILIES: tuple[str, ...] = ("bert", "roberta")
# Special tokens in vocabulary order (ids 0, 1, ...), as in the original models.
BERT_SPECIAL_TOKENS: tuple[str, ...] = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
ROBERTA_SPECIAL_TOKENS: tuple[str, ...] = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
# The smallest vocabulary a tiny model may ask for: byte-level BPE needs the
# 256 byte symbols and the special tokens before any merge.
MIN_VOCAB_SIZE = 300


@dataclass(frozen=True)
class TinyModelSettings:
    """The shape of a tiny encoder made by :func:`build_tiny_model`.

    ``family`` is ``"bert"`` (WordPiece tokenizer, ``BertModel``) or
    ``"roberta"`` (byte-level BPE tokenizer, ``RobertaModel``).
    ``vocab_size`` bounds the tokenizer's vocabulary: a small corpus may give
    fewer tokens (WordPiece merges stop at pairs seen once), and a WordPiece
    vocabulary keeps every character seen, even beyond it.
    ``max_position_embeddings`` is the longest input in tokens, special tokens
    included, for both families (RoBERTa's config gets 2 more positions, for
    its padding offset, as ``roberta-base`` has 514 for 512 tokens).
    """

    family: str = "bert"
    vocab_size: int = 3000
    hidden_size: int = 64
    num_layers: int = 2
    num_heads: int = 2
    intermediate_size: int = 128
    max_position_embeddings: int = 512
    seed: int = 0

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(
                f"TinyModelSettings.family must be one of {', '.join(FAMILIES)}, not {self.family!r}"
            )
        for name in ("vocab_size", "hidden_size", "num_layers", "num_heads", "intermediate_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"TinyModelSettings.{name} must be a positive integer, not {value!r}")
        if self.vocab_size < MIN_VOCAB_SIZE:
            raise ValueError(
                f"TinyModelSettings.vocab_size must be at least {MIN_VOCAB_SIZE}, not {self.vocab_size}"
            )
        if self.hidden_size % self.num_heads:
            raise ValueError(
                f"TinyModelSettings.hidden_size ({self.hidden_size}) must be a multiple of "
                f"num_heads ({self.num_heads})"
            )
        if not isinstance(self.max_position_embeddings, int) or self.max_position_embeddings < 8:
            raise ValueError(
                f"TinyModelSettings.max_position_embeddings must be an integer >= 8, "
                f"not {self.max_position_embeddings!r}"
            )
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ValueError(f"TinyModelSettings.seed must be an integer, not {self.seed!r}")


DEFAULT_TINY_SETTINGS = TinyModelSettings()


def _words(sentences: Iterable[Sequence[str]]) -> Iterator[str]:
    """Every word of every sentence, in order (a bare string is refused: it is not a list of words)."""
    for sentence in sentences:
        if isinstance(sentence, str):
            raise TypeError(f"sentences must be lists of words, not strings such as {sentence!r}")
        yield from sentence


def train_tokenizer(
    sentences: Iterable[Sequence[str]],
    family: str,
    vocab_size: int,
    *,
    model_max_length: int | None = None,
) -> PreTrainedTokenizerBase:
    """A fast tokenizer trained on pre-split sentences (lists of words), with the family's special tokens.

    ``"bert"``: WordPiece (``##`` continuation prefix) with a cased ``BertNormalizer``
    that keeps accents, ``BertPreTokenizer``, a WordPiece decoder and the template
    ``[CLS] $A [SEP]``, wrapped in transformers' ``BertTokenizerFast``. ``"roberta"``:
    byte-level BPE (every byte is in the vocabulary, so nothing is ever unknown)
    with ``add_prefix_space=True``, a ByteLevel decoder and ``RobertaProcessing``
    (``<s> $A </s>``), wrapped in ``RobertaTokenizerFast``. (In transformers 5
    the ``...Fast`` names are aliases of ``BertTokenizer`` and ``RobertaTokenizer``,
    which are fast; the saved ``tokenizer_config.json`` names those.)

    Each word is a training sequence of its own, exactly as the tokenizer sees
    words later with ``is_split_into_words=True``. Training depends only on the
    word counts and is deterministic: the same words give the same vocabulary,
    with the same ids. (The WordPiece vocabulary is learnt by
    :func:`_learn_wordpiece_vocab`, because the ``tokenizers`` WordPiece trainer
    breaks ties between equally frequent pairs in hash-map order, which changes
    from one run to the next.)
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown tokenizer family {family!r}: expected one of {', '.join(FAMILIES)}")
    counts = Counter(_words(sentences))
    if not counts:
        raise ValueError("cannot train a tokenizer: the sentences hold no words")
    max_length = {} if model_max_length is None else {"model_max_length": model_max_length}
    if family == "bert":
        backend = Tokenizer(tokenizer_models.WordPiece(unk_token="[UNK]", continuing_subword_prefix="##"))
        backend.normalizer = normalizers.BertNormalizer(
            clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False
        )
        backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        pieces: Counter[str] = Counter()
        for word, count in counts.items():
            for piece, _ in backend.pre_tokenizer.pre_tokenize_str(backend.normalizer.normalize_str(word)):
                pieces[piece] += count
        vocab = _learn_wordpiece_vocab(pieces, vocab_size, BERT_SPECIAL_TOKENS)
        backend.model = tokenizer_models.WordPiece(vocab, unk_token="[UNK]", continuing_subword_prefix="##")
        backend.decoder = decoders.WordPiece(prefix="##")
        backend.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]",
            pair="[CLS] $A [SEP] $B:1 [SEP]:1",
            special_tokens=[(token, vocab[token]) for token in ("[CLS]", "[SEP]")],
        )
        tokenizer = BertTokenizerFast(
            tokenizer_object=backend,
            do_lower_case=False,
            strip_accents=False,
            tokenize_chinese_chars=True,
            **max_length,
        )
    else:
        backend = Tokenizer(tokenizer_models.BPE())
        backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
        backend.decoder = decoders.ByteLevel()
        # The byte-level alphabet is complete and sorted, so the BPE trainer's
        # ids, and hence its tie-breaking between pairs, do not depend on the run.
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=list(ROBERTA_SPECIAL_TOKENS),
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        words = (word for word, count in sorted(counts.items()) for _ in range(count))
        backend.train_from_iterator(words, trainer=trainer)
        backend.post_processor = processors.RobertaProcessing(
            ("</s>", backend.token_to_id("</s>")),
            ("<s>", backend.token_to_id("<s>")),
            trim_offsets=True,
            add_prefix_space=True,
        )
        tokenizer = RobertaTokenizerFast(
            tokenizer_object=backend, add_prefix_space=True, trim_offsets=True, **max_length
        )
    logger.info(
        "trained a %s tokenizer on %d words (%d distinct): %d tokens",
        family,
        counts.total(),
        len(counts),
        len(tokenizer),
    )
    return tokenizer


def _learn_wordpiece_vocab(
    pieces: Counter[str], vocab_size: int, special_tokens: Sequence[str], *, min_frequency: int = 2
) -> dict[str, int]:
    """A WordPiece vocabulary learnt by BPE merges, as the ``tokenizers`` WordPiece trainer does, deterministically.

    ``pieces`` counts pre-tokenized word pieces. Each piece starts as its first
    character followed by ``##``-prefixed characters; the most frequent adjacent
    pair (ties: the smallest pair of strings) is merged until the vocabulary
    holds ``vocab_size`` tokens or no pair occurs ``min_frequency`` times. The
    vocabulary is: special tokens, the alphabet (sorted), then merged tokens in
    merge order. The whole alphabet is always kept, even beyond ``vocab_size``.
    """
    words = [[piece[0], *(f"##{c}" for c in piece[1:])] for piece in sorted(pieces)]
    weights = [pieces[piece] for piece in sorted(pieces)]
    vocab: dict[str, int] = {}
    for token in (*special_tokens, *sorted({symbol for word in words for symbol in word})):
        vocab.setdefault(token, len(vocab))
    pair_counts: Counter[tuple[str, str]] = Counter()
    where: defaultdict[tuple[str, str], set[int]] = defaultdict(set)
    for i, word in enumerate(words):
        for pair in zip(word, word[1:]):
            pair_counts[pair] += weights[i]
            where[pair].add(i)
    heap = [(-count, pair) for pair, count in pair_counts.items()]
    heapq.heapify(heap)
    while len(vocab) < vocab_size and heap:
        negative, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -negative:
            continue  # a stale entry: the count changed since it was pushed
        if -negative < min_frequency:
            break
        merged = pair[0] + pair[1][2:]
        vocab.setdefault(merged, len(vocab))
        changed: set[tuple[str, str]] = set()
        for i in sorted(where.pop(pair)):
            word = words[i]
            for old in zip(word, word[1:]):
                pair_counts[old] -= weights[i]
                changed.add(old)
            new: list[str] = []
            j = 0
            while j < len(word):
                if j + 1 < len(word) and (word[j], word[j + 1]) == pair:
                    new.append(merged)
                    j += 2
                else:
                    new.append(word[j])
                    j += 1
            words[i] = new
            for current in zip(new, new[1:]):
                pair_counts[current] += weights[i]
                where[current].add(i)
                changed.add(current)
        for changed_pair in changed:
            count = pair_counts[changed_pair]
            if count > 0:
                heapq.heappush(heap, (-count, changed_pair))
            else:
                del pair_counts[changed_pair]
                where.pop(changed_pair, None)
    return vocab


def _tiny_config(settings: TinyModelSettings, tokenizer: PreTrainedTokenizerBase) -> PretrainedConfig:
    shape = {
        "vocab_size": len(tokenizer),
        "hidden_size": settings.hidden_size,
        "num_hidden_layers": settings.num_layers,
        "num_attention_heads": settings.num_heads,
        "intermediate_size": settings.intermediate_size,
        "pad_token_id": tokenizer.pad_token_id,
    }
    if settings.family == "bert":
        return BertConfig(
            **shape, max_position_embeddings=settings.max_position_embeddings, type_vocab_size=2
        )
    # RoBERTa numbers positions from pad_token_id + 1.
    return RobertaConfig(
        **shape,
        max_position_embeddings=settings.max_position_embeddings + tokenizer.pad_token_id + 1,
        type_vocab_size=1,
        bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id,
    )


def build_tiny_model(
    sentences: Iterable[Sequence[str]],
    out_dir: str | Path,
    settings: TinyModelSettings = DEFAULT_TINY_SETTINGS,
) -> None:
    """Train a tokenizer on the sentences and save it with a randomly initialised encoder into ``out_dir``.

    The encoder is the base model of the family (``BertModel`` or
    ``RobertaModel``, without pooler), so ``out_dir`` is a plain pretrained
    encoder checkpoint: ``config.json``, ``model.safetensors``,
    ``tokenizer.json`` and ``tokenizer_config.json``. The weights depend only on
    the vocabulary and the settings (seed included); torch's global random state
    is left untouched. ``out_dir`` is built in a temporary sibling directory and
    renamed into place when complete (replacing an older one).
    """
    tokenizer = train_tokenizer(
        sentences, settings.family, settings.vocab_size, model_max_length=settings.max_position_embeddings
    )
    config = _tiny_config(settings, tokenizer)
    model_class = BertModel if settings.family == "bert" else RobertaModel
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
        model = model_class(config, add_pooling_layer=False)
    _, total = count_parameters(model)
    with atomic_directory(Path(out_dir)) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    logger.info(
        "wrote a tiny %s encoder to %s: %d parameters, %d tokens, seed %d",
        settings.family,
        out_dir,
        total,
        len(tokenizer),
        settings.seed,
    )


def build_model(architecture: Architecture, tokenizer, num_labels: int, seed: int = 0):
    """A randomly initialised token classifier of this shape, for ``tokenizer`` (whose ids must fit)."""
    if len(tokenizer) > architecture.config["vocab_size"]:
        raise ValueError(
            f"{architecture.name}: the tokenizer has {len(tokenizer)} tokens, more than the model's "
            f"{architecture.config['vocab_size']}"
        )
    config = AutoConfig.for_model(
        architecture.model_type,
        **architecture.config,
        num_labels=num_labels,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return AutoModelForTokenClassification.from_config(config)
