"""Fetching PAN-X as published: one *raw directory* per language.

:func:`download_language` prepares ``results/raw/{lang}/`` from one of three
sources and writes, beside the files exactly as published, a ``manifest.json``
(what was fetched, from where, in which format, and the file checksums) and a
``SHA256SUMS`` file that ``sha256sum -c`` can verify. The directory is built in
a temporary sibling and renamed into place only once complete, so a failed run
never leaves (or damages) a raw directory.

Sources (``data.source``):

``huggingface``
    The ``PAN-X.{lang}`` configuration of the ``google/xtreme`` dataset repo, as
    Parquet shards, through the standard Hugging Face cache (``HF_HOME``,
    ``HF_HUB_OFFLINE`` and ``HF_ENDPOINT`` apply). Covers XTREME's 40 languages.
``panx_dataset``
    The upstream archive of Rahimi et al. (2019): ``{lang}.tar.gz`` from a
    directory, from the outer ``panx_dataset.tar`` (local or URL), or from a
    path or URL template containing ``{lang}``. Covers all 176 languages.
``local``
    A directory in the XTREME layout: ``{split}-{lang}.tsv`` (or ``.tsv.gz``).

What ``data.path`` means for each source (URLs, ``~``, ``{lang}``) is decided by
:func:`xner.data.sources.locate`, which the Snakefile uses too.

:func:`xner.data.http.fetch_url` downloads one URL atomically, with retries and a checksum.
"""

from __future__ import annotations

import gzip
import logging
import re
import secrets
import shutil
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TypeVar

