"""Tiny local encoders, loading encoders for token classification, freezing: all offline."""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer, decoders, pre_tokenizers, trainers
from tokenizers import models as tokenizer_models
from transformers import (
    AutoModelForTokenClassification,
    AutoTokenizer,
    BertConfig,
    BertForTokenClassification,
    PreTrainedTokenizerBase,
    PreTrainedTokenizerFast,
    pipeline,
)

from conftest import ROOT
from xner.errors import XnerError
from xner.labels import LABELS
from xner.models import loading as models
from xner.models.loading import (
    count_parameters,
    freeze_encoder,
    head_parameter_names,
    is_byte_level,
    load_model,
    load_tokenizer,
)
from xner.synthetic import models as random_models
from xner.synthetic.models import TinyModelSettings, build_tiny_model, train_tokenizer

ID2LABEL = dict(enumerate(LABELS))
# Words that a small vocabulary must split, non-ASCII words and punctuation.
RARE_WORDS = ["Oberweißbach", "Kilimanjaro-Nationalpark", "Wolfsschanze", "Ndugu", "Ämterpatronage"]
COMMON_WORDS = [
    "Hello",
    "world",
    "the",
    "in",
    "of",
    "and",
    "Paris",
    "London",
    "Nairobi",
    "Müller",
    "São",
    "Paulo",
]
NON_ASCII = ["Zürich", "Ķīna", "東京", "Москва", "Αθήνα", "naïve", "İstanbul"]
PUNCTUATION = [",", ".", "(", ")", "'s", "--", "N/A", "3:15"]


def make_sentences(n: int = 200, seed: int = 0) -> list[list[str]]:
    rng = random.Random(seed)
    vocabulary = COMMON_WORDS * 6 + NON_ASCII * 2 + PUNCTUATION * 2 + RARE_WORDS
    return [[rng.choice(vocabulary) for _ in range(rng.randint(3, 12))] for _ in range(n)]


SENTENCES = make_sentences()
TEST_WORDS = ["Hello", "world", "Nairobian", "Ķīna", "東京", ",", "Unseenword", "Zürich", "Oberweißbach"]


@pytest.fixture(scope="module")
def tiny_dirs(tmp_path_factory) -> dict[str, Path]:
    """One tiny encoder per family, built once for the module."""
    root = tmp_path_factory.mktemp("tiny")
    dirs = {}
    for family in random_models.FAMILIES:
        dirs[family] = root / family
        build_tiny_model(SENTENCES, dirs[family], TinyModelSettings(family=family, vocab_size=400))
    return dirs


def tiny_bert_config(**kwargs) -> BertConfig:
    return BertConfig(
        vocab_size=120,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        **kwargs,
    )


def save_token_classifier(path: Path, labels: list[str], seed: int = 0) -> dict[str, torch.Tensor]:
    """Save a tiny BertForTokenClassification with these labels; return its state dict."""
    config = tiny_bert_config(
        id2label=dict(enumerate(labels)), label2id={label: i for i, label in enumerate(labels)}
    )
    torch.manual_seed(seed)
    model = BertForTokenClassification(config)
    model.save_pretrained(path)
    return {name: tensor.clone() for name, tensor in model.state_dict().items()}


# --------------------------------------------------------------------------- #
# Tiny models                                                                  #
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("family", random_models.FAMILIES)
def test_tiny_model_dir_is_a_small_encoder_checkpoint(tiny_dirs, family):
    files = {p.name: p.stat().st_size for p in tiny_dirs[family].iterdir()}
    assert set(files) == {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}
    assert sum(files.values()) < 3_000_000
    config = json.loads((tiny_dirs[family] / "config.json").read_text())
    assert config["architectures"] == ["BertModel" if family == "bert" else "RobertaModel"]
    assert "id2label" not in config  # no head, no labels: a plain encoder
    assert not any(name.startswith("pooler") for name in load_file(tiny_dirs[family] / "model.safetensors"))
    assert not [p for p in tiny_dirs[family].parent.iterdir() if p.name.startswith(".")]  # no temporary left


