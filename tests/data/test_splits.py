"""xner.data.splits: length bins, merging of sparse bins, and the stratified train/val split."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from xner.data.splits import (
    SplitSettings,
    budget_language,
    entity_type_sets,
    first_of_order,
    length_bins,
    merge_sparse_bins,
    split_language,
    split_train,
    stratified_order,
    stratified_split,
    val_budget,
)
from xner.errors import XnerError
from xner.io import read_sentences, sentences_table, write_parquet

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


def test_split_settings_defaults_are_the_schemas():
    from dataclasses import asdict

    from xner.config import validate_config

    defaults = validate_config({})["split"]
    assert {**asdict(SplitSettings()), "length_bins": list(SplitSettings().length_bins)} == defaults


def test_a_test_budget_must_be_positive():
    with pytest.raises(ValueError, match="test_budget"):
        SplitSettings(test_budget=0)


# --- the stratified order -------------------------------------------------------------------------

# A hand-made table: 4 strata of (length bin, entity types) with 40, 30, 20 and 10 sentences.
STRATA = [(3, ["O", "O", "O"]), (3, ["B-PER", "I-PER", "O"]), (12, ["B-LOC"] + ["O"] * 11), (30, ["O"] * 30)]
SIZES = (40, 30, 20, 10)
# interleaved, so that source order and strata differ
CELLS = np.array([s for i in range(40) for s in range(4) if i < SIZES[s]])
LENGTHS = np.array([STRATA[c][0] for c in CELLS])
TAGS = [STRATA[c][1] for c in CELLS]


def test_entity_type_sets_are_bit_masks_of_the_types_present():
    tags = [["O"], ["B-LOC", "I-LOC"], ["B-ORG", "O", "B-PER"], ["B-PER", "I-PER", "B-PER"]]
    assert entity_type_sets(tags).tolist() == [0, 0b001, 0b110, 0b100]  # bits: LOC, ORG, PER


@pytest.mark.parametrize("seed", [0, 1, 42])
def test_the_order_holds_every_index_once(seed):
    order = stratified_order(LENGTHS, TAGS, EDGES, seed)
    assert sorted(order.tolist()) == list(range(len(CELLS)))


def test_the_order_depends_only_on_the_table_and_the_seed():
    a = stratified_order(LENGTHS, TAGS, EDGES, 42)
    assert np.array_equal(a, stratified_order(LENGTHS.copy(), [list(t) for t in TAGS], EDGES, 42))
    assert not np.array_equal(a, stratified_order(LENGTHS, TAGS, EDGES, 43))


def test_smaller_budgets_are_part_of_larger_ones():
    table = sentences_table(list(range(len(CELLS))), "de", [["w"] * n for n in LENGTHS], TAGS)
    ids = {n: set(first_of_order(table, n, EDGES, 42).column("id").to_pylist()) for n in (10, 25, 50, 100)}
    assert ids[10] < ids[25] < ids[50] < ids[100] == set(range(100))


@pytest.mark.parametrize("n", [4, 10, 20, 50, 70])
def test_a_prefix_holds_each_stratum_in_proportion_within_one_sentence(n):
    share = np.array(SIZES) / len(CELLS)
    for seed in (0, 42):
        prefix = CELLS[stratified_order(LENGTHS, TAGS, EDGES, seed)[:n]]
        counts = np.bincount(prefix, minlength=4)
        assert np.all(np.abs(counts - n * share) <= 1), (seed, counts)


def test_every_prefix_samples_every_stratum_at_one_rate():
    """Systematic sampling: within every prefix, all strata are sampled at a common rate t, each
    within one sentence of t x its size; with two strata that is within one sentence of n x share."""
    sizes = np.array(SIZES)
    for seed in range(5):
        order = stratified_order(LENGTHS, TAGS, EDGES, seed)
        for n in range(1, len(CELLS) + 1):
            counts = np.bincount(CELLS[order[:n]], minlength=4)
            assert ((counts - 1) / sizes).max() <= ((counts + 1) / sizes).min()
    two = CELLS[CELLS < 2]  # 40 and 30 sentences
    lengths, tags = LENGTHS[CELLS < 2], [t for t, c in zip(TAGS, CELLS) if c < 2]
    for seed in range(5):
        order = stratified_order(lengths, tags, EDGES, seed)
        for n in range(1, len(two) + 1):
            counts = np.bincount(two[order[:n]], minlength=2)
            assert np.all(np.abs(counts - n * np.array([40, 30]) / 70) < 1)


def test_an_empty_table_has_an_empty_order():
    assert stratified_order([], [], EDGES, 0).tolist() == []


# --- budgets ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("budget", "n_train", "n_val", "expected"),
    [(500, 8000, 2000, 125), (2000, 16000, 4000, 500), (10, 1200, 300, 3), (1, 1000, 10, 1), (7, 7, 2, 2)],
)
def test_val_keeps_its_ratio_to_train(budget, n_train, n_val, expected):
    assert val_budget(budget, n_train, n_val) == expected


def language_tables(tmp_path, n_train=80, n_val=20):
    paths = {}
    for split, n, offset in (("train", n_train, 0), ("val", n_val, n_train)):
        cells = np.arange(n) % 4
        table = sentences_table(
            list(range(offset, offset + n)),
            "de",
            [["w"] * STRATA[c][0] for c in cells],
            [STRATA[c][1] for c in cells],
        )
        paths[split] = tmp_path / "de" / f"{split}.parquet"
        write_parquet({paths[split]: table})
    return paths


def test_a_budget_takes_train_and_val_in_their_ratio_in_source_order(tmp_path):
    paths = language_tables(tmp_path)
    out = {split: tmp_path / "de" / f"{split}@8.parquet" for split in ("train", "val")}
    budget_language(paths["train"], paths["val"], 8, out, SplitSettings())
    train, val = read_sentences(out["train"]), read_sentences(out["val"])
    assert (train.num_rows, val.num_rows) == (8, 2)
    for table, source in ((train, paths["train"]), (val, paths["val"])):
        ids = table.column("id").to_pylist()
        assert ids == sorted(ids)
        rows = {row["id"]: row for row in read_sentences(source).to_pylist()}
        assert table.to_pylist() == [rows[i] for i in ids]  # whole rows, ids kept
    # 8 of 80 in 4 equal strata: 2 of each
    assert sorted(np.bincount(np.array(train.column("id").to_pylist()) % 4).tolist()) == [2, 2, 2, 2]


def test_a_budget_larger_than_train_is_one_error_and_writes_nothing(tmp_path):
    paths = language_tables(tmp_path)
    out = {split: tmp_path / "de" / f"{split}@81.parquet" for split in ("train", "val")}
    with pytest.raises(XnerError, match=r"de@81: the budget is larger than de's train split \(80 sentences"):
        budget_language(paths["train"], paths["val"], 81, out, SplitSettings())
    assert not any(path.exists() for path in out.values())
    budget_language(paths["train"], paths["val"], 80, out, SplitSettings())  # all of it is fine
    assert read_sentences(out["train"]).equals(read_sentences(paths["train"]))


def test_a_test_budget_keeps_the_first_of_the_order_in_source_order(tmp_path, caplog):
    paths = language_tables(tmp_path, n_train=60, n_val=100)  # val: 100 sentences, the test split here
    settings = SplitSettings(test_budget=40)
    out = {split: tmp_path / "splits" / f"{split}.parquet" for split in ("train", "val", "test")}
    split_language(paths["train"], paths["val"], out, settings)
    test = read_sentences(out["test"])
    assert test.num_rows == 40 and test.column("id").to_pylist() == sorted(test.column("id").to_pylist())
    assert test.equals(first_of_order(read_sentences(paths["val"]), 40, EDGES, 42))
    # a language with fewer sentences than the budget keeps them all, and the log says so
    with caplog.at_level("INFO"):
        split_language(paths["train"], paths["val"], out, SplitSettings(test_budget=500))
    assert read_sentences(out["test"]).equals(read_sentences(paths["val"]))
    assert "test budget 500, the test split has 100 sentences: all kept" in caplog.text
