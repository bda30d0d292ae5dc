"""The order in which figures and the results page show many languages: grouped by family.

A study of a few languages keeps the order its configuration gives (``en`` first,
then the languages it transfers to); from :data:`FAMILY_ORDER_FROM` languages on,
an alphabetical list of codes says little, so languages are grouped by family
(:data:`FAMILIES`, the 40 PAN-X languages of XTREME), the families in the order
of :data:`FAMILY_ORDER` (the Indo-European branches first, then roughly from
west to east and south), and by ISO code within a family. Codes not in the
table come last, in the order given, as family ``other``.

Plain data and pure functions: no heavy imports.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from types import MappingProxyType

# From this many languages on, figures and the results page group languages by family.
FAMILY_ORDER_FROM = 16
OTHER = "other"

# The 40 PAN-X languages of XTREME -> family (Indo-European languages by branch; Basque, an isolate).
FAMILIES = MappingProxyType(
    {
        "af": "Germanic",
        "de": "Germanic",
        "en": "Germanic",
        "nl": "Germanic",
        "es": "Romance",
        "fr": "Romance",
        "it": "Romance",
        "pt": "Romance",
        "el": "Hellenic",
        "bg": "Slavic",
        "ru": "Slavic",
        "fa": "Iranian",
        "bn": "Indo-Aryan",
        "hi": "Indo-Aryan",
        "mr": "Indo-Aryan",
        "ur": "Indo-Aryan",
        "et": "Uralic",
        "fi": "Uralic",
        "hu": "Uralic",
        "kk": "Turkic",
        "tr": "Turkic",
        "ar": "Semitic",
        "he": "Semitic",
        "ka": "Kartvelian",
        "eu": "Basque",
        "ml": "Dravidian",
        "ta": "Dravidian",
        "te": "Dravidian",
        "my": "Sino-Tibetan",
        "zh": "Sino-Tibetan",
        "ja": "Japonic",
        "ko": "Koreanic",
        "th": "Kra-Dai",
        "vi": "Austroasiatic",
        "id": "Austronesian",
        "jv": "Austronesian",
        "ms": "Austronesian",
        "tl": "Austronesian",
        "sw": "Niger-Congo",
        "yo": "Niger-Congo",
    }
)
FAMILY_ORDER: tuple[str, ...] = (
    "Germanic",
    "Romance",
    "Hellenic",
    "Slavic",
    "Iranian",
    "Indo-Aryan",
    "Uralic",
    "Turkic",
    "Semitic",
    "Kartvelian",
    "Basque",
    "Dravidian",
    "Sino-Tibetan",
    "Japonic",
    "Koreanic",
    "Kra-Dai",
    "Austroasiatic",
    "Austronesian",
    "Niger-Congo",
)


def family_of(lang: str) -> str:
    """The family of a language code (:data:`FAMILIES`), ``other`` for a code not in the table."""
    return FAMILIES.get(lang, OTHER)


def family_order(langs: Iterable[str]) -> list[str]:
    """``langs`` grouped by family (:data:`FAMILY_ORDER`), by code within a family, unknown codes last
    in the order given; each code once."""
    langs = list(dict.fromkeys(langs))
    known = sorted(
        (lang for lang in langs if lang in FAMILIES),
        key=lambda lang: (FAMILY_ORDER.index(FAMILIES[lang]), lang),
    )
    return known + [lang for lang in langs if lang not in FAMILIES]


def grouped(langs: Sequence[str]) -> bool:
    """Whether figures and the page show ``langs`` grouped by family: from :data:`FAMILY_ORDER_FROM` on."""
    return len(set(langs)) >= FAMILY_ORDER_FROM


def display_order(langs: Iterable[str]) -> list[str]:
    """The order to show ``langs`` in: as given for a few, :func:`family_order` from :data:`FAMILY_ORDER_FROM`."""
    langs = list(dict.fromkeys(langs))
    return family_order(langs) if grouped(langs) else langs


def family_spans(langs: Sequence[str]) -> list[tuple[str, int, int]]:
    """Each run of consecutive languages of one family: (family, first index, index after the last)."""
    spans: list[tuple[str, int, int]] = []
    for i, lang in enumerate(langs):
        family = family_of(lang)
        if spans and spans[-1][0] == family:
            spans[-1] = (family, spans[-1][1], i + 1)
        else:
            spans.append((family, i, i + 1))
    return spans


def language_blocks(langs: Sequence[str], size: int) -> list[list[str]]:
    """``langs`` cut, in order, into as few blocks of at most ``size`` as will do, all as long as the first
    but the last (a figure's panels, a page's tables): 33 by 10 gives 9, 9, 9 and 6."""
    langs = list(langs)
    count = max(1, math.ceil(len(langs) / size))
    step = max(1, math.ceil(len(langs) / count))
    return [langs[i : i + step] for i in range(0, len(langs), step)] or [[]]
