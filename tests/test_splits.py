"""xner.splits: length bins, merging of sparse bins, and the stratified train/val split."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from xner.errors import XnerError
from xner.io import read_sentences, sentences_table, write_parquet
from xner.splits import (
    SplitSettings,
    length_bins,
    merge_sparse_bins,
    split_language,
    split_train,
    stratified_split,
)

EDGES = (0, 5, 10, 15, 20, 25, 30, 40, 100)


def test_bins_are_right_closed_and_the_last_is_open_ended():
    lengths = [1, 5, 6, 10, 40, 41, 100, 101, 439]
    assert length_bins(lengths, EDGES).tolist() == [0, 0, 1, 1, 6, 7, 7, 7, 7]


def test_sparse_bins_merge_into_the_smaller_neighbour_and_nothing_is_dropped():
    labels = np.array([0] * 10 + [1] * 1 + [2] * 3 + [3] * 8)
    merged = merge_sparse_bins(labels, min_count=2)
    # bin 1 (one member) joins bin 2 (3 members), its smaller neighbour
    assert merged.tolist() == [0] * 10 + [1] * 4 + [2] * 8
    assert len(merged) == len(labels)


def test_merging_respects_a_maximum_number_of_bins():
    labels = np.repeat(np.arange(6), [5, 2, 9, 3, 4, 7])
    merged = merge_sparse_bins(labels, min_count=2, max_bins=3)
    assert len(np.unique(merged)) == 3
    assert np.all(np.diff(merged) >= 0)  # bins stay contiguous in length order


def test_a_lone_long_sentence_is_kept():
    # The study's trap: a bin with one member was dropped. Here it is merged.
    lengths = np.array([3] * 50 + [8] * 50 + [300])
    train, val = stratified_split(lengths, SplitSettings())
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(101))
    assert 100 in train or 100 in val


@pytest.mark.parametrize("n", [2, 3, 5, 7, 11, 100, 1001])
def test_train_and_val_partition_every_size(n):
    rng = np.random.default_rng(n)
    lengths = rng.integers(1, 120, size=n)
    train, val = stratified_split(lengths, SplitSettings(val_fraction=0.2))
    assert len(np.intersect1d(train, val)) == 0
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(n))
    assert len(val) == int(np.ceil(0.2 * n))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)


def test_too_few_sentences_is_an_error():
    with pytest.raises(XnerError, match="cannot divide 1 sentence"):
        stratified_split([4], SplitSettings())


def test_split_is_stratified_on_length():
    lengths = np.array([2] * 500 + [12] * 300 + [35] * 200)
    train, val = stratified_split(lengths, SplitSettings(val_fraction=0.2, seed=1))
    counts = {length: int(np.sum(lengths[val] == length)) for length in (2, 12, 35)}
    assert counts == {2: 100, 12: 60, 35: 40}


def test_split_is_deterministic_per_seed():
    lengths = np.random.default_rng(0).integers(1, 60, size=500)
    a = stratified_split(lengths, SplitSettings(seed=3))
    b = stratified_split(lengths, SplitSettings(seed=3))
    c = stratified_split(lengths, SplitSettings(seed=4))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize(
    "kwargs",
    [{"val_fraction": 0.0}, {"val_fraction": 1.0}, {"length_bins": (0,)}, {"length_bins": (0, 10, 5)}],
)
def test_invalid_settings(kwargs):
    with pytest.raises(ValueError):
        SplitSettings(**kwargs)


def test_split_tables_keep_ids_rows_and_order():
    rng = np.random.default_rng(7)
    lengths = rng.integers(1, 50, size=200)
    tokens = [[f"w{i}_{j}" for j in range(n)] for i, n in enumerate(lengths)]
    tags = [["O"] * n for n in lengths]
    table = sentences_table(list(range(200)), "en", tokens, tags)
    train, val = split_train(table, SplitSettings())
    assert train.num_rows + val.num_rows == 200
    rejoined = pa.concat_tables([train, val]).sort_by("id")
    assert rejoined.equals(table)
    assert train.column("id").to_pylist() == sorted(train.column("id").to_pylist())


def test_a_language_is_written_as_the_three_study_splits(tmp_path):
    tokens = [[f"w{i}"] * (1 + i % 7) for i in range(60)]
    panx_train = sentences_table(list(range(60)), "en", tokens, [["O"] * len(t) for t in tokens])
    panx_dev = sentences_table([0], "en", [["NA"]], [["O"]])
    write_parquet({tmp_path / "train.parquet": panx_train, tmp_path / "dev.parquet": panx_dev})
    out = {split: tmp_path / "splits" / f"{split}.parquet" for split in ("train", "val", "test")}
    split_language(tmp_path / "train.parquet", tmp_path / "dev.parquet", out, SplitSettings())
    train, val = read_sentences(out["train"]), read_sentences(out["val"])
    assert pa.concat_tables([train, val]).sort_by("id").equals(panx_train)
    assert read_sentences(out["test"]).equals(panx_dev)
