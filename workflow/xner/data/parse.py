"""Parse raw PAN-X files into sentence tables (``results/data/{lang}/{split}.parquet``).

Three raw formats come out of the download step (see ``manifest.json`` in each
raw directory):

- ``panx_archive``: the upstream ``{lang}.tar.gz`` of Rahimi et al., members
  ``train``, ``dev``, ``test``, lines ``lang:token<TAB>tag``;
- ``xtreme_tsv``: XTREME's processed files ``{split}-{lang}.tsv[.gz]``, lines
  ``token<TAB>tag``;
- ``hf_parquet``: the ``PAN-X.{lang}`` parquet files of ``google/xtreme``,
  columns ``tokens`` and integer ``ner_tags``.

All three give the same table for the same language: one row per sentence in
source order, columns ``id`` (0-based position), ``lang``, ``tokens``, ``tags``
(see :data:`xner.io.SENTENCE_SCHEMA`). Tokens are kept exactly as published:
no token is ever read as a missing value, stripped or normalised. In the raw
format only the language prefix up to the first ``:`` is removed. Blank lines
separate sentences; a last sentence without a blank line after it is kept, and
no empty sentence is ever produced. Anything else that does not fit the format
is an error that names the file and line.
"""

from __future__ import annotations

import gzip
import json
import logging
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from xner.errors import DataFormatError
from xner.io import sentences_table, write_parquet
from xner.labels import LABEL_TO_ID, LABELS, PANX_SPLITS

logger = logging.getLogger(__name__)

_TAG_HELP = ", ".join(LABELS)


@dataclass
class Sentences:
    """Parallel lists of sentences: ``tokens[i]`` and ``tags[i]`` are the i-th sentence."""

    tokens: list[list[str]]
    tags: list[list[str]]

    def __len__(self) -> int:
        return len(self.tokens)


def parse_conll(data: bytes, where: str, *, lang_prefix: str | None = None) -> Sentences:
    """Parse ``token<TAB>tag`` lines (blank lines between sentences) from raw bytes.

    ``where`` names the source in error messages (``path`` or ``path (member 'train')``).
    With ``lang_prefix``, every token must start with ``{lang_prefix}:``, which is removed
    (only up to the first colon: ``en:3:15`` is the token ``3:15``).

    Line endings may be LF or CRLF; a UTF-8 byte-order mark at the start is ignored.
    Several blank lines in a row separate sentences like one.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the newline that ends the last line
    out = Sentences([], [])
    tokens: list[str] = []
    tags: list[str] = []
    for lineno, raw in enumerate(lines, start=1):
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if not raw:
            if tokens:
                out.tokens.append(tokens)
                out.tags.append(tags)
                tokens, tags = [], []
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            bad = raw[e.start : e.start + 4]
            raise DataFormatError(
                where, lineno, f"invalid UTF-8 (byte {e.start + 1} of the line: {bad!r})"
            ) from None
        parts = line.split("\t")
        if len(parts) != 2:
            raise DataFormatError(
                where, lineno, f"expected 2 tab-separated columns (token, tag), found {len(parts)}: {line!r}"
            )
        token, tag = parts
        if lang_prefix is not None:
            prefix, colon, token = token.partition(":")
            if not colon:
                raise DataFormatError(where, lineno, f"missing language prefix '{lang_prefix}:' in {line!r}")
            if prefix != lang_prefix:
                raise DataFormatError(
                    where, lineno, f"language prefix '{prefix}:' where '{lang_prefix}:' was expected"
                )
        if token == "":
            raise DataFormatError(where, lineno, f"empty token in {line!r}")
        if tag not in LABEL_TO_ID:
            raise DataFormatError(where, lineno, f"unknown tag {tag!r} (PAN-X tags are {_TAG_HELP})")
        tokens.append(token)
        tags.append(tag)
    if tokens:
        out.tokens.append(tokens)
        out.tags.append(tags)
    return out


def read_panx_tsv(path: Path, where: str | None = None) -> Sentences:
    """Parse a PAN-X file in XTREME's layout, ``{split}-{lang}.tsv[.gz]`` (``token<TAB>tag`` lines)."""
    where = where or str(path)
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise DataFormatError(where, None, f"not a valid gzip file ({e})") from None
    return parse_conll(data, where)


def read_archive_member(path: Path, member: str, lang: str, where: str | None = None) -> Sentences:
    """Parse member ``member`` (``train``, ``dev`` or ``test``) of an upstream ``{lang}.tar.gz``."""
    where = where or str(path)
    try:
        with tarfile.open(path, "r:*") as tar:
            names = {m.name.removeprefix("./"): m for m in tar.getmembers() if m.isfile()}
            if member not in names:
                raise DataFormatError(
                    where, None, f"archive has no member '{member}' (members: {', '.join(sorted(names))})"
                )
            f = tar.extractfile(names[member])
            assert f is not None  # a regular file always has contents
            data = f.read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        raise DataFormatError(where, None, f"not a readable tar archive ({e})") from None
    return parse_conll(data, f"{where} (member '{member}')", lang_prefix=lang)


