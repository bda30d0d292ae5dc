"""Synthetic PAN-X data for xner's offline demo and tests.

This module writes a small, deterministic stand-in for the upstream archive of
Rahimi et al. (2019), in exactly its raw format, so that the real download and
parse code can read it:

* an uncompressed tar ``panx_dataset.tar`` holding one member ``{lang}.tar.gz``
  per language at its root;
* each ``{lang}.tar.gz`` (gzip) holds the members ``dev``, ``extra``, ``test``
  and ``train`` at its root (``extra`` is not a split: a few sentences, as in
  the real archives of some languages);
* each member is UTF-8 text with one word per line, ``{lang}:{token}\\t{tag}``,
  one blank line between sentences and a final newline after the last word.

The sentences are meant to be learnable by a small model, with visible but
imperfect transfer between languages. Each language has its own context words
(small hand-written lists for en, de and sw; pseudo-words built from a
language-specific syllable inventory for every other language), while entity
names come from lists shared across languages, with per-language variants and
some local names. Entities come with cues (titles before persons, prepositions
before places, suffixes such as ``Inc.``, ``GmbH`` or ``FC`` inside
organisations), but not always. About a third of the sentences are short
fragments that are mostly an entity (``Paris , France``), as in PAN-X; the rest
are template sentences with 0-3 entities (more in long ones) and a long-tailed length distribution,
including a few sentences of more than 110 words. Awkward but legal tokens
(``NA``, ``None``, ``null``, ``N/A``, ``::``, ``''``, ``3:15``, ...) appear now
and then, because readers must keep them exactly.

Everything is a pure function of the settings: ``random.Random`` is seeded with
strings (hashed with sha512, independent of ``PYTHONHASHSEED``) and the tar and
gzip headers carry no time, owner or file name.
"""

from __future__ import annotations

import gzip
import io
import logging
import random
import tarfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from xner.io import atomic_path
from xner.labels import PANX_SPLITS
from xner.synthetic.lexicons import Name, Profile, capitalize, check_language, language_profile

logger = logging.getLogger(__name__)

Token = tuple[str, str]
"""One word and its IOB2 tag."""
Sentence = list[Token]

# Sentences in the archive member ``extra`` of every language.
EXTRA_SENTENCES = 5
# Tokens that readers must keep exactly (not parse as missing values, numbers,
# quotes or separators). Each occurs at least once in any split of
# AWKWARD_GUARANTEE_MIN sentences or more, and now and then elsewhere.
MISSING_VALUES: tuple[str, ...] = ("NA", "None", "null", "nan", "N/A")
QUOTES: tuple[str, ...] = ('"', "'", "''")
AWKWARD_TOKENS: tuple[str, ...] = (*MISSING_VALUES, "#", *QUOTES, "3:15", "::", ":", "-")
AWKWARD_GUARANTEE_MIN = 200
# About this share of the sentences are fragments that are mostly an entity.
FRAGMENT_RATE = 0.38
# Template sentences longer than LONG_MIN words: about one in LONG_RATE, and at
# least one in any split of LONG_GUARANTEE_MIN sentences or more.
LONG_MIN = 111
LONG_RATE = 400
LONG_GUARANTEE_MIN = 1000


@dataclass(frozen=True)
class DemoSettings:
    """What :func:`write_panx_archive` writes: languages, sentences per split, seed."""

    languages: tuple[str, ...] = ("en", "de", "sw")
    train: int = 1500  # sentences per language and split
    dev: int = 500
    test: int = 500
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.languages, str):
            raise TypeError(
                f"DemoSettings.languages must be a sequence of codes, not the string {self.languages!r}"
            )
        object.__setattr__(self, "languages", tuple(self.languages))
        if not self.languages:
            raise ValueError("DemoSettings.languages is empty")
        for lang in self.languages:
            check_language(lang)
        duplicates = sorted({lang for lang in self.languages if self.languages.count(lang) > 1})
        if duplicates:
            raise ValueError(f"DemoSettings.languages lists {', '.join(duplicates)} more than once")
        for split in PANX_SPLITS:
            count = getattr(self, split)
            if not isinstance(count, int) or count < 1:
                raise ValueError(
                    f"DemoSettings.{split} must be a positive number of sentences, not {count!r}"
                )

    def split_sizes(self) -> dict[str, int]:
        """Sentences per archive member, in the (sorted) order they are written."""
        return {"dev": self.dev, "extra": EXTRA_SENTENCES, "test": self.test, "train": self.train}


