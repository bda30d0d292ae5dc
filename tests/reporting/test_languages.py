"""xner.reporting.languages: the family order of many languages, from hand-made lists."""

from __future__ import annotations

from xner.reporting.languages import (
    FAMILIES,
    FAMILY_ORDER,
    FAMILY_ORDER_FROM,
    display_order,
    family_of,
    family_order,
    family_spans,
    language_blocks,
)

# The 40 PAN-X languages of XTREME, as its configuration lists them.
XTREME = (
    "af ar bg bn de el en es et eu fa fi fr he hi hu id it ja jv ka kk ko ml mr ms my nl pt ru sw ta te th tl tr "
    "ur vi yo zh"
).split()


def test_the_table_has_the_40_xtreme_languages_each_in_an_ordered_family():
    assert sorted(FAMILIES) == sorted(XTREME)
    assert set(FAMILIES.values()) == set(FAMILY_ORDER)
    assert len(FAMILY_ORDER) == len(set(FAMILY_ORDER))


def test_families_first_then_codes_then_unknown_codes_in_their_order():
    assert family_order(["sw", "zz", "en", "it", "de", "aa", "hu", "af"]) == [
        "af",
        "de",
        "en",  # Germanic, by code
        "it",  # Romance
        "hu",  # Uralic
        "sw",  # Niger-Congo
        "zz",
        "aa",  # not in the table: last, as given
    ]
    assert family_order(["en", "en", "de"]) == ["de", "en"]
    assert family_order([]) == []
    assert family_of("zz") == "other" and family_of("eu") == "Basque"


def test_the_40_languages_in_family_order():
    order = family_order(XTREME)
    assert order[:8] == ["af", "de", "en", "nl", "es", "fr", "it", "pt"]
    assert order[-6:] == ["id", "jv", "ms", "tl", "sw", "yo"]
    families = [family_of(lang) for lang in order]
    assert list(dict.fromkeys(families)) == list(FAMILY_ORDER)  # each family in one run


def test_a_few_languages_keep_their_order():
    study = ["en", "it", "af", "sw", "de", "hu"]
    assert display_order(study) == study
    many = XTREME[:FAMILY_ORDER_FROM]
    assert display_order(many) == family_order(many) != many
    assert display_order(XTREME[: FAMILY_ORDER_FROM - 1]) == XTREME[: FAMILY_ORDER_FROM - 1]


def test_family_spans():
    assert family_spans(["af", "de", "it", "zz", "yy", "sw"]) == [
        ("Germanic", 0, 2),
        ("Romance", 2, 3),
        ("other", 3, 5),
        ("Niger-Congo", 5, 6),
    ]
    assert family_spans([]) == []


def test_language_blocks_are_even_and_in_order():
    assert language_blocks(XTREME, 10) == [XTREME[i : i + 10] for i in range(0, 40, 10)]
    blocks = language_blocks(XTREME[:33], 10)
    assert [len(b) for b in blocks] == [9, 9, 9, 6]
    assert sum(blocks, []) == XTREME[:33]
    assert language_blocks(["en", "de"], 10) == [["en", "de"]]