@pytest.mark.parametrize("family", random_models.FAMILIES)
def test_tiny_model_tokenizer_maps_every_word(tiny_dirs, family):
    tokenizer = load_tokenizer(str(tiny_dirs[family]))
    assert isinstance(tokenizer, PreTrainedTokenizerBase) and tokenizer.is_fast
    assert is_byte_level(tokenizer) is (family == "roberta")
    assert tokenizer.model_max_length == 512
    encoding = tokenizer(TEST_WORDS, is_split_into_words=True)
    word_ids = encoding.word_ids()
    special = {tokenizer.cls_token_id, tokenizer.sep_token_id}  # (an unknown word is [UNK], a word)
    for token_id, word_id in zip(encoding["input_ids"], word_ids):
        assert (word_id is None) == (token_id in special)
    assert word_ids[0] is None and word_ids[-1] is None
    assert sorted(set(w for w in word_ids if w is not None)) == list(range(len(TEST_WORDS)))
    # Some words do split into several sub-words.
    assert word_ids.count(TEST_WORDS.index("Nairobian")) > 1  # not a training word
    assert len(word_ids) > len(TEST_WORDS) + 2


def test_bert_tokenizer_is_cased_and_keeps_accents(tiny_dirs):
    tokenizer = load_tokenizer(str(tiny_dirs["bert"]))
    assert tokenizer.tokenize("Zürich") == ["Zürich"]
    assert tokenizer.tokenize("zürich") != ["Zürich"]
    assert tokenizer.tokenize("東京") == ["東", "京"]  # Chinese characters are split


def test_roberta_split_words_are_tokenized_with_a_prefix_space(tiny_dirs):
    tokenizer = load_tokenizer(str(tiny_dirs["roberta"]))
    assert tokenizer.add_prefix_space
    ids = tokenizer(["Hello", "world"], is_split_into_words=True)["input_ids"]
    assert ids[1:-1] == tokenizer(" Hello world", add_special_tokens=False)["input_ids"]
    assert ids[2:-1] == tokenizer(" world", add_special_tokens=False)["input_ids"]
    assert tokenizer.convert_ids_to_tokens(ids[2:-1]) == ["Ġworld"]


def test_a_roberta_tokenizer_saved_without_prefix_space_is_reloaded_with_it(tiny_dirs, tmp_path):
    shutil.copytree(tiny_dirs["roberta"], tmp_path, dirs_exist_ok=True)
    config_file = tmp_path / "tokenizer_config.json"
    config = json.loads(config_file.read_text())
    config["add_prefix_space"] = False
    config_file.write_text(json.dumps(config))
    plain = AutoTokenizer.from_pretrained(tmp_path)
    assert not plain.add_prefix_space  # transformers alone would tokenize "world" without its space
    assert plain(["world"], is_split_into_words=True).tokens()[1:-1] != ["Ġworld"]
    tokenizer = load_tokenizer(str(tmp_path))
    assert tokenizer.add_prefix_space and type(tokenizer).__name__ == "RobertaTokenizer"
    assert tokenizer(["Hello", "world"], is_split_into_words=True).tokens()[1:-1] == ["ĠHello", "Ġworld"]


def test_generic_byte_level_tokenizer_gets_a_prefix_space(tmp_path):
    """A byte-level backend in a Sequence, saved with a generic class that ignores add_prefix_space."""
    backend = Tokenizer(tokenizer_models.BPE())
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator([" ".join(s) for s in SENTENCES], trainer=trainer)
    PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<|endoftext|>").save_pretrained(tmp_path)
    tokenizer = load_tokenizer(str(tmp_path))
    assert is_byte_level(tokenizer)
    encoding = tokenizer(["Hello", "world"], is_split_into_words=True)
    tokens, word_ids = encoding.tokens(), encoding.word_ids()
    assert tokens == tokenizer.tokenize(" Hello world")
    first_tokens = [tokens[word_ids.index(i)] for i in range(2)]
    assert all(token.startswith("Ġ") for token in first_tokens), tokens


@pytest.mark.parametrize("family", random_models.FAMILIES)
def test_loaded_tiny_model_classifies_a_padded_batch(tiny_dirs, family):
    tokenizer = load_tokenizer(str(tiny_dirs[family]))
    model = load_model(str(tiny_dirs[family]))
    assert model.config.num_labels == len(LABELS) == 7
    assert model.config.id2label == ID2LABEL
    assert model.config.label2id == {label: i for i, label in enumerate(LABELS)}
    batch = tokenizer(
        [TEST_WORDS, ["Hello"], ["Paris", "(", "France", ")"]],
        is_split_into_words=True,
        padding=True,
        return_tensors="pt",
    )
    assert (batch["attention_mask"] == 0).any()
    model.eval()
    with torch.no_grad():
        logits = model(**batch).logits
    assert logits.shape == (3, batch["input_ids"].shape[1], 7)
    assert torch.isfinite(logits).all()


