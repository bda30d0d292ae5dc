"""xner.data.statistics: the dataset statistics table, on hand-made sentence tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from xner.config import Member
from xner.data.statistics import STATS_COLUMNS, count, data_stats, stats_inputs
from xner.errors import XnerError
from xner.io import sentences_table, write_parquet


def table(lang, sentences):
    tokens = [[tok for tok, _ in s] for s in sentences]
    tags = [[tag for _, tag in s] for s in sentences]
    return sentences_table(list(range(len(sentences))), lang, tokens, tags)


EN_TRAIN = [[("Paris", "B-LOC"), ("is", "O"), ("NA", "O")], [("John", "B-PER"), ("Smith", "I-PER")]]
EN_VAL = [[("paris", "B-LOC")]]
EN_TEST = [[("Acme", "B-ORG"), ("Inc", "I-ORG"), ("is", "O")]]
DE_TRAIN = [[("Paris", "B-LOC"), ("ist", "O")]]
DE_VAL = [[("None", "O")]]
DE_TEST = [[("Berlin", "B-LOC")]]


def test_count_words_distinct_tokens_and_tags():
    row = count([table("en", EN_TRAIN), table("en", EN_VAL)])
    assert row["sentences"] == 3
    assert row["tokens"] == 6
    assert row["unique_tokens"] == 6  # "Paris" and "paris" differ; "NA" is a token
    assert (row["O"], row["B-LOC"], row["B-PER"], row["I-PER"], row["B-ORG"]) == (2, 2, 1, 1, 0)


@pytest.fixture
def split_paths(tmp_path):
    data = {
        ("en", "train"): EN_TRAIN,
        ("en", "val"): EN_VAL,
        ("en", "test"): EN_TEST,
        ("de", "train"): DE_TRAIN,
        ("de", "val"): DE_VAL,
        ("de", "test"): DE_TEST,
    }
    paths = {key: tmp_path / key[0] / f"{key[1]}.parquet" for key in data}
    write_parquet({paths[key]: table(key[0], sentences) for key, sentences in data.items()})
    return paths


def test_table_rows_and_columns(split_paths):
    df = data_stats(split_paths, mixtures=[(Member("en"),), (Member("en"), Member("de"))])
    assert tuple(df.columns) == STATS_COLUMNS
    assert list(zip(df["langs"], df["split"])) == [
        ("en", "train"),
        ("en", "val"),
        ("en", "test"),
        ("de", "train"),
        ("de", "val"),
        ("de", "test"),
        ("en", "train+val"),
        ("en+de", "train+val"),
    ]
    mix = df.iloc[-1]
    assert (mix["sentences"], mix["tokens"], mix["unique_tokens"]) == (5, 9, 8)
    assert (mix["B-LOC"], mix["O"]) == (3, 4)
    # every word has exactly one tag
    assert (df[list(STATS_COLUMNS[5:])].sum(axis=1) == df["tokens"]).all()


def test_inputs_are_split_tables_keyed_by_language_and_split():
    paths = [Path("s/en/train.parquet"), Path("s/en/val.parquet"), Path("s/de/test.parquet")]
    split_paths, mixtures = stats_inputs(paths, ["en"])
    assert split_paths == {("en", "train"): paths[0], ("en", "val"): paths[1], ("de", "test"): paths[2]}
    assert mixtures == [(Member("en"),)]


def test_inputs_that_are_not_split_tables_are_named():
    with pytest.raises(XnerError, match=r"not a split table .*s/en/dev.parquet"):
        stats_inputs([Path("s/en/train.parquet"), Path("s/en/dev.parquet")], [])


def test_a_mixture_needs_the_train_and_val_tables_of_its_languages():
    paths = [Path(f"s/{lang}/{split}.parquet") for lang in ("en", "de") for split in ("train", "val")]
    assert stats_inputs(paths[:3], ["en"])[1] == [(Member("en"),)]
    with pytest.raises(XnerError, match="not among the inputs: de/val$"):
        stats_inputs(paths[:3], ["en+de"])


def test_a_budgeted_mixture_counts_its_budgeted_tables(split_paths, tmp_path):
    budgeted = {("en", "train@1"): EN_TRAIN[1:], ("en", "val@1"): EN_VAL}
    paths = {key: tmp_path / key[0] / f"{key[1]}.parquet" for key in budgeted}
    write_parquet({paths[key]: table(key[0], sentences) for key, sentences in budgeted.items()})
    inputs, mixtures = stats_inputs([*split_paths.values(), *paths.values()], ["en@1+de", "en+de"])
    assert mixtures == [(Member("en", 1), Member("de")), (Member("en"), Member("de"))]
    df = data_stats(inputs, mixtures)
    # the budgeted tables get no rows of their own; the mixture's row is labelled like its run
    assert list(zip(df["langs"], df["split"]))[6:] == [("en@1+de", "train+val"), ("en+de", "train+val")]
    budgeted_row, plain_row = df.iloc[6], df.iloc[7]
    assert (budgeted_row["sentences"], budgeted_row["tokens"]) == (4, 6)  # John Smith, paris; de: 2 + 1
    assert plain_row["sentences"] == 5


def test_a_budgeted_mixture_needs_its_budgeted_tables():
    paths = [Path(f"s/{lang}/{split}.parquet") for lang in ("en", "de") for split in ("train", "val")]
    with pytest.raises(XnerError, match="not among the inputs: en/train@5, en/val@5$"):
        stats_inputs(paths, ["en@5+de"])
    assert stats_inputs([*paths, Path("s/en/train@5.parquet"), Path("s/en/val@5.parquet")], ["en@5"])
    with pytest.raises(XnerError, match=r"not a split table .*s/en/test@5.parquet"):
        stats_inputs([Path("s/en/test@5.parquet")], [])
    with pytest.raises(XnerError, match="--mixtures: 'en@x'"):
        stats_inputs(paths, ["en@x"])