DEFAULT_SETTINGS = DemoSettings()


# --------------------------------------------------------------------------- #
# Entities and phrases.                                                        #
# --------------------------------------------------------------------------- #


def _tagged(tokens: Sequence[str], etype: str | None) -> Sentence:
    """Tag tokens as one entity of type ``etype`` (IOB2), or all O when ``etype`` is None."""
    if etype is None:
        return [(token, "O") for token in tokens]
    return [(token, ("B-" if i == 0 else "I-") + etype) for i, token in enumerate(tokens)]


def _fill(pattern: str, base: Name) -> list[str]:
    return [token for part in pattern.split() for token in (base if part == "{}" else (part,))]


def _person(rng: random.Random, p: Profile) -> list[str]:
    """1-3 tokens: a surname, a first name and surname, or with a second name or particle."""
    r = rng.random()
    last = rng.choice(p.surnames)
    if r < 0.2:
        return list(last)
    first = rng.choice(p.first_names)
    if r < 0.8:
        return [*first, *last][:3]
    middle = rng.choice(p.lex.particles) if rng.random() < 0.5 else rng.choice(p.first_names)[0]
    return [*first, middle, *last][:3]


def _location(rng: random.Random, p: Profile, kind: str | None = None) -> list[str]:
    """1-3 tokens: a city, a country, or a pattern such as "Lake Victoria" or "Mto Rufiji"."""
    kind = kind or rng.choices(("city", "country", "pattern"), weights=(45, 30, 25))[0]
    if kind == "city":
        return list(rng.choice(p.cities))
    if kind == "country":
        return list(rng.choice(p.countries))
    pattern = rng.choice(p.lex.loc_patterns)
    room = 3 - (len(pattern.split()) - 1)
    bases = [name for name in (*p.cities, *p.surnames) if len(name) <= room]
    return _fill(pattern, rng.choice(bases))


def _organisation(rng: random.Random, p: Profile) -> list[str]:
    """1-4 tokens: a known organisation, a club ("Sioux City Musketeers"), or a name with a suffix."""
    r = rng.random()
    if r < 0.3:
        return list(rng.choice(p.organisations))[:4]
    if r < 0.5:
        city = rng.choice([name for name in p.cities if len(name) <= 2])
        return [*city, *rng.choice(p.nicknames)]
    pattern = rng.choice(p.lex.org_patterns)
    room = 4 - (len(pattern.split()) - 1)
    bases = [name for name in (*p.cities, *p.surnames, *p.org_words) if len(name) <= room]
    base = rng.choice(bases)
    if len(base) < room and rng.random() < 0.2:
        base = (*rng.choice(p.org_words), *base)
    return _fill(pattern, base)


ENTITY_MAKERS: dict[str, Callable[[random.Random, Profile], list[str]]] = {
    "PER": _person,
    "ORG": _organisation,
    "LOC": _location,
}


def _entity(rng: random.Random, p: Profile, etype: str) -> Sentence:
    return _tagged(ENTITY_MAKERS[etype](rng, p), etype)


