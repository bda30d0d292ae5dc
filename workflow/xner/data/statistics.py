"""Dataset statistics (``results/tables/data_stats.csv`` and ``.md``).

One row per language and split (``train``, ``val``, ``test``), then one row per
training mixture of the configured experiments (``en+it``: the train and val
sentences of every language in it, split ``train+val``; a language with a budget,
``en@2000+it``, counts its budgeted tables ``train@2000`` and ``val@2000``). Tokens are words (not
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

from xner.config import Member, budgeted_name, mixture_name, parse_budgeted, parse_mixture
from xner.errors import XnerError
from xner.io import read_sentences
from xner.labels import LABELS, STUDY_SPLITS, TRAINING_SPLITS

STATS_COLUMNS: tuple[str, ...] = ("langs", "split", "sentences", "tokens", "unique_tokens", *LABELS)
MIXTURE_SPLIT = "+".join(TRAINING_SPLITS)


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


def _is_split_table(path: Path) -> bool:
    """``{split}.parquet``, or a budgeted ``{train,val}@{N}.parquet``."""
    try:
        split, budget = parse_budgeted(path.stem)
    except ValueError:
        return False
    return split in (STUDY_SPLITS if budget is None else TRAINING_SPLITS)


def stats_inputs(
    paths: Iterable[str | Path], mixtures: Iterable[str]
) -> tuple[dict[tuple[str, str], Path], list[tuple[Member, ...]]]:
    """The split tables by ``(lang, split)`` and the mixtures (``en@2000+it``) parsed, checked.

    Each path must be a split table ``.../{lang}/{split}.parquet`` (split ``train``,
    ``val`` or ``test``, or a budgeted ``train@N`` or ``val@N``), and every language
    of a mixture needs its ``train`` and ``val`` tables (with its budget) among
    them; otherwise :class:`XnerError` names what is wrong.
    """
    paths = [Path(p) for p in paths]
    bad = [str(p) for p in paths if not _is_split_table(p)]
    if bad:
        names = ",".join(STUDY_SPLITS)
        raise XnerError(
            f"not a split table (.../{{lang}}/{{{names}}}.parquet or .../{{lang}}/{{train,val}}@N.parquet): "
            f"{', '.join(bad)}"
        )
    split_paths = {(path.parent.name, path.stem): path for path in paths}
    try:
        parsed = [parse_mixture(m) for m in mixtures]
    except ValueError as e:
        raise XnerError(f"--mixtures: {e}") from None
    missing = sorted(
        {f"{lang}/{split}" for m in parsed for lang, split in _mixture_tables(m)}
        - {f"{lang}/{split}" for lang, split in split_paths}
    )
    if missing:
        raise XnerError(f"mixtures need split tables that are not among the inputs: {', '.join(missing)}")
    return split_paths, parsed


def _mixture_tables(mixture: Sequence[Member]) -> list[tuple[str, str]]:
    """``(lang, split)`` of the tables a mixture is made of: train and val of each language, budgeted."""
    return [(lang, budgeted_name(split, budget)) for lang, budget in mixture for split in TRAINING_SPLITS]


def data_stats(
    split_paths: Mapping[tuple[str, str], str | Path], mixtures: Sequence[Sequence[Member]] = ()
) -> pd.DataFrame:
    """The statistics table.

    ``split_paths`` maps ``(lang, split)`` to a split's parquet file, for split in
    ``train``, ``val``, ``test`` (and budgeted ``train@N``, ``val@N``, counted in
    mixtures only); languages appear in the order of the mapping. ``mixtures`` are
    the training mixtures (members: language and budget) to add rows for, labelled
    like their runs (``en@2000+de``).
    """
    tables = {key: read_sentences(path) for key, path in split_paths.items()}
    languages = list(dict.fromkeys(lang for lang, _ in split_paths))
    rows = []
    for lang in languages:
        for split in STUDY_SPLITS:
            if (lang, split) in tables:
                rows.append({"langs": lang, "split": split, **count([tables[lang, split]])})
    for mixture in mixtures:
        parts = [tables[key] for key in _mixture_tables(mixture)]
        rows.append({"langs": mixture_name(mixture), "split": MIXTURE_SPLIT, **count(parts)})
    return pd.DataFrame(rows, columns=list(STATS_COLUMNS))
