"""Dataset statistics (``results/tables/data_stats.csv`` and ``.md``).

One row per language and split (``train``, ``val``, ``test``), then one row per
training mixture of the configured experiments (``en+it``: the train and val
sentences of every language in it, split ``train+val``). Tokens are words (not
sub-words); ``unique_tokens`` counts distinct token strings, case-sensitive;
the tag columns count words per tag.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from xner.io import read_sentences
from xner.labels import LABELS

STATS_COLUMNS: tuple[str, ...] = ("langs", "split", "sentences", "tokens", "unique_tokens", *LABELS)
SPLITS: tuple[str, ...] = ("train", "val", "test")
MIXTURE_SPLIT = "train+val"


def count(tables: Iterable[pa.Table]) -> dict[str, int]:
    """Sentences, tokens, distinct tokens and words per tag over some sentence tables."""
    sentences = 0
    vocabulary: set[str] = set()
    tags: Counter[str] = Counter()
    for table in tables:
        sentences += table.num_rows
        vocabulary.update(pc.list_flatten(table.column("tokens")).to_pylist())
        counts = pc.value_counts(pc.list_flatten(table.column("tags"))).to_pylist()
        tags.update({c["values"]: c["counts"] for c in counts})
    row = {
        "sentences": sentences,
        "tokens": sum(tags.values()),
        "unique_tokens": len(vocabulary),
    }
    row.update({label: tags.get(label, 0) for label in LABELS})
    return row


def data_stats(
    split_paths: Mapping[tuple[str, str], str | Path], mixtures: Sequence[Sequence[str]] = ()
) -> pd.DataFrame:
    """The statistics table.

    ``split_paths`` maps ``(lang, split)`` to a split's parquet file, for split in
    ``train``, ``val``, ``test``; languages appear in the order of the mapping.
    ``mixtures`` are the training mixtures (tuples of languages) to add rows for.
    """
    tables = {key: read_sentences(path) for key, path in split_paths.items()}
    languages = list(dict.fromkeys(lang for lang, _ in split_paths))
    rows = []
    for lang in languages:
        for split in SPLITS:
            if (lang, split) in tables:
                rows.append({"langs": lang, "split": split, **count([tables[lang, split]])})
    for mixture in mixtures:
        parts = [tables[lang, split] for lang in mixture for split in ("train", "val")]
        rows.append({"langs": "+".join(mixture), "split": MIXTURE_SPLIT, **count(parts)})
    return pd.DataFrame(rows, columns=list(STATS_COLUMNS))