def test_tiny_models_are_deterministic(tmp_path):
    settings = TinyModelSettings(family="roberta", vocab_size=400, seed=5)
    rng_state = torch.get_rng_state()
    for name in ("a", "b"):
        build_tiny_model(SENTENCES, tmp_path / name, settings)
    build_tiny_model(SENTENCES, tmp_path / "c", TinyModelSettings(family="roberta", vocab_size=400, seed=6))
    assert torch.equal(torch.get_rng_state(), rng_state)  # the global generator is untouched
    a, b, c = (load_file(tmp_path / name / "model.safetensors") for name in "abc")
    assert a.keys() == b.keys() == c.keys()
    assert all(torch.equal(a[key], b[key]) for key in a)
    assert not all(torch.equal(a[key], c[key]) for key in a)
    vocabularies = [load_tokenizer(str(tmp_path / name)).get_vocab() for name in "abc"]
    assert vocabularies[0] == vocabularies[1] == vocabularies[2]
    assert (tmp_path / "a" / "tokenizer.json").read_bytes() == (
        tmp_path / "b" / "tokenizer.json"
    ).read_bytes()


def pseudo_word_sentences(n: int, seed: int) -> list[list[str]]:
    """Sentences of many distinct pseudo-words, enough to fill a vocabulary of a few hundred tokens."""
    rng = random.Random(seed)
    syllables = ["ka", "to", "ri", "mba", "shu", "le", "ön", "ße", "ny", "gwa", "ил", "на", "de", "ra"]
    words = ["".join(rng.choice(syllables) for _ in range(rng.randint(1, 5))) for _ in range(3000)]
    return [[rng.choice(words) for _ in range(rng.randint(3, 20))] for _ in range(n)]


@pytest.mark.parametrize("family", random_models.FAMILIES)
def test_tokenizer_training_is_deterministic_and_fills_the_vocabulary(family):
    sentences = pseudo_word_sentences(1000, seed=0)
    runs = [train_tokenizer(sentences, family, 500) for _ in range(3)]
    runs.append(train_tokenizer(iter(sentences[::-1]), family, 500))  # order does not matter, only counts
    assert all(run.get_vocab() == runs[0].get_vocab() for run in runs)
    assert all(run.backend_tokenizer.to_str() == runs[0].backend_tokenizer.to_str() for run in runs)
    assert len(runs[0]) == 500
    assert (
        train_tokenizer(pseudo_word_sentences(1000, seed=1), family, 500).get_vocab() != runs[0].get_vocab()
    )


def test_wordpiece_merges_break_ties_by_the_smallest_pair():
    vocab = random_models._learn_wordpiece_vocab(Counter({"abab": 3, "ab": 2}), 100, ("[PAD]", "[UNK]"))
    # (a, ##b) occurs 5 times; then (##a, ##b) and (ab, ##a) both 3 times: "##a" < "ab".
    assert list(vocab) == ["[PAD]", "[UNK]", "##a", "##b", "a", "ab", "##ab", "abab"]
    assert list(vocab.values()) == list(range(8))
    assert len(random_models._learn_wordpiece_vocab(Counter({"abab": 3, "ab": 2}), 6, ())) == 6
    assert list(random_models._learn_wordpiece_vocab(Counter({"abab": 1}), 100, ())) == ["##a", "##b", "a"]


def test_build_replaces_an_existing_dir_and_leaves_nothing_on_failure(tmp_path, monkeypatch):
    out = tmp_path / "tiny"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    build_tiny_model(SENTENCES, out, TinyModelSettings(vocab_size=300))
    assert not (out / "stale.txt").exists() and (out / "model.safetensors").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny"]

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(PreTrainedTokenizerBase, "save_pretrained", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        build_tiny_model(SENTENCES, tmp_path / "other", TinyModelSettings(vocab_size=300))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny"]


@pytest.mark.parametrize(
    "kwargs",
    [{"family": "gpt"}, {"vocab_size": 100}, {"hidden_size": 63}, {"num_layers": 0}, {"seed": 1.5}],
)
def test_tiny_settings_are_checked(kwargs):
    with pytest.raises(ValueError):
        TinyModelSettings(**kwargs)


def test_tokenizer_needs_words():
    with pytest.raises(ValueError, match="no words"):
        train_tokenizer([[], []], "bert", 400)
    with pytest.raises(TypeError, match="lists of words"):
        train_tokenizer(["a sentence as a string"], "bert", 400)


# --------------------------------------------------------------------------- #
# Classification heads                                                         #
# --------------------------------------------------------------------------- #


def test_a_head_for_other_labels_is_replaced_with_a_warning(tmp_path, caplog):
    saved = save_token_classifier(tmp_path, ["O", "B-X", "I-X"])
    with caplog.at_level(logging.WARNING, logger="xner.models.loading"):
        model = load_model(str(tmp_path))
    assert model.config.num_labels == 7 and model.config.id2label == ID2LABEL
    assert model.classifier.weight.shape == (7, 16) and model.classifier.bias.shape == (7,)
    state = model.state_dict()
    encoder = [key for key in saved if key.startswith("bert.")]
    assert encoder and all(torch.equal(state[key], saved[key]) for key in encoder)
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name == "xner.models.loading"
    ]
    assert len(warnings) == 1 and "replaced" in warnings[0] and "3 labels" in warnings[0]