def _entity_phrase(rng: random.Random, p: Profile, etype: str) -> Sentence:
    """An entity in a clause, often after its cue (a title, a determiner), and now and then quoted."""
    cue: list[str] = []
    if etype == "PER" and rng.random() < 0.35:
        cue = [rng.choice(p.lex.titles)]
    elif etype == "ORG" and p.lex.det_first and rng.random() < 0.2:
        cue = [p.lex.determiners[0]]
    entity = _entity(rng, p, etype)
    if rng.random() < 0.03:
        quote = rng.choice(QUOTES)
        entity = [(quote, "O"), *entity, (quote, "O")]
    return _tagged(cue, None) + entity


def _noun_phrase(rng: random.Random, p: Profile) -> Sentence:
    lex = p.lex
    words = [rng.choice(lex.nouns)]
    if rng.random() < 0.3:
        adjective = rng.choice(lex.adjectives)
        words = [adjective, *words] if lex.adj_first else [*words, adjective]
    if rng.random() < 0.6:
        determiner = rng.choice(lex.determiners)
        words = [determiner, *words] if lex.det_first else [*words, determiner]
    return _tagged(words, None)


def _year(rng: random.Random) -> str:
    return str(rng.randint(1800, 2020))


def _clause(rng: random.Random, p: Profile, pending: list[str]) -> Sentence:
    """Subject, verb, object and an optional prepositional phrase, taking entities from ``pending``."""

    def slot() -> Sentence:
        if pending and (pending[0] != "LOC" or rng.random() < 0.2) and rng.random() < 0.85:
            return _entity_phrase(rng, p, pending.pop(0))
        return _noun_phrase(rng, p)

    subject = slot()
    verb = _tagged([rng.choice(p.lex.verbs)], None)
    obj = slot() if rng.random() < 0.8 else []
    extra: Sentence = []
    if pending and pending[0] == "LOC":
        pending.pop(0)
        place = _entity(rng, p, "LOC")
        bare = rng.random() < 0.15 and not (obj and obj[-1][1] != "O")  # never right after another entity
        extra = place if bare else _tagged([rng.choice(p.lex.loc_prepositions)], None) + place
    elif rng.random() < 0.35:
        tail = _tagged([_year(rng)], None) if rng.random() < 0.3 else _noun_phrase(rng, p)
        extra = _tagged([rng.choice(p.lex.prepositions)], None) + tail
    if p.lex.order == "SOV":
        return subject + obj + extra + verb
    if p.lex.order == "VSO":
        return verb + subject + obj + extra
    return subject + verb + obj + extra


def _awkward_phrase(rng: random.Random, p: Profile, token: str) -> Sentence:
    """A few O-tagged words around an awkward token, e.g. ``( NA )`` or ``population : null``."""
    noun = rng.choice(p.lex.nouns)
    if token in MISSING_VALUES:
        words = ["(", token, ")"] if rng.random() < 0.5 else [p.lex.comma, noun, ":", token]
    elif token in QUOTES:
        words = [token, *[w for w, _ in _noun_phrase(rng, p)], token]
    elif token == "3:15":
        words = [rng.choice(p.lex.prepositions), token]
    elif token == "#":
        words = [token, str(rng.randint(1, 99))]
    elif token == "-":
        words = [token, noun]
    else:  # ":" and "::"
        words = [noun, token, rng.choice(p.lex.nouns)]
    return _tagged(words, None)


def _template_sentence(
    rng: random.Random, p: Profile, length: int, n_entities: int, awkward: str | None
) -> Sentence:
    """Clauses joined by conjunctions until at least ``length`` words, holding ``n_entities`` entities."""
    pending = rng.choices(("PER", "ORG", "LOC"), weights=(35, 30, 35), k=n_entities)
    sentence: Sentence = []
    boundaries: list[int] = []
    while len(sentence) < length - 1 or pending:
        if sentence:
            joiner = p.lex.comma if rng.random() < 0.3 else rng.choice(p.lex.conjunctions)
            sentence.append((joiner, "O"))
        sentence += _clause(rng, p, pending)
        boundaries.append(len(sentence))
    if awkward is not None:
        at = rng.choice(boundaries)
        sentence[at:at] = _awkward_phrase(rng, p, awkward)
    if length >= LONG_MIN or rng.random() < 0.92:
        sentence.append((p.lex.full_stop, "O"))
    token, tag = sentence[0]
    if tag == "O":
        sentence[0] = (capitalize(token, p.lex.cased), tag)
    return sentence


