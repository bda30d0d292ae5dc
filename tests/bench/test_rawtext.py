"""xner.bench.rawtext: PAN-X sentences as plain lines, the equality of words, F1 by character span.

No test here asserts a time or a score of a real model: `make bench-rawtext` measures those.
"""

from __future__ import annotations

import json

import pytest

from conftest import run_xner
from xner.bench.rawtext import bench_language, char_entities, detokenize, micro, raw_lines, unreachable

TOKENS = ["Barack", "Obama", "was", "born", "in", "Honolulu", ",", "Hawaii", "."]
TAGS = ["B-PER", "I-PER", "O", "O", "O", "B-LOC", "O", "B-LOC", "O"]


def test_a_sentence_becomes_the_line_a_user_would_write():
    assert detokenize(TOKENS, "en") == "Barack Obama was born in Honolulu, Hawaii."
    (raw,) = raw_lines([TOKENS], [TAGS], "en")
    assert [raw.line[a:b] for a, b in raw.token_spans] == TOKENS
    assert char_entities(TAGS, raw.token_spans) == {("PER", 0, 12), ("LOC", 25, 33), ("LOC", 35, 41)}


def test_entities_are_matched_by_type_and_character_span():
    gold = [{("PER", 0, 12), ("LOC", 25, 33)}, set()]
    pred = [{("PER", 0, 12), ("LOC", 25, 34)}, {("ORG", 1, 2)}]
    scores = micro(gold, pred)
    assert (scores["precision"], scores["recall"], scores["support"]) == (1 / 3, 1 / 2, 2)
    assert scores["f1"] == pytest.approx(0.4)
    assert micro([set()], [set()])["f1"] == 0.0


def test_an_entity_inside_a_word_cannot_be_found():
    line = "in Honolulu, Hawaii."
    whitespace = [(0, 2), (3, 12), (13, 20)]  # "Honolulu," and "Hawaii." hold the punctuation
    gold = {("LOC", 3, 11), ("LOC", 13, 19)}
    assert unreachable(gold, whitespace) == 2
    assert unreachable(gold, [(0, 2), (3, 11), (11, 12), (13, 19), (19, 20)]) == 0
    assert line[3:11] == "Honolulu"


def sample_split(panx_dir, tmp_path, lang: str = "en", sentences: int = 200):
    """The first sentences of a real test split, as a PAN-X directory of their own."""
    text = (panx_dir / "xtreme" / f"test-{lang}.tsv").read_text(encoding="utf-8")
    (tmp_path / "xtreme").mkdir(parents=True)
    path = tmp_path / "xtreme" / f"test-{lang}.tsv"
    path.write_text("\n\n".join(text.split("\n\n")[:sentences]), encoding="utf-8")
    return path


@pytest.mark.realdata
def test_words_of_real_sentences_against_panx_tokens(panx_dir, tmp_path):
    result = bench_language("en", sample_split(panx_dir, tmp_path), ["xner", "moses", "whitespace"])
    shares = {name: entry["equal"] for name, entry in result["tokenizers"].items()}
    assert result["sentences"] == 200
    assert shares["xner"] > shares["moses"] > shares["whitespace"]  # measured: 90 %, 67 %, 25 % on all
    assert all(len(entry["differences"]) <= 8 for entry in result["tokenizers"].values())


@pytest.mark.slow
@pytest.mark.realdata
def test_the_benchmark_with_a_run_on_a_small_sample(panx_dir, tmp_path):
    """`xner bench-rawtext --run` on 40 real sentences, with a tiny model given as its run directory:
    with PAN-X's tokens, F1 by character span is F1 on words."""
    import xner.models.loading
    from xner.synthetic.models import TinyModelSettings, build_tiny_model

    sample_split(panx_dir, tmp_path / "panx", "de", 40)
    split = (tmp_path / "panx" / "xtreme" / "test-de.tsv").read_text(encoding="utf-8")
    words = [[row.split("\t")[0] for row in s.splitlines()] for s in split.split("\n\n")]
    build_tiny_model(words, tmp_path / "base", TinyModelSettings(seed=0))
    run = tmp_path / "runs" / "tiny" / "de" / "seed1"
    xner.models.loading.load_model(str(tmp_path / "base"), seed=1).save_pretrained(run / "model")
    xner.models.loading.load_tokenizer(str(tmp_path / "base")).save_pretrained(run / "model")
    result = run_xner(
        "bench-rawtext", "--panx-dir", str(tmp_path / "panx"), "--test-lang", "de", "--run", str(run),
        "--sample", "30", "--out", str(tmp_path / "out"), "--device", "cpu", "--max-length", "64",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "out" / "rawtext.json").read_text(encoding="utf-8"))
    (lang,) = data["languages"]
    assert (lang["lang"], lang["sentences"], lang["f1_sentences"]) == ("de", 40, 30)
    assert lang["PAN-X tokens"]["f1_by_characters"] == pytest.approx(lang["PAN-X tokens"]["f1"])
    assert set(lang["tokenizers"]) == {"xner", "moses", "punctuation", "whitespace"}
    table = (tmp_path / "out" / "rawtext.md").read_text(encoding="utf-8")
    assert "| de | 40 |" in table and "| de | 30 |" in table and "inside a word" in table
    unequal = lang["tokenizers"]["whitespace"]["unequal"]
    assert unequal["sentences"] > 0 and unequal["unreachable"] <= unequal["gold_entities"]
