"""xner.io: atomic outputs, reproducible Parquet, tables."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from xner.io import atomic_outputs, atomic_path, markdown_table, sentences_table, write_parquet, write_table


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
