"""What ``data.path`` means for each data source: the one place that resolves it for a language.

:func:`locate` turns ``(data.source, data.path, lang)`` into a :class:`DataLocation`:
what kind of location it is, where exactly (a URL, or a local path with ``~``
expanded and ``{lang}`` filled in), which local files a download of that
language reads, and what to give ``xner download --path``. ``xner download``
acts on it (:mod:`xner.data.download`), and the Snakefile declares its ``reads`` as
the inputs of rule ``download``, so that both agree on URL detection, ``~``
expansion and ``{lang}`` filling.

This module imports only the standard library, :mod:`xner.errors` and
:mod:`xner.labels`: the Snakefile imports it while it parses.
"""

from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from xner.errors import DownloadError, XnerError
from xner.labels import PANX_SPLITS

SOURCES: tuple[str, ...] = ("huggingface", "panx_dataset", "local")
URL_SCHEMES: tuple[str, ...] = ("http", "https", "ftp", "file")
LANG_FIELD = "{lang}"

Kind = Literal[
    "hub",
    "tsv_directory",
    "lang_url",
    "lang_file",
    "archive_url",
    "archive",
    "lang_archive",
    "directory",
]


@dataclass(frozen=True)
class DataLocation:
    """Where one language's download reads its PAN-X files.

    ``kind`` is one of

    ``hub``
        the Hugging Face hub (``huggingface``; ``location`` is empty);
    ``tsv_directory``
        a directory of ``{split}-{lang}.tsv[.gz]`` (``local``);
    ``lang_url``, ``lang_file``
        the language's ``{lang}.tar.gz`` at a URL, or a local file, named by a
        template containing ``{lang}`` (``panx_dataset``);
    ``archive_url``, ``archive``
        the outer ``panx_dataset.tar`` at a URL, or a local file, which holds
        ``{lang}.tar.gz`` (``panx_dataset``);
    ``lang_archive``
        a local file named ``{lang}.tar.gz`` itself (``panx_dataset``);
    ``directory``
        a directory of ``{lang}.tar.gz`` files (``panx_dataset``).

    ``location`` is the URL as given, or the local path with ``~`` expanded and
    ``{lang}`` filled in. ``reads`` are the local files the download reads (none
    for the hub and URLs); a file that should be there but is not is listed all
    the same, so that a workflow reports it missing. ``download_path`` is what to
    pass as ``xner download --path`` (None: nothing).
    """

    kind: Kind
    location: str
    reads: tuple[str, ...]
    download_path: str | None


# Where real PAN-X lies for the tests, the benchmark and the CPU study: xtreme/{split}-{lang}.tsv and
# panx_dataset/{lang}.tar.gz under $XNER_PANX_DIR, else under DEFAULT_PANX_DIR (beside the checkout).
PANX_DIR_VARIABLE = "XNER_PANX_DIR"
DEFAULT_PANX_DIR = "../shared/panx"


def panx_dir() -> Path:
    """The directory of real PAN-X files: ``$XNER_PANX_DIR``, else ``../shared/panx``."""
    return Path(os.environ.get(PANX_DIR_VARIABLE) or DEFAULT_PANX_DIR)


def local_panx(root: str | Path, lang: str) -> DataLocation | None:
    """Language ``lang``'s real PAN-X under a PAN-X directory ``root``: the XTREME files in ``xtreme/``
    (``tsv_directory``), else ``panx_dataset/{lang}.tar.gz`` (``lang_archive``); None if neither is there."""
    root = Path(root)
    if all(any(c.is_file() for c in tsv_candidates(root / "xtreme", split, lang)) for split in PANX_SPLITS):
        return _locate_tsv(str(root / "xtreme"), lang)
    archive = root / "panx_dataset" / f"{lang}.tar.gz"
    if archive.is_file():
        return DataLocation("lang_archive", str(archive), (str(archive),), str(archive))
    return None


def is_url(location: str) -> bool:
    """Whether ``location`` is a URL (http, https, ftp or file) rather than a local path."""
    return urllib.parse.urlsplit(location).scheme.lower() in URL_SCHEMES


def fill_lang(template: str, lang: str) -> str:
    """``template`` with every ``{lang}`` replaced by ``lang`` (other braces are kept as they are)."""
    return template.replace(LANG_FIELD, lang)


def local_path(path: str) -> Path:
    """A local ``data.path`` as a path, with a leading ``~`` expanded to the home directory."""
    return Path(path).expanduser()


def tsv_candidates(directory: Path, split: str, lang: str) -> tuple[Path, Path]:
    """The two files that may hold a split in the XTREME layout: ``{split}-{lang}.tsv`` and ``.tsv.gz``."""
    base = directory / f"{split}-{lang}.tsv"
    return base, base.with_name(f"{base.name}.gz")


def locate(source: str, path: str | None, lang: str, *, archive_copy: str | None = None) -> DataLocation:
    """Resolve ``data.path`` for ``source`` and language ``lang``.

    ``archive_copy`` is where a workflow has fetched a URL of the outer
    ``panx_dataset.tar`` beforehand: given, such a URL resolves to that local
    ``archive`` (read, and passed as ``--path``) instead of ``archive_url``.

    Only whether a local path is a directory or exists is looked at, never the
    files' contents. Raises :class:`~xner.errors.XnerError` for an unknown source
    and :class:`~xner.errors.DownloadError` when a source that needs a path has none.
    """
    if source not in SOURCES:
        raise XnerError(f"unknown data source {source!r}: expected one of {', '.join(SOURCES)}")
    if source == "huggingface":
        return DataLocation("hub", "", (), None)
    if source == "local":
        return _locate_tsv(path, lang)
    return _locate_panx(path, lang, archive_copy)


def _locate_tsv(path: str | None, lang: str) -> DataLocation:
    if not path:
        raise DownloadError(
            f"data.source: local needs data.path: a directory of {{split}}-{lang}.tsv[.gz] files"
        )
    directory = local_path(path)
    reads: list[str] = []
    for split in PANX_SPLITS:
        candidates = tsv_candidates(directory, split, lang)
        # Neither present: the .tsv is listed, so that it is reported missing.
        reads += [str(c) for c in candidates if c.is_file()] or [str(candidates[0])]
    return DataLocation("tsv_directory", str(directory), tuple(reads), path)


def _locate_panx(path: str | None, lang: str, archive_copy: str | None) -> DataLocation:
    if not path:
        raise DownloadError(
            "data.source: panx_dataset needs data.path: panx_dataset.tar (file or URL), "
            "a directory of {lang}.tar.gz files, or a path or URL containing {lang}"
        )
    if LANG_FIELD in path:
        location = fill_lang(path, lang)
        if is_url(location):
            return DataLocation("lang_url", location, (), path)
        location = str(local_path(location))
        return DataLocation("lang_file", location, (location,), path)
    if is_url(path):
        if archive_copy is None:
            return DataLocation("archive_url", path, (), path)
        return DataLocation("archive", archive_copy, (archive_copy,), archive_copy)
    local = local_path(path)
    if local.is_dir():
        return DataLocation("directory", str(local), (str(local / f"{lang}.tar.gz"),), path)
    kind: Kind = "lang_archive" if local.name == f"{lang}.tar.gz" else "archive"
    return DataLocation(kind, str(local), (str(local),), path)