def read_hf_parquet(paths: list[Path], lang: str, wheres: list[str] | None = None) -> Sentences:
    """Read the ``PAN-X.{lang}`` parquet shards of ``google/xtreme`` (in the given order).

    ``ner_tags`` are integers in the order of :data:`xner.labels.LABELS`. Rows with no
    tokens are skipped with a warning that names them (they are not sentences).
    """
    out = Sentences([], [])
    for path, where in zip(paths, wheres or [str(p) for p in paths]):
        try:
            table = pq.read_table(path)
        except (pa.ArrowException, OSError) as e:
            raise DataFormatError(where, None, f"not a readable parquet file ({e})") from None
        missing = {"tokens", "ner_tags"} - set(table.column_names)
        if missing:
            raise DataFormatError(
                where, None, f"missing column(s) {sorted(missing)} (columns: {table.column_names})"
            )
        tokens_col = table.column("tokens").to_pylist()
        tags_col = table.column("ner_tags").to_pylist()
        langs_col = table.column("langs").to_pylist() if "langs" in table.column_names else None
        empty_rows = []
        for row, (tokens, tag_ids) in enumerate(zip(tokens_col, tags_col), start=1):
            if not tokens and not tag_ids:
                empty_rows.append(row)
                continue
            if tokens is None or tag_ids is None or len(tokens) != len(tag_ids):
                raise DataFormatError(
                    where,
                    row,
                    f"{len(tokens or [])} tokens but {len(tag_ids or [])} ner_tags",
                    unit="row",
                )
            for token, tag_id in zip(tokens, tag_ids):
                if token is None or token == "":
                    raise DataFormatError(where, row, "empty token", unit="row")
                if tag_id is None or not 0 <= tag_id < len(LABELS):
                    raise DataFormatError(
                        where, row, f"ner_tag {tag_id!r} outside 0..{len(LABELS) - 1}", unit="row"
                    )
            if langs_col is not None and any(x != lang for x in langs_col[row - 1] or []):
                raise DataFormatError(
                    where, row, f"langs {sorted(set(langs_col[row - 1]))} but expected {lang!r}", unit="row"
                )
            out.tokens.append(list(tokens))
            out.tags.append([LABELS[t] for t in tag_ids])
        if empty_rows:
            shown = ", ".join(map(str, empty_rows[:10])) + (" ..." if len(empty_rows) > 10 else "")
            logger.warning("%s: skipped %d row(s) without tokens (rows %s)", where, len(empty_rows), shown)
    return out


def read_raw_split(raw_dir: str | Path, split: str) -> tuple[str, Sentences]:
    """Read one PAN-X split from a raw directory made by :mod:`xner.data.download`.

    Returns the language and its sentences. Error messages name the file in the
    raw directory and, where it differs, the file it was copied from.
    """
    raw_dir = Path(raw_dir)
    manifest_path = raw_dir / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataFormatError(
            manifest_path, None, "missing: not a raw directory made by 'xner download'"
        ) from None
    except json.JSONDecodeError as e:
        raise DataFormatError(manifest_path, e.lineno, f"invalid JSON ({e.msg})") from None
    lang, fmt = manifest["lang"], manifest["format"]
    names = manifest["splits"].get(split)
    if not names:
        raise DataFormatError(manifest_path, None, f"no files listed for split '{split}'")
    paths = [raw_dir / name for name in names]
    wheres = [_where(raw_dir / name, manifest["files"].get(name, {}).get("from")) for name in names]
    if fmt == "panx_archive":
        return lang, read_archive_member(paths[0], split, lang, wheres[0])
    if fmt == "xtreme_tsv":
        return lang, read_panx_tsv(paths[0], wheres[0])
    if fmt == "hf_parquet":
        return lang, read_hf_parquet(paths, lang, wheres)
    raise DataFormatError(manifest_path, None, f"unknown raw format {fmt!r}")


def _where(path: Path, origin: str | None) -> str:
    return f"{path} (copy of {origin})" if origin and origin != str(path) else str(path)


def count_loose_i_tags(sentences: Sentences) -> int:
    """How many I-X tags do not continue an entity of type X (IOB2 violations)."""
    loose = 0
    for tags in sentences.tags:
        previous = "O"
        for tag in tags:
            if tag.startswith("I-") and previous[2:] != tag[2:]:
                loose += 1
            previous = tag
    return loose


def parse_language(raw_dir: str | Path, out_paths: dict[str, str | Path]) -> dict[str, int]:
    """Parse every PAN-X split of a raw directory into sentence tables.

    ``out_paths`` maps each split (``train``, ``dev``, ``test``) to its parquet path.
    All files are written, or (on any error) none. Returns sentences per split.
    """
    unknown = set(out_paths) - set(PANX_SPLITS)
    if unknown:
        raise ValueError(f"unknown split(s) {sorted(unknown)}")
    tables = {}
    counts = {}
    for split in out_paths:
        lang, sentences = read_raw_split(raw_dir, split)
        loose = count_loose_i_tags(sentences)
        if loose:
            logger.warning("%s %s: %d I- tag(s) do not continue an entity of their type", lang, split, loose)
        tables[split] = sentences_table(list(range(len(sentences))), lang, sentences.tokens, sentences.tags)
        counts[split] = len(sentences)
        words = sum(len(t) for t in sentences.tokens)
        logger.info("%s %s: %d sentences, %d words", lang, split, len(sentences), words)
    write_parquet({out_paths[split]: table for split, table in tables.items()})
    return counts
