"""xner.io: atomic outputs, reproducible Parquet, tables."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from xner.io import (
    atomic_directory,
    atomic_outputs,
    atomic_path,
    markdown_table,
    read_predictions_tsv,
    read_sentence_counts,
    sentences_table,
    write_parquet,
    write_predictions_tsv,
    write_sentence_counts,
    write_table,
)


def test_atomic_path_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("boom")
    assert not target.exists()
    assert list((tmp_path / "sub").iterdir()) == []


def test_atomic_outputs_all_or_none(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    b.write_text("old")
    with pytest.raises(RuntimeError), atomic_outputs(a, b) as (ta, tb):
        ta.write_text("new a")
        raise RuntimeError("boom")
    assert not a.exists() and b.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.txt"]
    with atomic_outputs(a, b) as (ta, tb):
        ta.write_text("A")
        tb.write_text("B")
    assert (a.read_text(), b.read_text()) == ("A", "B")


def test_outputs_get_ordinary_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "x") as tmp:
            tmp.write_text("x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "x").stat().st_mode) == 0o644


def test_same_table_same_parquet_bytes(tmp_path):
    table = sentences_table([0, 1], "en", [["NA", "b"], ["c"]], [["O", "O"], ["B-LOC"]])
    write_parquet({tmp_path / "1.parquet": table, tmp_path / "2.parquet": table})
    assert (tmp_path / "1.parquet").read_bytes() == (tmp_path / "2.parquet").read_bytes()


def test_write_table_csv_and_markdown(tmp_path):
    df = pd.DataFrame({"langs": ["en|x", "de"], "sentences": [3, 10], "f1": [0.91234, 1.0]})
    write_table(df, tmp_path / "t.csv", tmp_path / "t.md")
    assert (tmp_path / "t.csv").read_text() == "langs,sentences,f1\nen|x,3,0.91234\nde,10,1.0\n"
    assert markdown_table(df).splitlines() == [
        "| langs | sentences | f1 |",
        "| :--- | ---: | ---: |",
        "| en\\|x | 3 | 0.9123 |",
        "| de | 10 | 1 |",
    ]


def test_write_table_shows_its_view_in_the_markdown_and_the_numbers_in_the_csv(tmp_path):
    df = pd.DataFrame({"f1": [0.851], "f1_ci_low": [0.846]})
    view = pd.DataFrame({"f1": ["0.851 [0.846, 0.856]"]})
    write_table(df, tmp_path / "t.csv", tmp_path / "t.md", note="A note.", view=view)
    assert (tmp_path / "t.csv").read_text() == "f1,f1_ci_low\n0.851,0.846\n"
    assert (tmp_path / "t.md").read_text() == "| f1 |\n| :--- |\n| 0.851 [0.846, 0.856] |\n\nA note.\n"


def test_atomic_directory_replaces_a_directory_whole_or_not_at_all(tmp_path):
    final = tmp_path / "model"
    final.mkdir()
    (final / "old.bin").write_text("old")
    with pytest.raises(RuntimeError), atomic_directory(final) as tmp:
        (tmp / "half.bin").write_text("half")
        raise RuntimeError("crash while writing")
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
    assert [p.name for p in final.iterdir()] == ["old.bin"]
    with atomic_directory(final) as tmp:
        (tmp / "new.bin").write_text("new")
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
    assert [p.name for p in final.iterdir()] == ["new.bin"]
    assert stat.S_IMODE(final.stat().st_mode) & 0o055  # not private to the owner, as mkdtemp makes it


def test_atomic_directory_never_leaves_the_path_missing(tmp_path, monkeypatch):
    """The old directory is swapped out in one step: at no moment is there no ``model``."""
    import xner.io

    (tmp_path / "a").mkdir()
    (tmp_path / "b").touch()
    if not xner.io.exchange_paths(tmp_path / "a", tmp_path / "b"):
        pytest.skip("no atomic exchange of paths here (renameat2)")
    assert (tmp_path / "a").is_file() and (tmp_path / "b").is_dir()
    final = tmp_path / "model"
    final.mkdir()
    renames = []
    real_replace = os.replace
    monkeypatch.setattr(xner.io.os, "replace", lambda a, b: (renames.append((a, b)), real_replace(a, b)))
    with atomic_directory(final) as tmp:
        (tmp / "new.bin").write_text("new")
    assert renames == []  # no rename of the old directory out of the way
    assert [p.name for p in final.iterdir()] == ["new.bin"]


def test_atomic_directory_without_an_atomic_swap_puts_the_old_one_back_on_failure(tmp_path, monkeypatch):
    import xner.io

    final = tmp_path / "model"
    final.mkdir()
    (final / "old.bin").write_text("old")
    monkeypatch.setattr(xner.io, "exchange_paths", lambda a, b: False)
    real_replace = os.replace

    def failing_second_rename(a, b):
        if str(a).endswith(".tmp"):
            raise OSError("disk full")
        real_replace(a, b)

    monkeypatch.setattr(xner.io.os, "replace", failing_second_rename)
    with pytest.raises(OSError, match="disk full"), atomic_directory(final) as tmp:
        (tmp / "new.bin").write_text("new")
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
    assert [p.name for p in final.iterdir()] == ["old.bin"]


def test_tsv_round_trip(tmp_path):
    tokens = [["NA", "None", '"'], ["3:15"]]
    gold = [["B-PER", "I-PER", "O"], ["O"]]
    pred = [["B-PER", "O", "O"], ["B-LOC"]]
    path = tmp_path / "en.tsv"
    write_predictions_tsv(path, tokens, gold, pred)
    assert path.read_text() == 'NA\tB-PER\tB-PER\nNone\tI-PER\tO\n"\tO\tO\n\n3:15\tO\tB-LOC\n'
    assert read_predictions_tsv(path) == (tokens, gold, pred)


def test_sentence_counts_round_trip_with_their_gold_digest(tmp_path):
    import numpy as np

    from xner.errors import DataFormatError

    counts = np.arange(4 * 3 * 3).reshape(4, 3, 3)
    write_sentence_counts(tmp_path / "en.counts.parquet", counts, ("LOC", "ORG", "PER"), "abc")
    back, digest = read_sentence_counts(tmp_path / "en.counts.parquet", ("LOC", "ORG", "PER"))
    assert (back == counts).all() and back.dtype == np.int64 and digest == "abc"
    write_sentence_counts(tmp_path / "none.counts.parquet", counts[:0], ("LOC", "ORG", "PER"), "abc")
    assert read_sentence_counts(tmp_path / "none.counts.parquet", ("LOC", "ORG", "PER"))[0].shape == (0, 3, 3)
    # read with other entity types: named, not misread
    with pytest.raises(DataFormatError, match="en.counts.parquet.*not an xner counts table"):
        read_sentence_counts(tmp_path / "en.counts.parquet", ("LOC", "PER"))
    with pytest.raises(ValueError, match="for 2 entity types"):
        write_sentence_counts(tmp_path / "x.parquet", counts, ("LOC", "PER"), "abc")
    assert not (tmp_path / "x.parquet").exists()