from huggingface_hub import constants as hf_constants
from huggingface_hub import snapshot_download
from huggingface_hub.utils import (
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from xner import __version__
from xner.data.http import fetch
from xner.data.sources import SOURCES, locate, tsv_candidates
from xner.errors import DownloadError, XnerError
from xner.io import atomic_directory, sha256_file, write_json, write_text
from xner.labels import PANX_LANGUAGES, PANX_SPLITS, XTREME_LANGUAGES
from xner.retry import RetryPolicy, causes, http_status, hub_transient, is_network_error, retry, short

logger = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
CHECKSUMS_NAME = "SHA256SUMS"

# google/xtreme names the PAN-X development split "validation".
HF_SPLIT_PREFIXES: dict[str, str] = {"train": "train", "dev": "validation", "test": "test"}

_CHUNK = 1 << 20
_LANG_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_COMMIT_RE = re.compile(r"[0-9a-f]{40}")
_LOCAL_HINT = (
    "use a local copy: data.source: local with data.path: a directory of {split}-{lang}.tsv[.gz] files, "
    "or data.source: panx_dataset with data.path: panx_dataset.tar"
)

T = TypeVar("T")


@dataclass
class RawData:
    """What a source put into the build directory (before checksums)."""

    format: str
    origin: str
    splits: dict[str, list[str]]
    sources: dict[str, str]  # file name -> where it came from ("from" in the manifest)
    revision: str | None = None


# ---------------------------------------------------------------------------
# Public API


def download_language(
    source: str,
    lang: str,
    out_dir: str | Path,
    *,
    path: str | None = None,
    hf_repo: str = "google/xtreme",
    hf_revision: str = "main",
    retries: int = 3,
    backoff: float = 2.0,
) -> dict:
    """Prepare the raw directory for one language; return the manifest dict (also written).

    ``source`` is one of :data:`SOURCES`; ``path`` is the data location for the
    ``local`` and ``panx_dataset`` sources (ignored for ``huggingface``).
    ``retries`` is the number of attempts in all for network operations, with
    exponential backoff starting at ``backoff`` seconds.

    Raises :class:`~xner.errors.DownloadError` when the data cannot be fetched or
    found (then no ``out_dir`` is created and an existing one is left as it was),
    and :class:`~xner.errors.XnerError` for an unknown source or invalid language.
    """
    if source not in SOURCES:
        raise XnerError(f"unknown data source {source!r}: expected one of {', '.join(SOURCES)}")
    if not _LANG_RE.fullmatch(lang):
        raise XnerError(f"invalid language code {lang!r}")
    policy = RetryPolicy(attempts=max(1, retries), backoff=backoff)
    out_dir = Path(out_dir)

    with atomic_directory(out_dir) as build:
        if source == "local":
            raw = _from_local(lang, path, build)
        elif source == "panx_dataset":
            raw = _from_panx_dataset(lang, path, build, policy)
        else:
            raw = _from_huggingface(lang, hf_repo, hf_revision, build, policy)
        manifest = _write_manifest(lang, source, raw, build)
    logger.info("prepared %s (%s, %d file(s)) in %s", lang, source, len(manifest["files"]), out_dir)
    return manifest


# ---------------------------------------------------------------------------
# Building the raw directory


def _write_manifest(lang: str, source: str, raw: RawData, build: Path) -> dict:
    """Write ``manifest.json`` and ``SHA256SUMS`` into ``build``; return the manifest."""
    files = {}
    for name in sorted(raw.sources):
        file = build / name
        files[name] = {"sha256": sha256_file(file), "bytes": file.stat().st_size, "from": raw.sources[name]}
    manifest = {
        "lang": lang,
        "source": source,
        "format": raw.format,
        "origin": raw.origin,
        "revision": raw.revision,
        "splits": raw.splits,
        "files": files,
        "xner_version": __version__,
    }
    write_json(build / MANIFEST_NAME, manifest, sort_keys=True, ensure_ascii=False)
    sums = {name: info["sha256"] for name, info in files.items()}
    sums[MANIFEST_NAME] = sha256_file(build / MANIFEST_NAME)
    lines = "".join(f"{digest}  {name}\n" for name, digest in sorted(sums.items()))
    write_text(build / CHECKSUMS_NAME, lines)
    return manifest


# ---------------------------------------------------------------------------
# Source: local (XTREME layout)


def _from_local(lang: str, path: str | None, build: Path) -> RawData:
    """Copy ``{split}-{lang}.tsv`` or ``.tsv.gz`` for each split from the directory ``path``."""
    layout = f"a directory of {{split}}-{lang}.tsv[.gz] files"
    directory = Path(locate("local", path, lang).location)
    if not directory.is_dir():
        raise DownloadError(f"data.path {directory} is not a directory (data.source: local expects {layout})")

    chosen: dict[str, Path] = {}
    missing: list[str] = []
    for split in PANX_SPLITS:
        candidates = tsv_candidates(directory, split, lang)
        found = [c for c in candidates if c.is_file()]
        if len(found) > 1:
            raise DownloadError(f"ambiguous {split} data for {lang}: both {found[0]} and {found[1]} exist")
        if found:
            chosen[split] = found[0]
        else:
            missing.append(" or ".join(str(c) for c in candidates))
    if missing:
        raise DownloadError(f"local data for {lang} is incomplete: no {'; no '.join(missing)}")

    for file in chosen.values():
        shutil.copyfile(file, build / file.name)
    return RawData(
        format="xtreme_tsv",
        origin=str(directory),
        splits={split: [file.name] for split, file in chosen.items()},
        sources={file.name: str(file) for file in chosen.values()},
    )


# ---------------------------------------------------------------------------
# Source: panx_dataset (Rahimi et al.)


def _from_panx_dataset(lang: str, path: str | None, build: Path, policy: RetryPolicy) -> RawData:
    """Put ``{lang}.tar.gz`` into ``build``, from a directory, the outer tar, a template or a URL."""
    where = locate("panx_dataset", path, lang)
    location, name = where.location, f"{lang}.tar.gz"
    dest = build / name

    if where.kind == "lang_url":
        fetch(location, dest, policy)
        return _panx_raw(lang, location, location)
    if where.kind == "lang_file":
        _copy_file(Path(location), dest)
        return _panx_raw(lang, location, location)
    if where.kind == "archive_url":
        outer = build / f".outer-{secrets.token_hex(4)}.tar"
        try:
            fetch(location, outer, policy)
            member = _extract_member(outer, name, dest, label=location, lang=lang)
        finally:
            outer.unlink(missing_ok=True)
        return _panx_raw(lang, location, f"{location}!{member}")

    local = Path(location)
    if where.kind == "directory":
        _copy_file(local / name, dest)
        return _panx_raw(lang, location, str(local / name))
    if not local.is_file():
        raise DownloadError(f"data.path {local} does not exist (data.source: panx_dataset)")
    if where.kind == "lang_archive":
        _copy_file(local, dest)
        return _panx_raw(lang, location, location)
    member = _extract_member(local, name, dest, label=location, lang=lang)
    return _panx_raw(lang, location, f"{location}!{member}")


def _panx_raw(lang: str, origin: str, came_from: str) -> RawData:
    name = f"{lang}.tar.gz"
    return RawData(
        format="panx_archive",
        origin=origin,
        splits={split: [name] for split in PANX_SPLITS},
        sources={name: came_from},
    )


def _copy_file(src: Path, dest: Path) -> None:
    if not src.is_file():
        raise DownloadError(f"{src} not found")
    shutil.copyfile(src, dest)


def _extract_member(archive: Path, name: str, dest: Path, *, label: str, lang: str) -> str:
    """Stream the one regular member of the tar ``archive`` whose basename is ``name`` to ``dest``.

    Only ``dest`` is ever written, whatever the member paths say. Returns the
    member's name; ``label`` names the archive in errors.
    """
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = [m for m in tar.getmembers() if m.isfile()]
            matches = [m for m in members if PurePosixPath(m.name).name == name]
            if not matches:
                have = sorted({PurePosixPath(m.name).name for m in members if m.name.endswith(".tar.gz")})
                listing = ", ".join(have[:8]) + (f", ... ({len(have)} in all)" if len(have) > 8 else "")
                unknown = "" if lang in PANX_LANGUAGES else f"; {lang!r} is not a PAN-X language code"
                raise DownloadError(
                    f"{label} has no member {name} (its *.tar.gz members: {listing or 'none'}){unknown}"
                )
            if len(matches) > 1:
                raise DownloadError(f"{label} has several members named {name}: {[m.name for m in matches]}")
            source = tar.extractfile(matches[0])
            assert source is not None  # a regular file always has data
            with source, open(dest, "wb") as out:
                shutil.copyfileobj(source, out, _CHUNK)
            return matches[0].name
    except (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise DownloadError(f"{label} is not a readable tar archive: {err}") from err


# ---------------------------------------------------------------------------
# Source: huggingface (google/xtreme)


def _from_huggingface(lang: str, repo: str, revision: str, build: Path, policy: RetryPolicy) -> RawData:
    """Copy the Parquet shards of ``PAN-X.{lang}`` from the Hugging Face cache (fetching them if needed)."""
    if lang not in XTREME_LANGUAGES:
        raise DownloadError(_not_on_hub_message(repo, revision, lang, "train"))
    if not _COMMIT_RE.fullmatch(revision):
        logger.warning(
            "hf_revision %r is a branch or tag, not a commit sha: %s may change upstream, so this run is not "
            "reproducible; pin the commit sha recorded as 'revision' in %s",
            revision,
            repo,
            MANIFEST_NAME,
        )
    config = f"PAN-X.{lang}"
    snapshot = retry(
        lambda: snapshot_download(
            repo_id=repo, repo_type="dataset", revision=revision, allow_patterns=[f"{config}/*"]
        ),
        what=f"fetching {config} from {repo}@{revision}",
        policy=policy,
        transient=hub_transient,
        failure=lambda err, attempts: _hub_failure(err, attempts, lang=lang, repo=repo, revision=revision),
    )
    snapshot = Path(snapshot)
    commit = snapshot.name if _COMMIT_RE.fullmatch(snapshot.name) else None
    if commit is None:
        logger.warning("could not read the commit sha of %s from the snapshot path %s", repo, snapshot)

    shards: dict[str, list[Path]] = {}
    for split, prefix in HF_SPLIT_PREFIXES.items():
        shards[split] = sorted((snapshot / config).glob(f"{prefix}-*.parquet"))
        if not shards[split]:
            raise DownloadError(_not_on_hub_message(repo, revision, lang, prefix))

    sources = {}
    for files in shards.values():
        for file in files:
            shutil.copyfile(file, build / file.name)
            sources[file.name] = f"hf://datasets/{repo}@{commit or revision}/{config}/{file.name}"
    return RawData(
        format="hf_parquet",
        origin=f"hf://datasets/{repo}",
        splits={split: [file.name for file in files] for split, files in shards.items()},
        sources=sources,
        revision=commit,
    )


def _not_on_hub_message(repo: str, revision: str, lang: str, prefix: str) -> str:
    return (
        f"{repo}@{revision} has no PAN-X.{lang}/{prefix}-*.parquet; XTREME's PAN-X covers 40 languages "
        f"({' '.join(sorted(XTREME_LANGUAGES))}); for the other languages of PAN-X use "
        "data.source: panx_dataset with data.path: panx_dataset.tar"
    )


def _hub_failure(
    err: BaseException, attempts: int, *, lang: str, repo: str, revision: str
) -> Exception | None:
    """The DownloadError to raise for a hub error, or None for an error that is not the hub's."""
    endpoint = hf_constants.ENDPOINT
    chain = list(causes(err))
    if any(isinstance(e, GatedRepoError) for e in chain) or http_status(err) in (401, 403):
        return DownloadError(
            f"access to dataset {repo} was refused by {endpoint} ({short(err)}): log in (hf auth login) or "
            f"set HF_TOKEN, or {_LOCAL_HINT}"
        )
    if isinstance(err, RevisionNotFoundError):
        return DownloadError(f"revision {revision!r} not found in dataset {repo} on {endpoint}")
    if isinstance(err, RepositoryNotFoundError):
        return DownloadError(
            f"dataset {repo} not found on {endpoint} (or private, and you are not logged in)"
        )
    offline = any(isinstance(e, OfflineModeIsEnabled) for e in chain) or (
        isinstance(err, LocalEntryNotFoundError) and hf_constants.HF_HUB_OFFLINE
    )
    if offline:
        reason = f"HF_HUB_OFFLINE is set and PAN-X.{lang} is not in the cache {hf_constants.HF_HUB_CACHE}"
    elif isinstance(err, (HfHubHTTPError, LocalEntryNotFoundError)) or any(map(is_network_error, chain)):
        reason = short(err) + (f" (after {attempts} attempts)" if attempts > 1 else "")
    else:
        return None
    return DownloadError(
        f"could not fetch PAN-X.{lang} from the Hugging Face hub ({repo}@{revision} via {endpoint}): "
        f"{reason}. "
        "Without network, either pre-fetch on a machine with network (same HF_HOME, then HF_HUB_OFFLINE=1), "
        f"or {_LOCAL_HINT}."
    )
