"""The word tokenizers of raw text: words, and offsets that slice the line to each word."""

from __future__ import annotations

import pytest

from xner.errors import XnerError
from xner.prediction.words import TOKENIZERS, align, word_spans

LINES = [
    "Angela Merkel besuchte gestern die Universität Oslo in Norwegen.",
    "Barack Obama was born in Honolulu, Hawaii.",
    "Tabs\tand\u00a0non-breaking\u00a0spaces  around   Zürich\t",
    "Unive\u0301rsita\u0308t de Sa\u0303o Paulo (decomposed accents)",
    "北京大学位于中国北京市。東京タワーは日本にあります。",
    "وُلِدَ محمد صلاح في مصر، ويلعب لنادي ليفربول.",
    "नरेन्द्र मोदी भारत के प्रधानमंत्री हैं।",
    "Владимир Путин посетил Санкт-Петербург.",
    "Mwalimu Julius Nyerere alizaliwa Butiama, Tanganyika.",
    "🙂 emoji, ``quotes'' and ... ** marks ** \u200b zero-width",
]


@pytest.mark.parametrize("tokenizer", TOKENIZERS)
@pytest.mark.parametrize("line", LINES)
def test_words_are_the_line_sliced_by_their_offsets(tokenizer, line):
    spans = word_spans(line, tokenizer, "en")
    assert spans, line
    assert all(0 <= a < b <= len(line) for a, b in spans)
    assert all(b <= c for (_, b), (c, _) in zip(spans, spans[1:]))  # in order, never overlapping
    for a, b in spans:
        word = line[a:b]
        assert word.strip() == word and not any(c.isspace() for c in word), repr(word)


def words(line: str, tokenizer: str = "xner", lang: str | None = None) -> list[str]:
    return [line[a:b] for a, b in word_spans(line, tokenizer, lang)]


def test_the_default_tokenizer_splits_punctuation_off_words():
    assert words(LINES[0])[-2:] == ["Norwegen", "."]
    assert words(LINES[1]) == ["Barack", "Obama", "was", "born", "in", "Honolulu", ",", "Hawaii", "."]


def test_the_default_tokenizer_keeps_what_punctuation_belongs_to():
    line = "The U.S. envoy Jean-Luc O'Brien paid 3.5 % (1,000 km²) at https://example.org/a?b=1. St. Louis"
    assert words(line) == [
        "The", "U.S.", "envoy", "Jean-Luc", "O'Brien", "paid", "3.5", "%", "(", "1,000", "km²", ")", "at",
        "https://example.org/a?b=1", ".", "St.", "Louis",
    ]  # fmt: skip
    assert words("He didn't see John's car on 6–4 e-mail x@y.org") == [
        "He", "did", "n't", "see", "John", "'s", "car", "on", "6–4", "e-mail", "x@y.org",
    ]  # fmt: skip
    assert words("``Gold Digger'' (2005)...") == ["``", "Gold", "Digger", "''", "(", "2005", ")", "..."]
    assert words("tussen Minnaar- en Visagiestraat (1949–)", lang="af") == [
        "tussen", "Minnaar-", "en", "Visagiestraat", "(", "1949–", ")",
    ]  # fmt: skip


def test_the_default_tokenizer_in_other_scripts():
    assert words(LINES[3])[:4] == ["Unive\u0301rsita\u0308t", "de", "Sa\u0303o", "Paulo"]
    assert words("北京大学。")[:4] == ["北", "京", "大", "学"]  # a word each, as PAN-X's zh
    assert words(LINES[5])[:3] == ["وُلِدَ", "محمد", "صلاح"] and "،" in words(LINES[5])
    assert words(LINES[6]) == ["नरेन्द्र", "मोदी", "भारत", "के", "प्रधानमंत्री", "हैं", "।"]
    assert words(LINES[7]) == ["Владимир", "Путин", "посетил", "Санкт-Петербург", "."]


def test_abbreviations_follow_the_language():
    assert words("Er wohnt z.B. in Haus Nr. 5 in Bonn.", lang="de")[2:7] == ["z.B.", "in", "Haus", "Nr.", "5"]
    assert words("Der 1. FC Köln", lang="de") == ["Der", "1.", "FC", "Köln"]  # an ordinal in German
    assert words("Der 1. FC Köln", lang="en") == ["Der", "1", ".", "FC", "Köln"]
    line = "A 2006. évi olimpián II. Károly, 1848–49-es forradalom."
    assert words(line, lang="hu") == [
        "A", "2006.", "évi", "olimpián", "II.", "Károly", ",", "1848–49-es", "forradalom", ".",
    ]  # fmt: skip


def test_moses_words_are_aligned_back_to_the_line():
    line = "Unive\u0301rsität\tOslo,\u00a0Norge."
    assert words(line, "moses") == ["Unive\u0301rsität", "Oslo", ",", "Norge", "."]


def test_align_finds_tokens_that_were_changed():
    line = "a\x01b c"  # a tokenizer that drops the control character
    assert align(line, ["ab", "c"]) == [(0, 3), (4, 5)]
    assert align("x y", ["x", "??", "y"]) == [(0, 1), (2, 3)]


def test_whitespace_and_an_unknown_tokenizer():
    assert words(LINES[1], "whitespace")[-2:] == ["Honolulu,", "Hawaii."]
    with pytest.raises(XnerError, match="unknown word tokenizer 'spacy'"):
        word_spans("x", "spacy")
