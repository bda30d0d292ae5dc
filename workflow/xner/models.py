"""Encoders for token classification: tiny local ones for the demo, and any Hugging Face encoder.

Two jobs:

* :func:`build_tiny_model` makes a small, randomly initialised encoder and a
  tokenizer trained on the demo sentences, entirely offline, so that the demo
  and the tests exercise exactly the code paths of a real model. The directory
  it writes is a plain *pretrained-encoder* checkpoint: the base model
  (``BertModel`` / ``RobertaModel``, without pooler) and its tokenizer, as
  ``save_pretrained`` writes them. It has no classification head; like any
  encoder from the hub, it gets a fresh one from :func:`load_model`.
* :func:`load_tokenizer` and :func:`load_model` load any encoder (a hub id or a
  local directory) for token classification with xner's labels, and
  :func:`freeze_encoder` freezes everything but the classification head.

Randomness: :func:`build_tiny_model` draws its weights from a generator seeded
with ``TinyModelSettings.seed`` and leaves torch's global random state as it
was. A fresh classification head from :func:`load_model` is drawn from torch's
global generator unless ``seed`` is given (then from that seed alone).
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import os
import re
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
    AutoTokenizer,
    BertConfig,
    BertModel,
    BertTokenizerFast,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    RobertaConfig,
    RobertaModel,
    RobertaTokenizerFast,
)

from xner.errors import XnerError
from xner.io import atomic_directory
from xner.labels import LABELS

logger = logging.getLogger(__name__)

FAMILIES: tuple[str, ...] = ("bert", "roberta")
# Special tokens in vocabulary order (ids 0, 1, ...), as in the original models.
BERT_SPECIAL_TOKENS: tuple[str, ...] = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
ROBERTA_SPECIAL_TOKENS: tuple[str, ...] = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
# The smallest vocabulary a tiny model may ask for: byte-level BPE needs the
# 256 byte symbols and the special tokens before any merge.
MIN_VOCAB_SIZE = 300

# A Hugging Face hub id: "name" or "namespace/name" (letters, digits, "-", "_", ".").
_HUB_ID = re.compile(r"[A-Za-z0-9](?:[\w.-]*[A-Za-z0-9_])?(?:/[A-Za-z0-9](?:[\w.-]*[A-Za-z0-9_])?)?")


# --------------------------------------------------------------------------- #
# Tiny encoders with locally trained tokenizers.                               #
# --------------------------------------------------------------------------- #


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


# --------------------------------------------------------------------------- #
# Loading any encoder for token classification.                                #
# --------------------------------------------------------------------------- #


def _byte_level_parts(pre_tokenizer) -> list[pre_tokenizers.ByteLevel]:
    """The ByteLevel pre-tokenizers in ``pre_tokenizer`` (itself, or inside a possibly nested Sequence)."""
    if isinstance(pre_tokenizer, pre_tokenizers.ByteLevel):
        return [pre_tokenizer]
    if isinstance(pre_tokenizer, pre_tokenizers.Sequence):
        return [part for member in pre_tokenizer for part in _byte_level_parts(member)]
    return []


def is_byte_level(tokenizer: PreTrainedTokenizerBase) -> bool:
    """Whether the tokenizer is byte-level BPE (RoBERTa/GPT-2/DeBERTa-v1 family).

    Such tokenizers need ``add_prefix_space`` to tokenize pre-split words. This is
    decided from the fast tokenizer's backend (its pre-tokenizer is ByteLevel,
    possibly inside a Sequence), not from model names; a slow tokenizer is never
    byte-level here.
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    return backend is not None and bool(_byte_level_parts(backend.pre_tokenizer))


def _adds_prefix_space(tokenizer: PreTrainedTokenizerBase) -> bool:
    parts = _byte_level_parts(tokenizer.backend_tokenizer.pre_tokenizer)
    return all(part.add_prefix_space for part in parts)


def _resolve(path: str | Path, what: str) -> str:
    """``path`` as from_pretrained should see it; a local path that does not exist is an XnerError.

    A string that cannot be a hub id (absolute or relative path syntax, ``~``,
    characters a hub id cannot have) must name an existing directory.
    """
    text = os.fspath(path)
    if text.startswith("~"):
        text = os.path.expanduser(text)
    if os.path.isdir(text):
        return text
    if os.path.exists(text):
        raise XnerError(f"cannot load the {what} '{path}': it is a file, not a model directory")
    looks_local = (
        isinstance(path, Path)
        or text.startswith(("/", "./", "../", "\\"))
        or text in (".", "..")
        or len(text) > 96
        or not _HUB_ID.fullmatch(text)
    )
    if looks_local:
        raise XnerError(
            f"cannot load the {what} '{path}': no such directory (and not a Hugging Face hub id); "
            "point models.NAME in the config at an existing local model directory or at a hub id"
        )
    return text


