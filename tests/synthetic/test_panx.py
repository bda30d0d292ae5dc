"""Tests of xner.synthetic.panx: the synthetic PAN-X archive, read back with tarfile alone."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest

from xner.labels import LABELS, PANX_LANGUAGES
from xner.synthetic.panx import DemoSettings, generate_sentences, write_panx_archive

Sentence = list[tuple[str, str]]

SPLITS = ("train", "dev", "test")
MEMBERS = ("dev", "extra", "test", "train")
SMALL = DemoSettings(languages=("en", "sw"), train=40, dev=20, test=10, seed=3)


def parse_member(lang: str, text: str) -> list[Sentence]:
    """Parse one raw PAN-X member, checking the line format on the way."""
    assert text.endswith("\n"), "no final newline"
    assert not text.endswith("\n\n"), "blank line at the end"
    assert not text.startswith("\n"), "blank line at the start"
    sentences = []
    for block in text[:-1].split("\n\n"):
        sentence = []
        for line in block.split("\n"):
            assert line, "two blank lines in a row"
            word, tag = line.split("\t")  # exactly one tab per line
            prefix, sep, token = word.partition(":")
            assert (prefix, sep) == (lang, ":"), line
            sentence.append((token, tag))
        sentences.append(sentence)
    return sentences


def read_archive(path: Path) -> dict[str, dict[str, list[Sentence]]]:
    """{lang: {member: sentences}} of a panx_dataset.tar, checking its layout."""
    result = {}
    with tarfile.open(path, mode="r:") as outer:  # "r:" fails on a compressed tar
        for info in outer.getmembers():
            assert info.isfile() and info.name.endswith(".tar.gz") and "/" not in info.name, info.name
            lang = info.name.removesuffix(".tar.gz")
            data = outer.extractfile(info).read()
            assert data[:2] == b"\x1f\x8b", "inner archive is not gzip"
            with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data)), mode="r:") as inner:
                assert sorted(inner.getnames()) == list(MEMBERS)
                result[lang] = {
                    m.name: parse_member(lang, inner.extractfile(m).read().decode("utf-8"))
                    for m in inner.getmembers()
                }
    return result


@pytest.fixture(scope="module")
def default_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "panx_dataset.tar"
    write_panx_archive(path)
    return path


@pytest.fixture(scope="module")
def default_data(default_archive: Path) -> dict[str, dict[str, list[Sentence]]]:
    return read_archive(default_archive)


def test_same_settings_give_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    write_panx_archive(tmp_path / "a.tar", SMALL)
    write_panx_archive(tmp_path / "b.tar", SMALL)
    write_panx_archive(tmp_path / "c.tar", DemoSettings(languages=SMALL.languages, train=40, dev=20, test=10))
    assert (tmp_path / "a.tar").read_bytes() == (tmp_path / "b.tar").read_bytes()
    assert (tmp_path / "a.tar").read_bytes() != (tmp_path / "c.tar").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tar", "b.tar", "c.tar"]  # no temporary left


def test_tar_and_gzip_headers_are_reproducible(default_archive: Path) -> None:
    with tarfile.open(default_archive, mode="r:") as outer:
        names = outer.getnames()
        assert names == sorted(names)
        for info in outer.getmembers():
            assert (info.mtime, info.uid, info.gid, info.uname, info.gname, info.mode) == (
                0,
                0,
                0,
                "",
                "",
                0o644,
            )
            data = outer.extractfile(info).read()
            flags, mtime = data[3], int.from_bytes(data[4:8], "little")
            assert flags & 0x08 == 0, "gzip header holds a file name"
            assert mtime == 0
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as inner:
                assert inner.getnames() == list(MEMBERS)
                for member in inner.getmembers():
                    assert (member.mtime, member.uid, member.gid, member.uname, member.mode) == (
                        0,
                        0,
                        0,
                        "",
                        0o644,
                    )


def test_layout_and_sentence_counts(tmp_path: Path, default_data: dict) -> None:
    assert sorted(default_data) == ["de", "en", "sw"]
    settings = DemoSettings()
    for members in default_data.values():
        for split in SPLITS:
            assert len(members[split]) == getattr(settings, split)
        assert 1 <= len(members["extra"]) <= 10
    write_panx_archive(tmp_path / "small.tar", SMALL)
    small = read_archive(tmp_path / "small.tar")
    assert sorted(small) == ["en", "sw"]
    assert {lang: [len(small[lang][s]) for s in SPLITS] for lang in small} == {
        "en": [40, 20, 10],
        "sw": [40, 20, 10],
    }


def test_tags_are_valid_iob2_and_tokens_are_clean(default_data: dict) -> None:
    for lang, members in default_data.items():
        for member, sentences in members.items():
            for sentence in sentences:
                assert sentence
                previous = "O"
                for token, tag in sentence:
                    assert tag in LABELS, (lang, member, tag)
                    assert not tag.startswith("I-") or previous in (f"B-{tag[2:]}", tag), (lang, sentence)
                    assert token and token == token.strip(), repr(token)
                    assert not any(c in token for c in "\t\r\n"), repr(token)
                    previous = tag


def test_generate_sentences_matches_the_archive(default_data: dict) -> None:
    assert generate_sentences("sw", "dev", 500, 0) == default_data["sw"]["dev"]
    assert generate_sentences("sw", "dev", 500, 0) != generate_sentences("sw", "test", 500, 0)


def test_awkward_tokens_long_sentences_and_entity_types(default_data: dict) -> None:
    for lang, members in default_data.items():
        train_tokens = {token for sentence in members["train"] for token, _ in sentence}
        assert {"NA", "None", "null", "nan", "N/A", "''", "::"} <= train_tokens, lang
        assert any(":" in t and t != ":" for t in train_tokens), lang
        assert any(t.isdigit() for t in train_tokens), lang
        assert any(not t.isascii() and t.isalpha() for t in train_tokens), lang
        assert max(len(sentence) for sentence in members["train"]) > 110, lang
        for split in SPLITS:
            types = {tag[2:] for sentence in members[split] for _, tag in sentence if tag != "O"}
            assert types == {"PER", "ORG", "LOC"}, (lang, split)
            lengths = [len(sentence) for sentence in members[split]]
            assert sum(n <= 25 for n in lengths) / len(lengths) > 0.8, (lang, split)
            tags = [tag for sentence in members[split] for _, tag in sentence]
            assert 0.5 < tags.count("O") / len(tags) < 0.9, (lang, split)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_rare_cases_are_guaranteed_for_any_seed(lang: str) -> None:
    for seed in range(12):
        sentences = generate_sentences(lang, "train", 1000, seed)
        assert max(len(sentence) for sentence in sentences) > 110, seed
        tokens = {token for sentence in sentences for token, _ in sentence}
        assert {"NA", "None", "null", "nan", "N/A", "#", '"', "'", "''", "3:15", "::", ":", "-"} <= tokens, (
            seed
        )


def test_languages_share_entities_but_not_context_words(default_data: dict) -> None:
    def vocabulary(lang: str, entity: bool) -> set[str]:
        return {
            token.lower()
            for sentence in default_data[lang]["train"]
            for token, tag in sentence
            if (tag != "O") == entity and token.isalpha()
        }

    en_context, sw_context = vocabulary("en", False), vocabulary("sw", False)
    awkward = {"na", "none", "null", "nan"}
    overlap = (en_context & sw_context) - awkward
    assert len(overlap) < 0.1 * min(len(en_context), len(sw_context)), overlap
    en_names, sw_names, de_names = vocabulary("en", True), vocabulary("sw", True), vocabulary("de", True)
    assert len(en_names & sw_names) >= 30
    assert len(en_names & de_names) >= 30
    assert en_names != sw_names


def test_every_panx_language_can_be_generated() -> None:
    for lang in sorted(PANX_LANGUAGES):
        sentences = generate_sentences(lang, "train", 5, 0)
        assert len(sentences) == 5 and all(sentences), lang


def test_unknown_language_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="xx"):
        DemoSettings(languages=("en", "xx"))
    with pytest.raises(ValueError, match="klingon"):
        generate_sentences("klingon", "train", 3, 0)
    with pytest.raises(ValueError, match="en"):
        DemoSettings(languages=("en", "en"))
    with pytest.raises(ValueError):
        DemoSettings(train=0)
    assert not list(tmp_path.iterdir())
