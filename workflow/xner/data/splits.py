"""Stratified train/validation splits (``results/splits/{lang}/{train,val,test}.parquet``).

PAN-X train is divided into ``train`` and ``val`` by a split stratified on
sentence-length bins, as in the study (80/20, bins 0-5, 5-10, ..., 40-100
words), with two differences that keep every sentence:

- the last bin is open-ended: sentences longer than the last edge fall into it
  (the study's bins ended at 100 words, and en has sentences of up to 439);
- a bin with too few members to be stratified is merged with a neighbour
  instead of being dropped (the study silently dropped every sentence whose bin
  had fewer than two members).

``train`` and ``val`` together are exactly PAN-X train, each in source order.
``test`` is a copy of the PAN-X split named by ``data.test_split``, or with
``split.test_budget`` N its first N sentences in the stratified order below.

**The stratified order** (:func:`stratified_order`) ranks a table's sentences so
that every prefix is a proportional stratified sample: strata are (length bin) x
(the set of entity types in the sentence); within a stratum of size s, sentences
are permuted at random and the k-th gets the key (k + u) / s, with u a random
start in [0, 1) per stratum (systematic sampling); the order sorts by key. The
first n sentences then hold about n x share of every stratum (within a sentence
or so), the first 100 are among the first 500, and the order depends only on the
table and the seed. A budget ``en@2000`` (``train@2000.parquet``,
:func:`budget_language`) is such a prefix of train, and of val in the same ratio.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.model_selection import train_test_split

from xner.errors import XnerError
from xner.io import read_sentences, write_parquet
from xner.labels import ENTITY_TYPES, STUDY_SPLITS

logger = logging.getLogger(__name__)


# Edges of the sentence-length bins, in words (config key split.length_bins).
DEFAULT_LENGTH_BINS: tuple[int, ...] = (0, 5, 10, 15, 20, 25, 30, 40, 100)


@dataclass(frozen=True)
class SplitSettings:
    """How PAN-X train is divided into train and val (config section ``split``)."""

    val_fraction: float = 0.2
    seed: int = 42
    length_bins: tuple[int, ...] = DEFAULT_LENGTH_BINS
    test_budget: int | None = None  # most test sentences (the first of the stratified order); None: all

    def __post_init__(self) -> None:
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in (0, 1), not {self.val_fraction}")
        edges = list(self.length_bins)
        if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:])):
            raise ValueError(f"length_bins must be at least two increasing edges, not {edges}")
        if self.test_budget is not None and self.test_budget < 1:
            raise ValueError(f"test_budget must be at least 1, not {self.test_budget}")


def length_bins(lengths: Sequence[int] | np.ndarray, edges: Sequence[int]) -> np.ndarray:
    """The bin of each length: bin i holds lengths in (edges[i], edges[i+1]].

    Lengths up to ``edges[0]`` go into the first bin and lengths above the last
    edge into the last one, so every sentence has a bin.
    """
    lengths = np.asarray(lengths)
    inner = np.asarray(edges[1:-1])
    return np.searchsorted(inner, lengths, side="left")


def bin_names(edges: Sequence[int]) -> list[str]:
    """The names of :func:`length_bins`' bins: ``1-5``, ``6-10``, ..., ``>40``."""
    return [f"{a + 1}-{b}" for a, b in zip(edges[:-2], edges[1:-1])] + [f">{edges[-2]}"]


def merge_sparse_bins(labels: np.ndarray, min_count: int, max_bins: int | None = None) -> np.ndarray:
    """Merge bins until each has at least ``min_count`` members (and at most ``max_bins`` remain).

    Bins are ordered (by length); the smallest bin that is too small is merged into
    its smaller neighbour (the shorter one on a tie), and this repeats. Returns new
    labels 0..k-1 in bin order. No member is ever dropped.
    """
    values, counts = np.unique(labels, return_counts=True)
    groups = [[v] for v in values]
    sizes = list(counts)

    def too_small(i: int) -> bool:
        return sizes[i] < min_count

    while len(groups) > 1 and (
        any(too_small(i) for i in range(len(groups))) or (max_bins and len(groups) > max_bins)
    ):
        candidates = [i for i in range(len(groups)) if too_small(i)] or list(range(len(groups)))
        i = min(candidates, key=lambda j: (sizes[j], j))
        neighbours = [j for j in (i - 1, i + 1) if 0 <= j < len(groups)]
        j = min(neighbours, key=lambda k: (sizes[k], k))
        lo, hi = sorted((i, j))
        groups[lo] += groups.pop(hi)
        sizes[lo] += sizes.pop(hi)
    mapping = {v: new for new, group in enumerate(groups) for v in group}
    return np.array([mapping[v] for v in labels], dtype=np.int64)