def _not_found(path: str | Path, what: str, error: Exception) -> XnerError:
    reason = next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)
    return XnerError(
        f"cannot load the {what} '{path}': {reason.rstrip('.')}. "
        f"If it is a Hugging Face hub id, fetch it on a machine with network access "
        f"(`hf download {path}`, or `huggingface-cli download {path}` with an older huggingface_hub) "
        "into the Hugging Face cache (HF_HOME) and set HF_HUB_OFFLINE=1 where there is no network; "
        "or point models.NAME in the config at a local directory holding the model"
    )


def load_tokenizer(path: str | Path) -> PreTrainedTokenizerBase:
    """The tokenizer of a hub id or local directory, ready for pre-split words.

    Byte-level BPE tokenizers are reloaded with ``add_prefix_space=True`` (for
    tokenizer classes that ignore that option, the backend's ByteLevel
    pre-tokenizer is switched to it directly), so that every word is tokenized
    as if preceded by a space, as it is in running text. The tokenizer must be
    a fast one (``word_ids()`` is needed to align sub-words with words);
    otherwise, or if nothing can be loaded, :class:`XnerError`.
    """
    where = _resolve(path, "tokenizer")
    try:
        tokenizer = AutoTokenizer.from_pretrained(where)
    except (OSError, ValueError) as error:  # ValueError: a directory without a recognisable config
        raise _not_found(path, "tokenizer", error) from error
    if not getattr(tokenizer, "is_fast", False) or getattr(tokenizer, "backend_tokenizer", None) is None:
        raise XnerError(
            f"the tokenizer of '{path}' ({type(tokenizer).__name__}) is not a fast tokenizer: xner needs one "
            "(from the `tokenizers` library) to map sub-words to words"
        )
    if is_byte_level(tokenizer) and not (
        getattr(tokenizer, "add_prefix_space", False) and _adds_prefix_space(tokenizer)
    ):
        tokenizer = AutoTokenizer.from_pretrained(where, add_prefix_space=True)
        if not _adds_prefix_space(tokenizer):
            backend = tokenizer.backend_tokenizer
            pre_tokenizer = backend.pre_tokenizer
            for part in _byte_level_parts(pre_tokenizer):
                part.add_prefix_space = True
            backend.pre_tokenizer = pre_tokenizer
            tokenizer.add_prefix_space = True
        logger.info("%s: byte-level BPE tokenizer, loaded with add_prefix_space=True", path)
    return tokenizer


@contextlib.contextmanager
def _seeded(seed: int | None) -> Iterator[None]:
    """Within the block, torch's CPU generator starts from ``seed`` (and is restored afterwards); no-op for None."""
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def _checkpoint_labels(config: PretrainedConfig) -> tuple[str, ...] | None:
    """The label names of a token-classification checkpoint, in id order; None for any other checkpoint."""
    architectures = getattr(config, "architectures", None) or []
    if not any(name.endswith("ForTokenClassification") for name in architectures) or not config.id2label:
        return None
    return tuple(str(config.id2label[i]) for i in sorted(config.id2label, key=int))


def head_parameter_names(model: PreTrainedModel) -> list[str]:
    """Names of the classification head's parameters: those not under ``model.base_model_prefix``."""
    prefix = getattr(model, "base_model_prefix", "")
    if not prefix or model.base_model is model:
        raise ValueError(f"{type(model).__name__} has no separate encoder (base_model_prefix {prefix!r})")
    return [name for name, _ in model.named_parameters() if not name.startswith(prefix + ".")]


def _head_modules(model: PreTrainedModel) -> list[torch.nn.Module]:
    prefix = model.base_model_prefix
    return [
        module
        for name, child in model.named_children()
        if name != prefix
        for module in child.modules()
        if any(True for _ in module.parameters(recurse=False))
    ]


