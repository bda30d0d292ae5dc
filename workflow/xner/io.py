"""Writing outputs safely: atomic files, checksums, Parquet and tables.

Every output of xner is written to a temporary file beside its final path and
renamed into place only once complete, so a failed or killed job never leaves
a partial file that a later run would mistake for a result.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

# Sentence tables (results/data, results/splits) all have this schema.
SENTENCE_SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("lang", pa.string(), nullable=False),
        pa.field("tokens", pa.list_(pa.string()), nullable=False),
        pa.field("tags", pa.list_(pa.string()), nullable=False),
    ]
)


def _temporary_file(final: Path) -> Path:
    """A new empty file beside ``final``, with the permissions a plain new file would get.

    (``mkstemp`` makes files readable by their owner alone; on a shared project
    directory the group must be able to read results too.)
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_name, 0o666 & ~umask)
    return Path(tmp_name)


@contextlib.contextmanager
def atomic_path(final: str | Path) -> Iterator[Path]:
    """Yield a temporary path in ``final``'s directory; rename it to ``final`` on success.

    On any exception the temporary file (or directory) is removed and ``final``
    is left as it was.
    """
    final = Path(final)
    tmp = _temporary_file(final)
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_outputs(*finals: str | Path) -> Iterator[list[Path]]:
    """Like :func:`atomic_path` for several files: all are renamed in place, or none.

    If the block fails, every temporary file is removed and no final path is
    touched. (The renames themselves happen one after the other at the end.)
    """
    with contextlib.ExitStack() as stack:
        tmps = [stack.enter_context(_deferred(final)) for final in finals]
        yield [tmp for tmp, _ in tmps]
        for tmp, final in tmps:
            os.replace(tmp, final)


@contextlib.contextmanager
def _deferred(final: str | Path) -> Iterator[tuple[Path, Path]]:
    final = Path(final)
    tmp = _temporary_file(final)
    try:
        yield tmp, final
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_directory(final: str | Path) -> Iterator[Path]:
    """Yield a new empty directory beside ``final``; put it in ``final``'s place on success.

    ``final`` is never missing nor half-written: until the block has succeeded it
    is left as it was (and the temporary directory is removed on any exception);
    then an existing ``final`` is swapped with the new directory in one step
    (Linux's ``renameat2`` with ``RENAME_EXCHANGE``) and the old one removed.
    Where that call is missing, the old directory is moved aside, the new one
    moved in, and the old one put back if that fails.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes directories private to their owner
    try:
        yield tmp
        _put_in_place(tmp, final)
    except BaseException:
        _remove(tmp)
        raise


def _put_in_place(new: Path, final: Path) -> None:
    if not final.exists() and not final.is_symlink():
        os.replace(new, final)
    elif exchange_paths(new, final):
        _remove(new)  # which now holds the old directory
    else:
        old = final.parent / f".{final.name}.{os.getpid()}.old"
        os.replace(final, old)
        try:
            os.replace(new, final)
        except BaseException:
            os.replace(old, final)
            raise
        _remove(old)


def exchange_paths(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def sha256_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """The hex sha256 digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_directory(path: str | Path, exclude: tuple[str, ...] = ()) -> str:
    """One hex sha256 digest over a directory's files: their relative paths and bytes, in sorted order.

    ``exclude``: relative paths left out (a model's card, which describes the model but is not it).
    """
    root = Path(path)
    digest = hashlib.sha256()
    files = (p for p in root.rglob("*") if p.is_file() and p.relative_to(root).as_posix() not in exclude)
    for file in sorted(files):
        digest.update(file.relative_to(root).as_posix().encode() + b"\0" + bytes.fromhex(sha256_file(file)))
    return digest.hexdigest()


def write_parquet(tables: dict[str | Path, pa.Table]) -> None:
    """Write tables to Parquet files (path -> table), all of them or, on error, none.

    The settings are fixed so that the same table always gives the same bytes.
    """
    with atomic_outputs(*tables) as tmps:
        for tmp, table in zip(tmps, tables.values()):
            pq.write_table(table, tmp, compression="zstd", store_schema=False)


def sentences_table(ids, lang, tokens, tags) -> pa.Table:
    """Build a sentence table (:data:`SENTENCE_SCHEMA`) from parallel Python lists."""
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "lang": pa.array([lang] * len(ids) if isinstance(lang, str) else lang, pa.string()),
            "tokens": pa.array(tokens, pa.list_(pa.string())),
            "tags": pa.array(tags, pa.list_(pa.string())),
        },
        schema=SENTENCE_SCHEMA,
    )


def read_sentences(path: str | Path) -> pa.Table:
    """Read a sentence table written by :func:`write_parquet` and check its schema."""
    table = pq.read_table(path)
    if not table.schema.equals(SENTENCE_SCHEMA):
        from xner.errors import DataFormatError

        raise DataFormatError(path, None, f"not an xner sentence table: schema {table.schema}")
    return table


def markdown_table(df: pd.DataFrame) -> str:
    """Render a DataFrame as a GitHub-flavoured Markdown table (numbers right-aligned)."""
    headers = [str(c) for c in df.columns]
    numeric = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]
    rows = [[_cell(v) for v in row] for row in df.itertuples(index=False)]
    align = ["---:" if n else ":---" for n in numeric]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    if isinstance(value, float):
        text = f"{value:.4g}"
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def json_text(value: Any, *, sort_keys: bool = False, ensure_ascii: bool = True) -> str:
    """xner's JSON files: indented by 2, with a final newline."""
    return json.dumps(value, indent=2, sort_keys=sort_keys, ensure_ascii=ensure_ascii) + "\n"