def stratified_split(
    lengths: Sequence[int] | np.ndarray, settings: SplitSettings
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the train and val sentences, each sorted, together every index once."""
    lengths = np.asarray(lengths)
    n = len(lengths)
    n_val = int(np.ceil(settings.val_fraction * n))  # as scikit-learn rounds a fractional test_size
    n_train = n - n_val
    if n_val < 1 or n_train < 1:
        raise XnerError(
            f"cannot divide {n} sentence(s) into train and val with val_fraction {settings.val_fraction}"
        )
    labels = length_bins(lengths, settings.length_bins)
    # Stratification needs two members per bin, and no more bins than sentences on either side.
    labels = merge_sparse_bins(labels, min_count=2, max_bins=min(n_val, n_train))
    indices = np.arange(n)
    stratify = labels if len(np.unique(labels)) > 1 else None
    train_idx, val_idx = train_test_split(
        indices, test_size=n_val, random_state=settings.seed, shuffle=True, stratify=stratify
    )
    return np.sort(train_idx), np.sort(val_idx)


def entity_type_sets(tags: Sequence[Sequence[str]]) -> np.ndarray:
    """Each sentence's set of entity types (ENTITY_TYPES) as a bit mask: bit i set if type i occurs."""
    bits = {label: 1 << i for i, label in enumerate(ENTITY_TYPES)}
    return np.array(
        [sum(bits[t] for t in {tag[2:] for tag in sentence if tag != "O"}) for sentence in tags],
        dtype=np.int64,
    )


def stratified_order(
    lengths: Sequence[int] | np.ndarray, tags: Sequence[Sequence[str]], edges: Sequence[int], seed: int
) -> np.ndarray:
    """Every index once, ordered so that each prefix is a proportional stratified sample.

    Strata are (length bin of ``edges``) x (the set of entity types in the
    sentence's ``tags``), numbered in that order. From ``seed`` are drawn first a
    random start u in [0, 1) per stratum, then a random permutation within each
    stratum (in stratum order); the sentence of rank k in a stratum of size s gets
    the key (k + u) / s, and the order sorts by key, ties by stratum number.
    """
    lengths = np.asarray(lengths)
    if len(tags) != len(lengths):
        raise ValueError(f"{len(lengths)} lengths but {len(tags)} tag sequences")
    kinds = 1 << len(ENTITY_TYPES)
    cells = length_bins(lengths, edges).astype(np.int64) * kinds + entity_type_sets(tags)
    _, strata, sizes = np.unique(cells, return_inverse=True, return_counts=True)
    strata = strata.reshape(-1)
    rng = np.random.default_rng(seed)
    starts = rng.random(len(sizes))
    keys = np.empty(len(lengths), dtype=np.float64)
    for stratum, size in enumerate(sizes):
        members = np.flatnonzero(strata == stratum)
        keys[members] = (rng.permutation(size) + starts[stratum]) / size
    return np.lexsort((strata, keys))


def first_of_order(table: pa.Table, n: int, edges: Sequence[int], seed: int) -> pa.Table:
    """The first ``n`` sentences of ``table``'s :func:`stratified_order`, in source order (ids kept)."""
    lengths = pc.list_value_length(table.column("tokens")).to_numpy(zero_copy_only=False)
    order = stratified_order(lengths, table.column("tags").to_pylist(), edges, seed)
    return table.take(pa.array(np.sort(order[:n])))


def val_budget(budget: int, n_train: int, n_val: int) -> int:
    """The val sentences that go with ``budget`` train sentences: val keeps its ratio to train.

    round(budget x n_val / n_train), rounded half up, at least 1 (and at most n_val).
    """
    return min(n_val, max(1, (2 * budget * n_val + n_train) // (2 * n_train)))


def _language(table: pa.Table, path: str | Path) -> str:
    """The language of a split table (its lang column), for messages; its directory if it is empty."""
    return table.column("lang")[0].as_py() if table.num_rows else Path(path).parent.name


def budget_language(
    train_path: str | Path,
    val_path: str | Path,
    budget: int,
    out_paths: Mapping[str, str | Path],
    settings: SplitSettings,
) -> None:
    """Write a language's budgeted train and val: the first ``budget`` sentences of train's
    stratified order, and the first :func:`val_budget` of val's, each in source order.

    ``out_paths`` maps ``train`` and ``val`` to their parquet paths; both are
    written, or (on any error) none. A budget larger than train is an error.
    """
    train, val = read_sentences(train_path), read_sentences(val_path)
    lang = _language(train, train_path)
    if budget < 1:
        raise XnerError(f"{lang}@{budget}: a budget is at least 1 sentence")
    if budget > train.num_rows:
        raise XnerError(
            f"{lang}@{budget}: the budget is larger than {lang}'s train split "
            f"({train.num_rows} sentences, {train_path})"
        )
    n_val = val_budget(budget, train.num_rows, val.num_rows)
    edges, seed = settings.length_bins, settings.seed
    tables = {
        "train": first_of_order(train, budget, edges, seed),
        "val": first_of_order(val, n_val, edges, seed),
    }
    logger.info(
        "%s@%d: train %d of %d, val %d of %d sentences",
        lang,
        budget,
        budget,
        train.num_rows,
        n_val,
        val.num_rows,
    )
    write_parquet({out_paths[split]: tables[split] for split in ("train", "val")})


def budgeted_test(test: pa.Table, settings: SplitSettings, path: str | Path = "") -> pa.Table:
    """The study's test split: all of ``test``, or its first ``settings.test_budget`` sentences of the
    stratified order, in source order."""
    budget = settings.test_budget
    if budget is None:
        return test
    lang = _language(test, path)
    if test.num_rows <= budget:
        logger.info(
            "%s: test budget %d, the test split has %d sentences: all kept", lang, budget, test.num_rows
        )
        return test
    logger.info("%s: test budget %d of %d sentences", lang, budget, test.num_rows)
    return first_of_order(test, budget, settings.length_bins, settings.seed)


def split_train(train: pa.Table, settings: SplitSettings) -> tuple[pa.Table, pa.Table]:
    """Divide a PAN-X train table into train and val tables (rows keep their ids and order)."""
    lengths = pc.list_value_length(train.column("tokens")).to_numpy()
    train_idx, val_idx = stratified_split(lengths, settings)
    logger.info(
        "train %d + val %d = %d sentences; per length bin:\n%s",
        len(train_idx),
        len(val_idx),
        len(lengths),
        bin_report(lengths, train_idx, val_idx, settings.length_bins),
    )
    return train.take(pa.array(train_idx)), train.take(pa.array(val_idx))


def split_language(
    train_path: str | Path,
    test_path: str | Path,
    out_paths: Mapping[str, str | Path],
    settings: SplitSettings,
) -> None:
    """Write one language's study splits: PAN-X train divided into train and val, and the test split
    (all of it, or its first ``settings.test_budget`` sentences of the stratified order).

    ``out_paths`` maps each of ``train``, ``val`` and ``test`` to its parquet path;
    all of them are written, or (on any error) none.
    """
    missing = [split for split in STUDY_SPLITS if split not in out_paths]
    if missing:
        raise ValueError(f"no output path for split(s) {missing}")
    train, val = split_train(read_sentences(train_path), settings)
    tables = {
        "train": train,
        "val": val,
        "test": budgeted_test(read_sentences(test_path), settings, test_path),
    }
    write_parquet({out_paths[split]: tables[split] for split in STUDY_SPLITS})


def bin_report(lengths: np.ndarray, train_idx: np.ndarray, val_idx: np.ndarray, edges: Sequence[int]) -> str:
    """A short text table of sentences per length bin in train and val, for the log."""
    labels = length_bins(lengths, edges)
    names = bin_names(edges)
    rows = ["bin        train     val  val%"]
    for b, name in enumerate(names):
        t = int(np.sum(labels[train_idx] == b))
        v = int(np.sum(labels[val_idx] == b))
        share = f"{100 * v / (t + v):5.1f}" if t + v else "    -"
        rows.append(f"{name:<8} {t:7d} {v:7d} {share}")
    return "\n".join(rows)