def _fragment(rng: random.Random, p: Profile) -> Sentence:
    """A short fragment that is mostly an entity: "Paris , France", "Sioux City Musketeers", ..."""
    shape = rng.choices(
        ("single", "place", "paren", "quoted", "list", "labelled", "bullet"), weights=(40, 15, 14, 7, 8, 9, 7)
    )[0]
    etype = rng.choices(("PER", "ORG", "LOC"), weights=(30, 40, 30))[0]
    entity = _entity(rng, p, etype)
    comma = [(p.lex.comma, "O")]
    if shape == "place":
        return (
            _tagged(_location(rng, p, "city"), "LOC") + comma + _tagged(_location(rng, p, "country"), "LOC")
        )
    if shape == "paren":
        if etype == "PER":
            start = rng.randint(1800, 1960)
            inside = _tagged([str(start), "–", str(start + rng.randint(20, 90))], None)
        elif rng.random() < 0.5:
            inside = _tagged([rng.choice(p.lex.nouns)], None)
        else:
            inside = _entity(rng, p, "LOC")
        return entity + [("(", "O")] + inside + [(")", "O")]
    if shape == "quoted":
        quote = [(rng.choice(QUOTES), "O")]
        return quote + entity + quote
    if shape == "list":
        items = [entity] + [_entity(rng, p, etype) for _ in range(rng.randint(1, 2))]
        return [token for i, item in enumerate(items) for token in (comma if i else []) + item]
    if shape == "labelled":
        return _tagged([rng.choice(p.lex.nouns), ":"], None) + entity
    if shape == "bullet":
        return [("*", "O")] + entity
    return entity


# --------------------------------------------------------------------------- #
# Sentences of one language and split.                                         #
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class _Spec:
    """What one sentence will be: a fragment, or a template sentence of at least ``length`` words."""

    fragment: bool
    length: int = 0
    awkward: str | None = None


def _template_length(rng: random.Random) -> int:
    r = rng.random()
    if r < 1 / LONG_RATE:
        return rng.randint(LONG_MIN + 1, 170)
    if r < 0.06:
        return rng.randint(30, 60)
    return round(rng.triangular(5, 18, 5))


def _plan(rng: random.Random, n: int) -> list[_Spec]:
    """Decide the shape of each sentence, then make sure the rare cases occur in large splits."""
    specs = [
        _Spec(fragment=True)
        if rng.random() < FRAGMENT_RATE
        else _Spec(
            fragment=False,
            length=_template_length(rng),
            awkward=rng.choice(AWKWARD_TOKENS) if rng.random() < 0.06 else None,
        )
        for _ in range(n)
    ]
    if n >= LONG_GUARANTEE_MIN and not any(spec.length >= LONG_MIN for spec in specs):
        at = rng.randrange(n)
        specs[at] = _Spec(fragment=False, length=rng.randint(LONG_MIN + 1, 170), awkward=specs[at].awkward)
    if n >= AWKWARD_GUARANTEE_MIN:
        for token, at in zip(AWKWARD_TOKENS, rng.sample(range(n), len(AWKWARD_TOKENS)), strict=True):
            length = specs[at].length or _template_length(rng)
            specs[at] = replace(specs[at], fragment=False, length=length, awkward=token)
    return specs


