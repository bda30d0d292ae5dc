"""xner.prediction.texts: the readers and writers on hand-made lines, and `xner predict` on a tiny model (the same
tags as its evaluation TSV; each bad input an error naming its file and line, and no output file)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from conftest import run_xner
from xner.errors import DataFormatError, XnerError
from xner.prediction.texts import (
    Sentence,
    entities,
    input_format,
    read_conll,
    read_jsonl,
    read_text,
    write_tsv,
)


def stream(text: str | bytes) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8") if isinstance(text, str) else text)


def test_raw_text_keeps_each_words_character_offsets():
    line = "Anna  Kowalski visited São Paulo.\tZürich 🙂"
    (sentence,) = read_text("in.txt", stream(line + "\n\n   \n"))  # blank lines are no sentences
    assert sentence.tokens == ["Anna", "Kowalski", "visited", "São", "Paulo", ".", "Zürich", "🙂"]
    assert [line[a:b] for a, b in sentence.offsets] == sentence.tokens
    assert (sentence.line, sentence.text) == (1, line)


def test_raw_text_split_on_whitespace_only_on_request():
    line = "Dr. O'Neill's car, in Baden-Württemberg (2024)!"
    (sentence,) = read_text("in.txt", stream(line), tokenizer="whitespace")
    assert sentence.tokens == ["Dr.", "O'Neill's", "car,", "in", "Baden-Württemberg", "(2024)!"]
    (sentence,) = read_text("in.txt", stream(line), tokenizer="punctuation")
    assert sentence.tokens == [
        "Dr", ".", "O'Neill's", "car", ",", "in", "Baden-Württemberg", "(", "2024", ")", "!",
    ]  # fmt: skip
    assert [line[a:b] for a, b in sentence.offsets] == sentence.tokens


def test_entities_of_raw_text_leave_the_punctuation_out():
    from xner.prediction.texts import entities

    line = "Barack Obama was born in Honolulu, Hawaii."
    (sentence,) = read_text("in.txt", stream(line))
    tags = ["O"] * len(sentence.tokens)
    for word, tag in (("Honolulu", "B-LOC"), ("Hawaii", "B-LOC")):
        tags[sentence.tokens.index(word)] = tag
    found = entities(sentence, tags, [1.0] * len(tags))
    assert [(e["text"], line[e["char_start"] : e["char_end"]]) for e in found] == [
        ("Honolulu", "Honolulu"),
        ("Hawaii", "Hawaii"),
    ]


def test_windows_line_endings_are_not_part_of_the_last_word():
    (sentence,) = read_text("in.txt", stream("Oslo Norway\r\n"))
    assert sentence.tokens == ["Oslo", "Norway"]


def test_conll_with_and_without_tags_and_the_evaluation_tsv():
    with_tags = list(read_conll("a.tsv", stream("Anna\tB-PER\nlives\tO\n\n\nOslo\tB-LOC\n")))
    assert [(s.line, s.tokens, s.gold) for s in with_tags] == [
        (1, ["Anna", "lives"], ["B-PER", "O"]),
        (5, ["Oslo"], ["B-LOC"]),
    ]
    (plain,) = read_conll("a.conll", stream("NA\nNone\n"))  # tokens, never missing values
    assert (plain.tokens, plain.gold) == (["NA", "None"], None)
    (evaluation,) = read_conll("en.tsv", stream("Anna\tB-PER\tO\n"))  # token, gold, pred
    assert evaluation.gold == ["B-PER"]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("Anna\tB-PER\n\tO\n", 2, "empty token"),
        ("Anna\tB-PER\nlives\n", 2, "1 column.s. where the lines before have 2"),
        ("Anna\tB-PERSON\n", 1, "unknown tag 'B-PERSON'"),
        ("a\tb\tc\td\n", 1, "expected token or token<TAB>tag; found 4 columns"),
    ],
)
def test_bad_conll_lines_are_named(text, line, message):
    with pytest.raises(DataFormatError, match=rf"bad.tsv, line {line}: {message}"):
        list(read_conll("bad.tsv", stream(text)))


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('{"tokens": ["a"]}\n{"words": ["b"]}\n', 2, 'expected an object with a non-empty "tokens" list'),
        ('{"tokens": ["a", 3]}\n', 1, '"tokens" must hold non-empty strings'),
        ('{"tokens": ["a"]}\n\n{"tokens": [\n', 3, "not JSON"),
        ("[1, 2]\n", 1, "expected an object"),
    ],
)
def test_bad_jsonl_lines_are_named(text, line, message):
    with pytest.raises(DataFormatError, match=rf"bad.jsonl, line {line}: {message}"):
        list(read_jsonl("bad.jsonl", stream(text)))


def test_jsonl_sentences():
    (sentence,) = read_jsonl("in.jsonl", stream('\n{"tokens": ["São", "Paulo"], "id": 7}\n'))
    assert (sentence.line, sentence.tokens) == (2, ["São", "Paulo"])


def test_invalid_utf8_is_named_by_line():
    with pytest.raises(DataFormatError, match=r"in.txt, line 2: not valid UTF-8"):
        list(read_text("in.txt", stream(b"fine\nbad \xff byte\n")))


def test_the_format_is_guessed_from_the_extension():
    assert input_format("a.txt", None) == "text" and input_format("a.tsv", None) == "conll"
    assert input_format("a.JSONL", None) == "jsonl" and input_format("-", None) == "text"
    assert input_format("a.data", "conll") == "conll"
    with pytest.raises(XnerError, match="a.data: cannot tell the input format .* --input-format"):
        input_format("a.data", None)


def test_entities_have_word_spans_text_offsets_and_scores():
    line = "Anna Kowalski visited São Paulo ."
    (sentence,) = read_text("in.txt", stream(line))
    tags = ["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "O"]
    found = entities(sentence, tags, [0.9, 0.7, 1.0, 0.6, 0.8, 1.0])
    assert found == [
        {"type": "PER", "start": 0, "end": 1, "text": "Anna Kowalski", "char_start": 0, "char_end": 13,
         "score": 0.8},
        {"type": "LOC", "start": 3, "end": 4, "text": "São Paulo", "char_start": 22, "char_end": 31,
         "score": 0.7},
    ]  # fmt: skip
    # strict IOB2: an I- that continues nothing is no entity; tokens joined by a space without a line
    plain = Sentence("in.jsonl", 1, ["New", "York", "x"])
    assert entities(plain, ["I-LOC", "O", "B-ORG"], [1, 1, 0.5]) == [
        {"type": "ORG", "start": 2, "end": 2, "text": "x", "score": 0.5}
    ]


def test_tsv_output_keeps_the_gold_column_where_there_is_one():
    out = io.StringIO()
    sentences = [Sentence("a", 1, ["Anna", "x"], gold=["B-PER", "O"]), Sentence("a", 4, ["Oslo"])]
    write_tsv(out, sentences, [["B-PER", "B-LOC"], ["O"]])
    assert out.getvalue() == "Anna\tB-PER\tB-PER\nx\tO\tB-LOC\n\nOslo\tO\n"


# --- xner predict on a tiny model ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory) -> Path:
    """A tiny model (random head) evaluated on demo sentences: its directory and the evaluation TSV."""
    import xner.models.loading
    from xner.evaluation.evaluate import evaluate_run
    from xner.io import sentences_table, write_parquet
    from xner.synthetic.models import TinyModelSettings, build_tiny_model
    from xner.synthetic.panx import generate_sentences

    root = tmp_path_factory.mktemp("predict")
    sentences = generate_sentences("en", "test", 80, seed=3)
    tokens = [[t for t, _ in s] for s in sentences]
    tags = [[g for _, g in s] for s in sentences]
    write_parquet({root / "en.parquet": sentences_table(list(range(len(tokens))), "en", tokens, tags)})
    build_tiny_model(tokens, root / "base", TinyModelSettings(seed=0))
    xner.models.loading.load_model(str(root / "base"), seed=1).save_pretrained(root / "model")
    xner.models.loading.load_tokenizer(str(root / "base")).save_pretrained(root / "model")
    info = {"model": "tiny", "train_langs": "en", "variant": "base"}
    evaluate_run(root / "model", {"en": root / "en.parquet"}, root / "evaluations", info=info, split="dev",
                 device="cpu", max_length=32, batch_size=16)  # fmt: skip
    return root


@pytest.mark.slow
def test_predict_gives_the_tags_of_the_evaluation_and_entities_of_them(evaluated):
    from xner.io import read_predictions_tsv

    tsv = evaluated / "evaluations" / "en.tsv"
    out = evaluated / "out.jsonl"
    result = run_xner(
        "predict",
        str(evaluated / "model"),
        str(tsv),
        "--output",
        str(out),
        "--max-length",
        "32",
        "--eval-batch-size",
        "16",
    )
    assert result.returncode == 0, result.stderr
    tokens, gold, pred = read_predictions_tsv(tsv)
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [i["tokens"] for i in items] == tokens and [i["gold"] for i in items] == gold
    assert [i["tags"] for i in items] == pred  # exactly the evaluation's predictions
    assert sum(len(i["entities"]) for i in items) > 0
    assert "80 sentences" in result.stderr
    # as TSV: the evaluation's layout, the same bytes
    again = run_xner(
        "predict",
        str(evaluated / "model"),
        str(tsv),
        "--output-format",
        "tsv",
        "--max-length",
        "32",
        "--eval-batch-size",
        "16",
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout == tsv.read_text(encoding="utf-8")


@pytest.mark.slow
def test_raw_text_from_stdin(evaluated):
    result = run_xner("predict", str(evaluated / "model"), input="Anna lives in Oslo .\n\nOslo !\n")
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert (first["line"], first["tokens"], second["line"]) == (1, ["Anna", "lives", "in", "Oslo", "."], 3)
    for entity in first["entities"]:
        assert "Anna lives in Oslo ."[entity["char_start"] : entity["char_end"]] == entity["text"]


@pytest.mark.slow
def test_a_run_directory_is_taken_for_its_model(evaluated):
    """The run's directory (results/runs/MODEL/LANGS/VARIANT) as the results show it, not only its model/."""
    line = "Anna lives in Oslo, Norway."
    result = run_xner("predict", str(evaluated), input=line + "\n")
    assert result.returncode == 0, result.stderr
    (item,) = (json.loads(text) for text in result.stdout.splitlines())
    assert item["tokens"] == ["Anna", "lives", "in", "Oslo", ",", "Norway", "."]
    assert all(line[e["char_start"] : e["char_end"]] == e["text"] for e in item["entities"])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.txt", b"ok\n\xfe\n", "bad.txt, line 2: not valid UTF-8"),
        ("bad.tsv", b"Anna\tB-PER\n\tO\n", "bad.tsv, line 2: empty token"),
        (
            "bad.jsonl",
            b'{"text": "Anna"}\n',
            'bad.jsonl, line 1: expected an object with a non-empty "tokens"',
        ),
    ],
)
def test_bad_input_is_named_and_nothing_is_written(evaluated, tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    out = tmp_path / "out.jsonl"
    result = run_xner("predict", str(evaluated / "model"), str(tmp_path / name), "--output", str(out))
    assert result.returncode == 1 and message in result.stderr
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_a_missing_model_directory_is_named(tmp_path):
    from xner.prediction.texts import predict_files

    with pytest.raises(XnerError, match="no-model'?: no such directory"):
        predict_files(tmp_path / "no-model", [])
    (tmp_path / "empty" / "model").mkdir(parents=True)
    with pytest.raises(XnerError, match="the directory holds no model") as error:
        predict_files(tmp_path / "empty", [])
    assert "hub" not in str(error.value)


@pytest.mark.slow
def test_the_transformers_pipeline_finds_the_same_entities(evaluated, tmp_path):
    """pipeline(aggregation_strategy="first") reads each word's first sub-token as xner does; it groups
    tags as the lenient mode does (an I- after O begins an entity), so xner's tags are read leniently here.
    Only sentences that the tokenizer's own pre-tokenizer splits into the same words can agree."""
    from transformers import pipeline

    from xner.evaluation.spans import spans
    from xner.io import read_predictions_tsv
    from xner.models.loading import load_tokenizer
    from xner.prediction.texts import predict_files

    tokens, _, _ = read_predictions_tsv(evaluated / "evaluations" / "en.tsv")
    pre_tokenize = load_tokenizer(str(evaluated / "model")).backend_tokenizer.pre_tokenizer.pre_tokenize_str
    lines = [" ".join(words) for words in tokens if [w for w, _ in pre_tokenize(" ".join(words))] == words]
    assert len(lines) > 40
    (tmp_path / "in.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    predict_files(
        evaluated / "model", [str(tmp_path / "in.txt")], output=tmp_path / "out.jsonl", tokenizer="whitespace"
    )
    items = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]

    tagger = pipeline("token-classification", model=str(evaluated / "model"), aggregation_strategy="first")
    found = 0
    for line, item in zip(lines, items):
        words = [(m.start(), m.end()) for m in re.finditer(r"\S+", line)]
        ours = sorted((t, words[a][0], words[b][1]) for t, a, b in spans(item["tags"], "lenient"))
        theirs = sorted((e["entity_group"], e["start"], e["end"]) for e in tagger(line))
        assert ours == theirs, line
        found += len(ours)
    assert found > 0
