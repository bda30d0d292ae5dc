"""xner.data.parse: parsing raw PAN-X files (all three formats) into sentence tables, on hand-made cases."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from xner.data.parse import (
    count_loose_i_tags,
    parse_conll,
    parse_language,
    read_archive_member,
    read_hf_parquet,
    read_panx_tsv,
)
from xner.errors import DataFormatError
from xner.io import SENTENCE_SCHEMA, read_sentences
from xner.labels import LABEL_TO_ID


def make_archive(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def make_hf_parquet(path: Path, rows: list[tuple[list[str], list[int]]], lang: str = "en") -> Path:
    table = pa.table(
        {
            "tokens": pa.array([r[0] for r in rows], pa.list_(pa.string())),
            "ner_tags": pa.array([r[1] for r in rows], pa.list_(pa.int64())),
            "langs": pa.array([[lang] * len(r[0]) for r in rows], pa.list_(pa.string())),
        }
    )
    pq.write_table(table, path)
    return path


def write_raw_dir(raw: Path, fmt: str, lang: str, splits: dict[str, list[str]]) -> Path:
    """A raw directory as xner.data.download makes it (manifest and files)."""
    raw.mkdir(parents=True)
    files = {name: {"sha256": "-", "bytes": 0, "from": name} for names in splits.values() for name in names}
    manifest = {"lang": lang, "format": fmt, "source": "test", "splits": splits, "files": files}
    (raw / "manifest.json").write_text(json.dumps(manifest))
    return raw


# --- the line format -------------------------------------------------------------------------------------


def test_tokens_that_look_like_missing_values_are_kept_exactly():
    data = b"NA\tO\nNone\tB-PER\nnull\tI-PER\nnan\tO\n\"\tO\n#\tO\n''\tO\nN/A\tO\n"
    s = parse_conll(data, "x.tsv")
    assert s.tokens == [["NA", "None", "null", "nan", '"', "#", "''", "N/A"]]
    assert s.tags == [["O", "B-PER", "I-PER", "O", "O", "O", "O", "O"]]


def test_raw_prefix_removed_only_up_to_first_colon():
    data = b"en:3:15\tO\nen:::\tO\nen::\tO\nen:Sioux\tB-ORG\n"
    s = parse_conll(data, "en.tar.gz", lang_prefix="en")
    assert s.tokens == [["3:15", "::", ":", "Sioux"]]


def test_last_sentence_kept_with_or_without_final_newline_and_no_empty_sentence():
    expected = [["a", "b"], ["c"]]
    for data in (
        b"a\tO\nb\tO\n\nc\tO",
        b"a\tO\nb\tO\n\nc\tO\n",
        b"a\tO\nb\tO\n\nc\tO\n\n",
        b"\n\na\tO\nb\tO\n\n\n\nc\tO\n",
    ):
        s = parse_conll(data, "x.tsv")
        assert s.tokens == expected, data
        assert all(s.tokens) and all(s.tags)


def test_crlf_line_endings_and_bom_are_line_structure_not_data():
    s = parse_conll(b"\xef\xbb\xbfa\tB-LOC\r\nb\tI-LOC\r\n\r\nc\tO\r\n", "x.tsv")
    assert s.tokens == [["a", "b"], ["c"]]
    assert s.tags == [["B-LOC", "I-LOC"], ["O"]]


def test_spaces_inside_tokens_are_kept():
    s = parse_conll("New York\tB-LOC\n é \tO\n".encode(), "x.tsv")
    assert s.tokens == [["New York", " é "]]


def test_empty_input_gives_no_sentences():
    assert len(parse_conll(b"", "x.tsv")) == 0
    assert len(parse_conll(b"\n\n", "x.tsv")) == 0


@pytest.mark.parametrize(
    ("data", "line", "fragment"),
    [
        (b"a\tO\nb\tB-MISC\n", 2, "unknown tag 'B-MISC'"),
        (b"a\tO\n\nb\to\n", 3, "unknown tag 'o'"),
        (b"a\tO\nb\tO\tO\n", 2, "found 3"),
        (b"a\tO\nb O\n", 2, "found 1"),
        (b"a\tO\n   \n", 2, "found 1"),
        (b"a\tO\n\tO\n", 2, "empty token"),
        (b"a\tO\nb\tO \n", 2, "unknown tag 'O '"),
        (b"a\tO\n\nb\xff\xfe\tO\n", 3, "invalid UTF-8"),
    ],
)
def test_malformed_lines_name_file_and_line(data, line, fragment):
    with pytest.raises(DataFormatError) as info:
        parse_conll(data, "data/train-en.tsv")
    assert info.value.path == "data/train-en.tsv"
    assert info.value.line == line
    assert fragment in str(info.value)
    assert str(info.value).startswith(f"data/train-en.tsv, line {line}: ")


@pytest.mark.parametrize(
    ("data", "fragment"),
    [(b"Sioux\tB-ORG\n", "missing language prefix 'en:'"), (b"de:Sioux\tB-ORG\n", "'de:' where 'en:'")],
)
def test_raw_lines_need_the_right_language_prefix(data, fragment):
    with pytest.raises(DataFormatError, match=fragment):
        parse_conll(data, "en.tar.gz", lang_prefix="en")


def test_loose_i_tags_are_counted_not_changed():
    s = parse_conll(b"a\tI-PER\nb\tI-PER\nc\tB-LOC\nd\tI-ORG\n", "x.tsv")
    assert s.tags == [["I-PER", "I-PER", "B-LOC", "I-ORG"]]
    assert count_loose_i_tags(s) == 2


# --- files and archives ------------------------------------------------------------------------------------


def test_tsv_and_tsv_gz_read_alike(tmp_path):
    data = b"NA\tB-LOC\nb\tI-LOC\n\nc\tO\n"
    (tmp_path / "dev-en.tsv").write_bytes(data)
    (tmp_path / "dev-de.tsv.gz").write_bytes(gzip.compress(data))
    assert read_panx_tsv(tmp_path / "dev-en.tsv") == read_panx_tsv(tmp_path / "dev-de.tsv.gz")


def test_broken_gzip_is_named(tmp_path):
    path = tmp_path / "dev-en.tsv.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(DataFormatError, match="dev-en.tsv.gz: not a valid gzip file"):
        read_panx_tsv(path)


def test_archive_member_read_with_or_without_dot_slash(tmp_path):
    archive = make_archive(tmp_path / "en.tar.gz", {"./train": b"en:a\tO\n", "dev": b"en:b\tB-PER\n"})
    assert read_archive_member(archive, "train", "en").tokens == [["a"]]
    assert read_archive_member(archive, "dev", "en").tokens == [["b"]]


def test_archive_without_member_is_an_error_listing_members(tmp_path):
    archive = make_archive(tmp_path / "en.tar.gz", {"train": b"en:a\tO\n", "extra": b"en:a\tO\n"})
    with pytest.raises(
        DataFormatError, match=r"en.tar.gz: archive has no member 'test' \(members: extra, train\)"
    ):
        read_archive_member(archive, "test", "en")


def test_error_inside_archive_names_archive_member_and_line(tmp_path):
    archive = make_archive(tmp_path / "en.tar.gz", {"train": b"en:a\tO\n\nen:b\tX\n"})
    with pytest.raises(DataFormatError, match=r"en.tar.gz \(member 'train'\), line 3: unknown tag 'X'"):
        read_archive_member(archive, "train", "en")


def test_not_an_archive(tmp_path):
    path = tmp_path / "en.tar.gz"
    path.write_bytes(b"\x00" * 10)
    with pytest.raises(DataFormatError, match="not a readable tar archive"):
        read_archive_member(path, "train", "en")


def test_hf_parquet_tags_are_decoded_in_xtreme_order(tmp_path):
    path = make_hf_parquet(tmp_path / "train.parquet", [(["NA", "b"], [5, 6]), (["c"], [0])])
    s = read_hf_parquet([path], "en")
    assert s.tokens == [["NA", "b"], ["c"]]
    assert s.tags == [["B-LOC", "I-LOC"], ["O"]]
    assert [LABEL_TO_ID[t] for t in s.tags[0]] == [5, 6]


def test_hf_parquet_empty_rows_are_skipped_and_reported(tmp_path, caplog):
    path = make_hf_parquet(tmp_path / "train.parquet", [(["a"], [0]), ([], []), (["b"], [1])])
    s = read_hf_parquet([path], "en")
    assert s.tokens == [["a"], ["b"]]
    assert "skipped 1 row(s) without tokens (rows 2)" in caplog.text


@pytest.mark.parametrize(
    ("rows", "fragment"),
    [
        ([(["a", "b"], [0])], "row 1: 2 tokens but 1 ner_tags"),
        ([(["a"], [0]), (["b"], [7])], "row 2: ner_tag 7 outside 0..6"),
        ([(["a", ""], [0, 0])], "row 1: empty token"),
    ],
)
def test_hf_parquet_errors_name_file_and_row(tmp_path, rows, fragment):
    path = make_hf_parquet(tmp_path / "train.parquet", rows)
    with pytest.raises(DataFormatError, match=fragment):
        read_hf_parquet([path], "en")


def test_hf_parquet_language_must_match(tmp_path):
    path = make_hf_parquet(tmp_path / "train.parquet", [(["a"], [0])], lang="de")
    with pytest.raises(DataFormatError, match="langs \\['de'\\] but expected 'en'"):
        read_hf_parquet([path], "en")


# --- whole languages: every format gives the same bytes ---------------------------------------------------

SPLIT_TEXT = {
    "train": 'NA\tB-PER\nNone\tI-PER\n\n3:15\tO\n#\tB-ORG\n"\tI-ORG\n\nnull\tB-LOC',
    "dev": "Paris\tB-LOC\n,\tO\nFrance\tB-LOC\n",
    "test": "a\tO\n\n\nb\tO\n\n",
}


def _three_raw_dirs(tmp_path: Path, lang: str = "en") -> list[Path]:
    tsv = write_raw_dir(tmp_path / "tsv", "xtreme_tsv", lang, {s: [f"{s}-{lang}.tsv.gz"] for s in SPLIT_TEXT})
    for split, text in SPLIT_TEXT.items():
        (tsv / f"{split}-{lang}.tsv.gz").write_bytes(gzip.compress(text.encode()))

    raw_lines = {
        split: "\n".join(f"{lang}:{line}" if line else "" for line in text.split("\n")).encode()
        for split, text in SPLIT_TEXT.items()
    }
    arch = write_raw_dir(tmp_path / "arch", "panx_archive", lang, {s: [f"{lang}.tar.gz"] for s in SPLIT_TEXT})
    make_archive(arch / f"{lang}.tar.gz", {**raw_lines, "extra": b"en:x\tO\n"})

    hf_names = {"train": "train", "dev": "validation", "test": "test"}
    hf = write_raw_dir(
        tmp_path / "hf",
        "hf_parquet",
        lang,
        {s: [f"{hf_names[s]}-00000-of-00001.parquet"] for s in SPLIT_TEXT},
    )
    for split in SPLIT_TEXT:
        s = read_panx_tsv(tsv / f"{split}-{lang}.tsv.gz")
        rows = [(tokens, [LABEL_TO_ID[t] for t in tags]) for tokens, tags in zip(s.tokens, s.tags)]
        make_hf_parquet(hf / f"{hf_names[split]}-00000-of-00001.parquet", rows, lang)
    return [tsv, arch, hf]


def test_every_format_gives_byte_identical_parquet(tmp_path):
    outputs = []
    for raw in _three_raw_dirs(tmp_path):
        out = {split: tmp_path / f"out-{raw.name}" / f"{split}.parquet" for split in ("train", "dev", "test")}
        assert parse_language(raw, out) == {"train": 3, "dev": 1, "test": 2}
        outputs.append({split: path.read_bytes() for split, path in out.items()})
    assert outputs[0] == outputs[1] == outputs[2]


def test_parsed_table_schema_and_content(tmp_path):
    raw = _three_raw_dirs(tmp_path)[1]
    out = {split: tmp_path / "out" / f"{split}.parquet" for split in ("train", "dev", "test")}
    parse_language(raw, out)
    table = read_sentences(out["train"])
    assert table.schema.equals(SENTENCE_SCHEMA)
    assert table.to_pylist() == [
        {"id": 0, "lang": "en", "tokens": ["NA", "None"], "tags": ["B-PER", "I-PER"]},
        {"id": 1, "lang": "en", "tokens": ["3:15", "#", '"'], "tags": ["O", "B-ORG", "I-ORG"]},
        {"id": 2, "lang": "en", "tokens": ["null"], "tags": ["B-LOC"]},
    ]


def test_a_bad_split_leaves_no_output_at_all(tmp_path):
    raw = _three_raw_dirs(tmp_path)[0]
    (raw / "test-en.tsv.gz").write_bytes(gzip.compress(b"a\tO\nb\tB-FOO\n"))
    out = {split: tmp_path / "out" / f"{split}.parquet" for split in ("train", "dev", "test")}
    with pytest.raises(DataFormatError, match="test-en.tsv.gz.*line 2: unknown tag 'B-FOO'"):
        parse_language(raw, out)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_error_names_the_original_file_of_a_copy(tmp_path):
    raw = write_raw_dir(tmp_path / "raw", "xtreme_tsv", "en", {"train": ["train-en.tsv"]})
    manifest = json.loads((raw / "manifest.json").read_text())
    manifest["files"]["train-en.tsv"]["from"] = "/data/panx/train-en.tsv"
    (raw / "manifest.json").write_text(json.dumps(manifest))
    (raw / "train-en.tsv").write_bytes(b"a\tO\nb\n")
    with pytest.raises(DataFormatError, match=r"train-en.tsv \(copy of /data/panx/train-en.tsv\), line 2"):
        parse_language(raw, {"train": tmp_path / "train.parquet"})


def test_missing_manifest_is_a_clear_error(tmp_path):
    with pytest.raises(DataFormatError, match="manifest.json: missing"):
        parse_language(tmp_path, {"train": tmp_path / "train.parquet"})