def test_a_same_size_head_for_other_labels_is_replaced(tmp_path, caplog):
    other = ["O", "B-PERSON", "I-PERSON", "B-ORGANIZATION", "I-ORGANIZATION", "B-LOCATION", "I-LOCATION"]
    saved = save_token_classifier(tmp_path, other)
    with caplog.at_level(logging.WARNING, logger="xner.models.loading"):
        model = load_model(str(tmp_path), seed=0)
    assert not torch.equal(model.classifier.weight, saved["classifier.weight"])
    assert torch.count_nonzero(model.classifier.bias) == 0
    assert 0.005 < model.classifier.weight.std().item() < 0.05  # normal(0, initializer_range = 0.02)
    assert torch.equal(
        model.bert.embeddings.word_embeddings.weight, saved["bert.embeddings.word_embeddings.weight"]
    )
    warnings = [r.getMessage() for r in caplog.records if r.name == "xner.models.loading"]
    assert any("replaced" in message and "B-PERSON" in message for message in warnings)


def test_a_head_for_our_labels_in_another_order_is_reordered(tmp_path):
    shuffled = list(reversed(LABELS))
    saved = save_token_classifier(tmp_path, shuffled)
    model = load_model(str(tmp_path))
    for i, label in enumerate(LABELS):
        j = shuffled.index(label)
        assert torch.equal(model.classifier.weight[i], saved["classifier.weight"][j])
        assert torch.equal(model.classifier.bias[i], saved["classifier.bias"][j])


def test_a_fine_tuned_xner_model_keeps_its_head(tiny_dirs, tmp_path, caplog):
    model = load_model(str(tiny_dirs["bert"]), seed=1)
    with torch.no_grad():
        model.classifier.bias.add_(1.0)
    model.save_pretrained(tmp_path)
    with caplog.at_level(logging.INFO, logger="xner.models.loading"):
        again = load_model(str(tmp_path))
    assert torch.equal(again.classifier.weight, model.classifier.weight)
    assert torch.equal(again.classifier.bias, model.classifier.bias)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.name == "xner.models.loading"]
    assert any("kept" in r.getMessage() for r in caplog.records)


def test_a_seeded_head_is_reproducible(tiny_dirs):
    rng_state = torch.get_rng_state()
    first, second = (load_model(str(tiny_dirs["bert"]), seed=3) for _ in range(2))
    third = load_model(str(tiny_dirs["bert"]), seed=4)
    assert torch.equal(torch.get_rng_state(), rng_state)
    assert torch.equal(first.classifier.weight, second.classifier.weight)
    assert not torch.equal(first.classifier.weight, third.classifier.weight)


@pytest.mark.parametrize("family", random_models.FAMILIES)
def test_from_scratch_is_the_architecture_without_its_weights(tiny_dirs, family):
    pretrained = load_model(str(tiny_dirs[family]), seed=1)
    scratch, again = (load_model(str(tiny_dirs[family]), seed=1, from_scratch=True) for _ in range(2))
    assert type(scratch) is type(pretrained) and scratch.config.id2label == pretrained.config.id2label
    ours, theirs, same = scratch.state_dict(), pretrained.state_dict(), again.state_dict()
    assert ours.keys() == theirs.keys()
    assert all(ours[k].shape == theirs[k].shape for k in ours)
    embeddings = next(k for k in ours if k.endswith("word_embeddings.weight"))
    assert not torch.allclose(ours[embeddings], theirs[embeddings])  # nothing of the checkpoint is loaded
    assert all(torch.equal(ours[k], same[k]) for k in ours)  # drawn from the seed alone


