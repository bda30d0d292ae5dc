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
``test`` is a copy of the PAN-X split named by ``data.test_split``.
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
from xner.labels import STUDY_SPLITS

logger = logging.getLogger(__name__)


# Edges of the sentence-length bins, in words (config key split.length_bins).
DEFAULT_LENGTH_BINS: tuple[int, ...] = (0, 5, 10, 15, 20, 25, 30, 40, 100)


@dataclass(frozen=True)
class SplitSettings:
    """How PAN-X train is divided into train and val (config section ``split``)."""

    val_fraction: float = 0.2
    seed: int = 42
    length_bins: tuple[int, ...] = DEFAULT_LENGTH_BINS

    def __post_init__(self) -> None:
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in (0, 1), not {self.val_fraction}")
        edges = list(self.length_bins)
        if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:])):
            raise ValueError(f"length_bins must be at least two increasing edges, not {edges}")


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
    """Write one language's study splits: PAN-X train divided into train and val, and the test split.

    ``out_paths`` maps each of ``train``, ``val`` and ``test`` to its parquet path;
    all of them are written, or (on any error) none.
    """
    missing = [split for split in STUDY_SPLITS if split not in out_paths]
    if missing:
        raise ValueError(f"no output path for split(s) {missing}")
    train, val = split_train(read_sentences(train_path), settings)
    tables = {"train": train, "val": val, "test": read_sentences(test_path)}
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
