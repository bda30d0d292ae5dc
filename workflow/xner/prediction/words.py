"""Raw text into words with their character offsets: the word tokenizers of ``xner predict``.

Each tokenizer (:data:`TOKENIZERS`) turns one line into words, each a
``(start, end)`` span of the line (end exclusive), so that a word is always
``line[start:end]`` and an entity's text is the line sliced by its offsets:

- ``xner`` (the default): Unicode-aware rules close to PAN-X's own tokenization
  of Wikipedia text. Punctuation is split off words (``Norwegen.`` is
  ``Norwegen`` and ``.``) except where it belongs to them: URLs and e-mail
  addresses, abbreviations of several letters (``U.S.``, ``d.h.``), known
  abbreviations and initials before a word (the Moses non-breaking prefixes of
  the language and of English: ``St. Louis``, ``J. Smith``), numbers (``3.5``,
  ``1,000``, ``6–4``, ``1848–49-es``), ordinals in languages that write them
  with a period (``II. Károly``, ``2006. évi``), hyphens and apostrophes inside a word (``Jean-Luc``,
  ``O'Brien``, ``d'Italia``) and a hyphen that ends one (``Ein- und``), with the English clitics (``'s``, ``n't``, ``'re``...) split
  off and an abbreviation's period at the end of a sentence a word, as PAN-X
  does (after the Penn Treebank). Combining marks stay with their base character (Devanagari vowel
  signs, Arabic vowel marks, decomposed accents); Chinese and Japanese
  characters are a word each (as in PAN-X's zh and ja); a run of one
  punctuation character (``''``, ``...``, ``**``) is one word.
- ``moses``: the Moses tokenizer (sacremoses, ``escape=False``) for the
  language, its words aligned back to the line.
- ``punctuation``: every punctuation character a word of its own.
- ``whitespace``: words split on whitespace only.

The choice of the default was measured against PAN-X's tokens
(``xner bench-rawtext``; the table in docs/prediction.md, "What raw text costs").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence

import regex

from xner.errors import XnerError

TOKENIZERS: tuple[str, ...] = ("xner", "moses", "punctuation", "whitespace")
DEFAULT_TOKENIZER = "xner"
DEFAULT_LANG = "en"  # the abbreviations of the Moses tokenizer where no language is given

Span = tuple[int, int]

WHITESPACE = re.compile(r"\S+")
PUNCTUATION = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*|[^\w\s]|_+")

_WORD = r"[\p{L}\p{N}][\p{L}\p{M}\p{N}]*"
XNER = regex.compile(
    rf"""
    (?P<url>(?:[a-zA-Z][a-zA-Z0-9+.\-]*://|www\.)\S+?(?=[.,;:!?)\]}}'"’”»]*(?:\s|$)))
  | (?P<email>[\p{{L}}\p{{N}}._%+\-]+@[\p{{L}}\p{{N}}\-]+(?:\.[\p{{L}}\p{{N}}\-]+)+)
  | (?P<elision>(?<!\S)['’]\p{{L}}{{1,2}}(?=\s))
  | (?P<cjk>[\p{{Han}}\p{{Hiragana}}\p{{Katakana}}]\p{{M}}*)
  | (?P<abbreviation>(?:\p{{L}}\p{{M}}*\.){{2,}})
  | (?P<number>\p{{N}}+(?:[.,:/\-–]\p{{N}}+)+[\p{{L}}\p{{M}}]*(?:-[\p{{L}}\p{{M}}]+)*(?:[\-–](?=[\s),;]|$))?)
  | (?P<word>{_WORD}(?:[\-'’‐·]{_WORD})*(?:[\-–](?=[\s),;]|$))?)
  | (?P<punctuation>(?P<mark>[^\p{{L}}\p{{N}}\p{{M}}\s])\p{{M}}*(?:(?P=mark)\p{{M}}*)*)
  | (?P<other>\S\p{{M}}*)
    """,
    regex.VERBOSE,
)
# don't -> do n't, John's -> John 's, they're -> they 're (PAN-X, as the Penn Treebank)
CLITIC = regex.compile(r"(?:n['’]t|['’](?:[sSdm]|re|ve|ll))$")
# Wikipedia's bold markup (three apostrophes) and bold italics (five) as PAN-X splits them, opening and closing
APOSTROPHES = {3: ((1, 2), (2, 1)), 5: ((2, 1, 2), (2, 1, 2))}
# Languages that write ordinals with a period (1. FC, II. Károly, 2006. évi): the period stays with them.
ORDINAL_LANGS = frozenset(
    {"cs", "da", "de", "et", "fi", "hr", "hu", "is", "lv", "nb", "nn", "no", "sk", "sl", "sr", "tr"}
)
ORDINAL = regex.compile(r"\p{Nd}+|[IVXLCDM]+")
PREFIX_LANGS = {"af": "nl"}  # a language without Moses prefixes: the closest one's


@functools.cache
def _prefixes(lang: str) -> frozenset[str]:
    """The words that a period does not end (Moses non-breaking prefixes) in ``lang``, else in English."""
    from sacremoses.corpus import NonbreakingPrefixes

    corpus = NonbreakingPrefixes()
    lang = PREFIX_LANGS.get(lang, lang)
    known = {lang if lang in corpus.available_langs else DEFAULT_LANG, DEFAULT_LANG}
    return frozenset(w for k in known for w in corpus.words(k) if not w.startswith("#") and " " not in w)


def xner_words(line: str, lang: str | None = None) -> list[Span]:
    """The ``xner`` tokenizer's words of ``line``."""
    prefixes = _prefixes(lang or DEFAULT_LANG)
    found: list[Span] = []
    for m in XNER.finditer(line):
        start, end = m.span()
        kind = m.lastgroup
        if kind == "word":
            after = line[end : end + 1]
            ordinal = lang in ORDINAL_LANGS and ORDINAL.fullmatch(m.group())
            if after == "." and (m.group() in prefixes or ordinal) and line[end + 1 :].strip():
                found.append((start, end + 1))  # St. Louis; J. Smith (the period is then not matched again)
                continue
            clitic = CLITIC.search(m.group())
            if clitic and clitic.start() > 0:
                found += [(start, start + clitic.start()), (start + clitic.start(), end)]
                continue
        if found and found[-1][1] > start:
            continue  # the period already taken by an abbreviation
        if kind == "abbreviation" and not line[end:].strip(_CLOSING):
            found += [(start, end - 1), (end - 1, end)]  # at the end of a sentence: D.C . (the Penn Treebank)
            continue
        text = m.group()
        if kind == "punctuation" and len(text) in APOSTROPHES and set(text) == {"'"}:
            opening = start == 0 or line[start - 1].isspace()
            for size in APOSTROPHES[len(text)][0 if opening else 1]:
                found.append((start, start + size))
                start += size
            continue
        found.append((start, end))
    return found


_CLOSING = " \t\u00a0\"'’”»)]"


def _moses_tokens(line: str, lang: str | None) -> list[str]:
    return _moses(lang or DEFAULT_LANG).tokenize(line, escape=False)


@functools.cache
def _moses(lang: str):
    from sacremoses import MosesTokenizer

    return MosesTokenizer(lang=lang)


def align(line: str, tokens: Sequence[str]) -> list[Span]:
    """Each token's span in ``line``, in order: where it occurs next, else over the characters it shares.

    A tokenizer may drop or change characters (Moses removes control characters
    and splits a combining mark off its letter): a token not found as it is
    spans the characters of it found next in the line; one of which none is
    found is dropped. Spans never overlap and follow the tokens' order; a word
    that begins with a combining mark, or a letter after one, is merged into the word it touches.
    """
    spans: list[Span] = []
    cursor = 0
    for token in tokens:
        at = line.find(token, cursor)
        if token and at >= 0 and not line[cursor:at].strip():
            spans.append((at, at + len(token)))
            cursor = at + len(token)
            continue
        first = last = None
        position = cursor
        for char in token:
            found = line.find(char, position)
            if found < 0:
                continue
            first = found if first is None else first
            last = found
            position = found + 1
        if first is not None and last is not None:
            spans.append((first, last + 1))
            cursor = last + 1
    return _join_marks(line, spans)


def _join_marks(line: str, spans: list[Span]) -> list[Span]:
    """Spans of combining marks alone merged with the span they touch (``e`` + U+0301 is one letter)."""
    joined: list[Span] = []
    for start, end in spans:
        touching = bool(joined) and joined[-1][1] == start
        if touching and (_is_mark(line[start]) or (_is_mark(line[start - 1]) and line[start].isalnum())):
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    return joined


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def moses_words(line: str, lang: str | None = None) -> list[Span]:
    """The Moses tokenizer's words of ``line``, aligned back to it."""
    return align(line, _moses_tokens(line, lang))


def _regex_words(pattern: re.Pattern) -> Callable[[str, str | None], list[Span]]:
    def words(line: str, lang: str | None = None) -> list[Span]:
        return [m.span() for m in pattern.finditer(line)]

    return words


WORD_TOKENIZERS: dict[str, Callable[[str, str | None], list[Span]]] = {
    "xner": xner_words,
    "moses": moses_words,
    "punctuation": _regex_words(PUNCTUATION),
    "whitespace": _regex_words(WHITESPACE),
}


def word_spans(line: str, tokenizer: str = DEFAULT_TOKENIZER, lang: str | None = None) -> list[Span]:
    """The words of ``line`` as ``(start, end)`` spans, by ``tokenizer`` (one of :data:`TOKENIZERS`)."""
    try:
        words = WORD_TOKENIZERS[tokenizer]
    except KeyError:
        raise XnerError(f"unknown word tokenizer {tokenizer!r}; known: {', '.join(TOKENIZERS)}") from None
    return words(line, lang)