def _n_entities(rng: random.Random, length: int) -> int:
    if length <= 30:
        return rng.choices((0, 1, 2, 3), weights=(8, 30, 37, 25))[0]
    return rng.randint(2, 3 + length // 12)


def _check_sentence(sentence: Sentence) -> None:
    """Raise ``RuntimeError`` if a generated sentence breaks the format (a bug in this module)."""
    if not sentence:
        raise RuntimeError("generated an empty sentence")
    previous = "O"
    for token, tag in sentence:
        if not token or token != token.strip() or any(c in token for c in "\t\r\n"):
            raise RuntimeError(f"generated an illegal token {token!r}")
        if tag != "O" and not (tag[:2] in ("B-", "I-") and tag[2:] in ENTITY_MAKERS):
            raise RuntimeError(f"generated an unknown tag {tag!r}")
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            raise RuntimeError(f"generated {tag} after {previous}")
        previous = tag


def _generate(p: Profile, split: str, n: int, seed: int) -> list[Sentence]:
    rng = random.Random(f"{seed}/{p.lang}/{split}")
    sentences = []
    for spec in _plan(rng, n):
        if spec.fragment:
            sentence = _fragment(rng, p)
        else:
            sentence = _template_sentence(rng, p, spec.length, _n_entities(rng, spec.length), spec.awkward)
        _check_sentence(sentence)
        sentences.append(sentence)
    return sentences


def generate_sentences(lang: str, split: str, n: int, seed: int) -> list[list[tuple[str, str]]]:
    """``n`` synthetic sentences (lists of ``(token, tag)``) for one language and split.

    The result depends only on the arguments. ``split`` only seeds the random
    generator (``train``, ``dev``, ``test`` and ``extra`` draw from the same
    distribution). Raises ``ValueError`` for a language that PAN-X lacks or a
    negative ``n``.
    """
    if n < 0:
        raise ValueError(f"cannot generate {n} sentences")
    return _generate(language_profile(lang), split, n, seed)


# --------------------------------------------------------------------------- #
# The archive.                                                                 #
# --------------------------------------------------------------------------- #


def _format_member(lang: str, sentences: Sequence[Sentence]) -> bytes:
    """The raw PAN-X text of one split: ``lang:token<TAB>tag`` lines, blank lines between sentences."""
    blocks = ("\n".join(f"{lang}:{token}\t{tag}" for token, tag in sentence) for sentence in sentences)
    return ("\n\n".join(blocks) + "\n").encode("utf-8")


def _tar_bytes(members: dict[str, bytes]) -> bytes:
    """An uncompressed tar of ``members`` in sorted order, with reproducible headers."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT, encoding="utf-8") as tar:
        for name in sorted(members):
            info = tarfile.TarInfo(name)
            info.size = len(members[name])
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.type = tarfile.REGTYPE
            tar.addfile(info, io.BytesIO(members[name]))
    return buffer.getvalue()


def _gzip_bytes(data: bytes) -> bytes:
    """Gzip ``data`` with no file name and mtime 0 in the header."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=buffer, mtime=0) as gz:
        gz.write(data)
    return buffer.getvalue()


def language_archive(lang: str, settings: DemoSettings = DEFAULT_SETTINGS) -> bytes:
    """The bytes of ``{lang}.tar.gz``: members dev, extra, test and train of one language."""
    profile = language_profile(lang)
    sizes = settings.split_sizes()
    members = {
        split: _format_member(lang, _generate(profile, split, n, settings.seed)) for split, n in sizes.items()
    }
    logger.info("demo data %s: %s sentences", lang, ", ".join(f"{split} {n}" for split, n in sizes.items()))
    return _gzip_bytes(_tar_bytes(members))


def write_panx_archive(out: str | Path, settings: DemoSettings = DEFAULT_SETTINGS) -> None:
    """Write ``panx_dataset.tar`` for ``settings.languages`` to ``out``, atomically.

    Same settings, same bytes. The outer tar is uncompressed and holds
    ``{lang}.tar.gz`` per language in sorted order.
    """
    members = {f"{lang}.tar.gz": language_archive(lang, settings) for lang in sorted(settings.languages)}
    with atomic_path(out) as tmp:
        tmp.write_bytes(_tar_bytes(members))