@pytest.mark.parametrize("family", random_models.FAMILIES)
def test_freeze_encoder_trains_only_the_head(tiny_dirs, family):
    torch.manual_seed(0)
    model = load_model(str(tiny_dirs[family]))
    assert count_parameters(model)[0] == count_parameters(model)[1]
    freeze_encoder(model)
    head = head_parameter_names(model)
    assert head == ["classifier.weight", "classifier.bias"]
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == set(head)
    head_size = sum(p.numel() for name, p in model.named_parameters() if name in head)
    assert head_size == 7 * 64 + 7
    assert count_parameters(model) == (head_size, sum(p.numel() for p in model.parameters()))

    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model.train()
    input_ids = torch.randint(5, model.config.vocab_size, (4, 9))
    labels = torch.randint(0, 7, (4, 9))
    attention_mask = torch.ones_like(input_ids)
    attention_mask[0, 6:] = 0
    loss = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels).loss
    loss.backward()
    optimizer.step()
    for name, p in model.named_parameters():
        if name in head:
            assert not torch.equal(p, before[name]), name
        else:
            assert torch.equal(p, before[name]), name
            assert p.grad is None, name


# --------------------------------------------------------------------------- #
# Errors                                                                       #
# --------------------------------------------------------------------------- #


def test_missing_local_paths_are_user_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for load in (load_model, load_tokenizer):
        for path in ("/no/such/dir", str(tmp_path / "missing"), "./not/here", tmp_path / "missing"):
            with pytest.raises(XnerError, match="no such directory") as info:
                load(path)
            assert str(path) in str(info.value)
    (tmp_path / "empty").mkdir()
    (tmp_path / "file.bin").write_bytes(b"")
    for load in (load_model, load_tokenizer):
        with pytest.raises(XnerError, match="the directory holds no model") as info:
            load(str(tmp_path / "empty"))
        assert str(tmp_path / "empty") in str(info.value) and "\n" not in str(info.value)
        with pytest.raises(XnerError, match="is a file"):
            load(str(tmp_path / "file.bin"))


def test_slow_tokenizers_are_refused(tiny_dirs, monkeypatch):
    class Slow:
        is_fast = False

    monkeypatch.setattr(models.AutoTokenizer, "from_pretrained", lambda *args, **kwargs: Slow())
    with pytest.raises(XnerError, match="not a fast tokenizer"):
        load_tokenizer(str(tiny_dirs["bert"]))


def test_uncached_hub_ids_offline_are_user_errors(tmp_path):
    """HF_HUB_OFFLINE is read when huggingface_hub is imported, hence a fresh interpreter."""
    script = textwrap.dedent(
        """
        import sys
        from xner.errors import XnerError
        from xner.models.loading import load_model, load_tokenizer
        for load in (load_model, load_tokenizer):
            for path in ("xner-test/no-such-model", "/no/such/dir"):
                try:
                    load(path)
                except XnerError as error:
                    print(type(error).__name__, error)
                else:
                    sys.exit(f"{load.__name__}({path!r}) did not fail")
        """
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "workflow"),
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "hf"),
    }
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 4 and all(line.startswith("XnerError ") for line in lines)
    hub = [line for line in lines if "xner-test/no-such-model" in line]
    assert len(hub) == 2 and all("hf download xner-test/no-such-model" in line for line in hub)
    assert all("models.NAME" in line for line in hub)


# --------------------------------------------------------------------------- #
# Round trip through save_pretrained and a transformers pipeline               #
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("family", random_models.FAMILIES)
def test_saved_model_works_in_a_pipeline(tiny_dirs, tmp_path, family):
    model = load_model(str(tiny_dirs[family]), seed=0)
    tokenizer = load_tokenizer(str(tiny_dirs[family]))
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    reloaded = AutoModelForTokenClassification.from_pretrained(tmp_path)
    assert reloaded.config.id2label == ID2LABEL
    assert all(torch.equal(a, b) for a, b in zip(reloaded.state_dict().values(), model.state_dict().values()))
    tagger = pipeline(
        "token-classification", model=reloaded, tokenizer=load_tokenizer(str(tmp_path)), ignore_labels=[]
    )
    predictions = tagger("Hello world , Müller in Zürich")
    assert len(predictions) >= 6 and all(p["entity"] in LABELS for p in predictions)