def write_json(path: str | Path, value: Any, *, sort_keys: bool = False, ensure_ascii: bool = True) -> None:
    """Write a JSON file atomically (:func:`json_text`)."""
    write_text(path, json_text(value, sort_keys=sort_keys, ensure_ascii=ensure_ascii))


def write_text(path: str | Path, text: str) -> None:
    """Write a text file (Markdown, checksums) atomically, in UTF-8."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_table(
    df: pd.DataFrame,
    csv_path: str | Path,
    md_path: str | Path | None = None,
    note: str | None = None,
    view: pd.DataFrame | None = None,
    markdown: str | None = None,
) -> None:
    """Write a table as CSV (and Markdown beside it, ``note`` as a paragraph under it), atomically, both or neither.

    ``view``: what the Markdown shows instead of ``df`` (formatted cells, e.g. 'mean ± std');
    ``markdown``: the Markdown text itself, where the table's own rendering is not wanted.
    """
    paths = [csv_path] if md_path is None else [csv_path, md_path]
    with atomic_outputs(*paths) as tmps:
        df.to_csv(tmps[0], index=False, lineterminator="\n")
        if md_path is not None:
            if markdown is None:
                markdown = markdown_table(df if view is None else view) + (f"\n{note}\n" if note else "")
            Path(tmps[1]).write_text(markdown, encoding="utf-8")


def write_predictions_tsv(path: str | Path, tokens, gold, pred) -> None:
    """``token<TAB>gold<TAB>pred`` per word, a blank line between sentences."""
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for s, (words, g, p) in enumerate(zip(tokens, gold, pred)):
            if s:
                f.write("\n")
            for row in zip(words, g, p):
                f.write("\t".join(row) + "\n")


# The per-sentence counts beside each evaluation ({lang}.counts.parquet): one row per test sentence, for
# each entity type its true positives, false positives and misses under strict IOB2
# (xner.evaluation.spans.sentence_counts), so that resampling never rereads the predictions TSV.
COUNT_NAMES: tuple[str, ...] = ("tp", "fp", "fn")
GOLD_DIGEST_KEY = b"xner.gold_sha256"


def write_sentence_counts(path: str | Path, counts, types, gold_sha256: str) -> None:
    """Write per-sentence counts (shape (sentences, types, 3)) as Parquet, columns ``{TYPE}_{tp,fp,fn}``.

    ``gold_sha256`` (:func:`xner.evaluation.spans.gold_digest` of the gold tags) goes into the file's
    metadata, so that readers can check that two runs were scored on the same sentences.
    """
    import numpy as np

    counts = np.asarray(counts)
    if counts.ndim != 3 or counts.shape[1:] != (len(types), len(COUNT_NAMES)):
        raise ValueError(f"counts of shape {counts.shape} for {len(types)} entity types")
    columns = {
        f"{t}_{name}": pa.array(counts[:, k, j], pa.int32())
        for k, t in enumerate(types)
        for j, name in enumerate(COUNT_NAMES)
    }
    table = pa.table(columns).replace_schema_metadata({GOLD_DIGEST_KEY: gold_sha256.encode()})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def read_sentence_counts(path: str | Path, types) -> tuple[Any, str]:
    """Per-sentence counts written by :func:`write_sentence_counts` (int64, shape (sentences, types, 3)) and
    the gold tags' digest."""
    import numpy as np

    from xner.errors import DataFormatError

    table = pq.read_table(path)
    expected = [f"{t}_{name}" for t in types for name in COUNT_NAMES]
    digest = (table.schema.metadata or {}).get(GOLD_DIGEST_KEY)
    if table.column_names != expected or digest is None:
        raise DataFormatError(
            path,
            None,
            f"not an xner counts table: columns {', '.join(table.column_names)}"
            + ("" if digest else ", no gold digest"),
        )
    flat = (
        np.column_stack([table.column(c).to_numpy() for c in expected])
        if len(table)
        else np.zeros((0, len(expected)))
    )
    return flat.astype(np.int64).reshape(len(table), len(types), len(COUNT_NAMES)), digest.decode()


def read_predictions_tsv(path: str | Path) -> tuple[list[list[str]], list[list[str]], list[list[str]]]:
    """Read a predictions TSV back: tokens, gold tags, predicted tags per sentence."""
    from xner.errors import DataFormatError

    tokens: list[list[str]] = [[]]
    gold: list[list[str]] = [[]]
    pred: list[list[str]] = [[]]
    with open(path, encoding="utf-8", newline="\n") as f:
        for lineno, line in enumerate(f, start=1):
            line = line.rstrip("\n")
            if not line:
                tokens.append([])
                gold.append([])
                pred.append([])
                continue
            parts = line.split("\t")
            if len(parts) != 3:
                raise DataFormatError(path, lineno, f"expected token, gold, pred; found {len(parts)} columns")
            for column, value in zip((tokens, gold, pred), parts):
                column[-1].append(value)
    keep = [i for i, t in enumerate(tokens) if t]
    return [tokens[i] for i in keep], [gold[i] for i in keep], [pred[i] for i in keep]