@torch.no_grad()
def _reinitialise_head(model: PreTrainedModel) -> None:
    """Give the head fresh weights, as transformers initialises a missing head (normal(0, initializer_range))."""
    std = getattr(model.config, "initializer_range", None) or 0.02
    for module in _head_modules(model):
        if isinstance(module, torch.nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif hasattr(module, "reset_parameters"):
            module.reset_parameters()
        else:
            raise ValueError(
                f"cannot re-initialise the head module {type(module).__name__} of {type(model).__name__}"
            )


def _settle_head(
    model: PreTrainedModel,
    info: dict,
    old_labels: tuple[str, ...] | None,
    old_count: int | None,
    labels: tuple[str, ...],
    path: str | Path,
) -> None:
    """Make sure the head is either a checkpoint's head for exactly our labels or a fresh one; log which."""
    names = dict(model.named_parameters())
    head = set(head_parameter_names(model))
    missing = head & set(info.get("missing_keys", ()))
    mismatched = head & {key[0] if isinstance(key, tuple) else key for key in info.get("mismatched_keys", ())}
    loaded = head - missing - mismatched
    old = f"{old_count} labels" if old_count is not None else "another label set"
    if not loaded:
        if mismatched:
            logger.warning(
                "%s: replaced its classification head (%s) with a fresh one for the %d xner labels",
                path,
                old,
                len(labels),
            )
        else:
            logger.info(
                "%s: encoder checkpoint, added a fresh classification head for %d labels", path, len(labels)
            )
        return
    if not missing and not mismatched and old_labels == labels:
        logger.info("%s: kept its classification head, trained for the xner labels", path)
        return
    if (
        not missing
        and not mismatched
        and old_labels is not None
        and len(old_labels) == len(set(old_labels))
        and set(old_labels) == set(labels)
        and all(names[name].shape[0] == len(labels) for name in head)
    ):
        order = torch.tensor([old_labels.index(label) for label in labels])
        with torch.no_grad():
            for name in head:
                names[name].copy_(names[name][order])
        logger.warning(
            "%s: kept its classification head, with its rows reordered to the xner label order", path
        )
        return
    _reinitialise_head(model)
    logger.warning(
        "%s: replaced its classification head (%s%s) with a fresh one for the %d xner labels",
        path,
        old,
        f": {', '.join(old_labels)}" if old_labels else "",
        len(labels),
    )


def load_model(
    path: str | Path, *, labels: Sequence[str] = LABELS, seed: int | None = None
) -> PreTrainedModel:
    """An encoder (hub id or local directory) with a token-classification head for ``labels``.

    The model is ``AutoModelForTokenClassification`` with ``id2label`` and
    ``label2id`` set to ``labels`` (so ``num_labels == len(labels)``), loaded
    with ``ignore_mismatched_sizes=True``. The head is:

    * kept if the checkpoint is a token classifier for exactly these labels in
      this order (a model xner fine-tuned), or for the same labels in another
      order (its rows are then reordered);
    * otherwise fresh: a plain encoder gets a new head, and a checkpoint
      fine-tuned with another label set (e.g. ``Grpp/rured2-ner-mdeberta-v3-base``)
      or for another task has its head replaced, with a WARNING giving the old
      label count.

    A fresh head is drawn from torch's global generator, or from ``seed`` alone
    if given. A path or hub id that cannot be loaded is an :class:`XnerError`.
    """
    labels = tuple(labels)
    if not labels or len(set(labels)) != len(labels):
        raise ValueError(f"labels must be distinct and non-empty, not {labels!r}")
    where = _resolve(path, "model")
    try:
        config = AutoConfig.from_pretrained(where)
    except (OSError, ValueError) as error:  # ValueError: a directory without a recognisable config
        raise _not_found(path, "model", error) from error
    old_labels = _checkpoint_labels(config)
    old_count = config.num_labels if old_labels is not None else None
    config.id2label = dict(enumerate(labels))
    config.label2id = {label: i for i, label in enumerate(labels)}
    with _seeded(seed):
        try:
            model, info = AutoModelForTokenClassification.from_pretrained(
                where, config=config, ignore_mismatched_sizes=True, output_loading_info=True
            )
        except OSError as error:
            raise _not_found(path, "model", error) from error
        except ValueError as error:
            raise XnerError(f"cannot load '{path}' for token classification: {error}") from error
        if old_count is None and info.get("mismatched_keys"):
            old_count = _count_from_shapes(info["mismatched_keys"], head_parameter_names(model))
        _settle_head(model, info, old_labels, old_count, labels, path)
    return model


def _count_from_shapes(mismatched: Iterable, head: list[str]) -> int | None:
    """The old label count, from the checkpoint's shape of a mismatched head weight (first dimension)."""
    for key in mismatched:
        if isinstance(key, tuple) and len(key) >= 2 and key[0] in head and len(key[1]) >= 1:
            return int(key[1][0])
    return None


def freeze_encoder(model: PreTrainedModel) -> None:
    """Freeze every parameter except the classification head (the study's 'frozen' runs).

    The head is whatever is not under ``model.base_model_prefix`` (for BERT-like
    models: ``classifier``); its parameters are left trainable.
    """
    head = set(head_parameter_names(model))
    if not head:
        raise ValueError(f"{type(model).__name__} has no parameters outside its encoder: nothing would train")
    for name, parameter in model.named_parameters():
        parameter.requires_grad_(name in head)
    trainable, total = count_parameters(model)
    logger.info("froze the encoder: %d of %d parameters still train (the head)", trainable, total)


def count_parameters(model: torch.nn.Module) -> tuple[int, int]:
    """(trainable, total) numbers of parameters (each shared tensor counted once)."""
    parameters = list(model.parameters())
    trainable = sum(p.numel() for p in parameters if p.requires_grad)
    return trainable, sum(p.numel() for p in parameters)
