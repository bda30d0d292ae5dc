"""Tests of xner.data.sources: every accepted form of data.path, resolved for one language.

:func:`~xner.data.sources.locate` is what both ``xner download`` and the Snakefile's
rule ``download`` (its inputs and its ``--path``) go by. Everything is made by
hand in a temporary directory; nothing is fetched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from xner.data.sources import DataLocation, fill_lang, is_url, locate
from xner.errors import DownloadError, XnerError

ARCHIVE_COPY = "results/raw/panx_dataset.tar"
URL = "https://example.org/panx"
SPLITS = ("train", "dev", "test")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home directory of the test's own, so that ``~`` expands to it."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def tsv_dir(directory: Path, lang: str, suffixes: dict[str, str]) -> Path:
    """A directory of ``{split}-{lang}{suffix}`` for the given splits."""
    directory.mkdir(parents=True, exist_ok=True)
    for split, suffix in suffixes.items():
        touch(directory / f"{split}-{lang}{suffix}")
    return directory


# ---------------------------------------------------------------------------
# huggingface


@pytest.mark.parametrize("path", [None, "/ignored/by/the/hub"])
def test_huggingface_reads_no_local_file_and_takes_no_path(path: str | None):
    assert locate("huggingface", path, "en") == DataLocation("hub", "", (), None)
    assert locate("huggingface", path, "en", archive_copy=ARCHIVE_COPY).reads == ()


# ---------------------------------------------------------------------------
# local: a directory of {split}-{lang}.tsv[.gz]


def test_local_directory_of_tsv(tmp_path: Path):
    directory = tsv_dir(tmp_path / "xtreme", "en", dict.fromkeys(SPLITS, ".tsv"))
    where = locate("local", str(directory), "en", archive_copy=ARCHIVE_COPY)
    assert where.kind == "tsv_directory"
    assert where.location == str(directory)
    assert where.reads == tuple(str(directory / f"{split}-en.tsv") for split in SPLITS)
    assert where.download_path == str(directory)


def test_local_directory_of_tsv_gz_and_mixed(tmp_path: Path):
    directory = tsv_dir(tmp_path / "xtreme", "sw", {"train": ".tsv.gz", "dev": ".tsv", "test": ".tsv.gz"})
    where = locate("local", str(directory), "sw")
    assert where.reads == (
        str(directory / "train-sw.tsv.gz"),
        str(directory / "dev-sw.tsv"),
        str(directory / "test-sw.tsv.gz"),
    )


def test_local_missing_split_lists_the_tsv_so_that_it_is_reported(tmp_path: Path):
    directory = tsv_dir(tmp_path / "xtreme", "en", {"train": ".tsv", "test": ".tsv.gz"})
    where = locate("local", str(directory), "en")
    assert where.reads == (
        str(directory / "train-en.tsv"),
        str(directory / "dev-en.tsv"),  # neither .tsv nor .tsv.gz: the .tsv is named
        str(directory / "test-en.tsv.gz"),
    )
    assert not Path(where.reads[1]).exists()


def test_local_missing_directory_lists_every_tsv(tmp_path: Path):
    where = locate("local", str(tmp_path / "nowhere"), "en")
    assert where.reads == tuple(str(tmp_path / "nowhere" / f"{split}-en.tsv") for split in SPLITS)


def test_local_tsv_and_tsv_gz_both_listed_for_download_to_refuse(tmp_path: Path):
    directory = tsv_dir(tmp_path / "xtreme", "en", dict.fromkeys(SPLITS, ".tsv"))
    touch(directory / "dev-en.tsv.gz")
    reads = locate("local", str(directory), "en").reads
    assert str(directory / "dev-en.tsv") in reads and str(directory / "dev-en.tsv.gz") in reads


# ---------------------------------------------------------------------------
# panx_dataset


def test_panx_outer_tar_file(tmp_path: Path):
    tar = touch(tmp_path / "panx_dataset.tar")
    where = locate("panx_dataset", str(tar), "de", archive_copy=ARCHIVE_COPY)
    assert where == DataLocation("archive", str(tar), (str(tar),), str(tar))


def test_panx_url_of_the_outer_tar_is_fetched_once_by_the_workflow():
    url = f"{URL}/panx_dataset.tar"
    # xner download fetches the URL itself ...
    assert locate("panx_dataset", url, "en") == DataLocation("archive_url", url, (), url)
    # ... the workflow has fetched it already, for every language: that copy is read and passed.
    for lang in ("en", "sw"):
        where = locate("panx_dataset", url, lang, archive_copy=ARCHIVE_COPY)
        assert where == DataLocation("archive", ARCHIVE_COPY, (ARCHIVE_COPY,), ARCHIVE_COPY)


def test_panx_directory_of_lang_archives(tmp_path: Path):
    directory = tmp_path / "panx"
    touch(directory / "en.tar.gz")
    where = locate("panx_dataset", str(directory), "en", archive_copy=ARCHIVE_COPY)
    assert where == DataLocation("directory", str(directory), (str(directory / "en.tar.gz"),), str(directory))
    # A language missing from the directory is still listed, so that it is reported missing.
    assert locate("panx_dataset", str(directory), "de").reads == (str(directory / "de.tar.gz"),)


def test_panx_file_that_is_the_lang_archive_itself(tmp_path: Path):
    archive = touch(tmp_path / "en.tar.gz")
    assert locate("panx_dataset", str(archive), "en").kind == "lang_archive"
    assert locate("panx_dataset", str(archive), "de").kind == "archive"  # an outer tar, then


def test_panx_path_containing_lang(tmp_path: Path):
    template = str(tmp_path / "data" / "{lang}" / "{lang}.tar.gz")
    where = locate("panx_dataset", template, "sw", archive_copy=ARCHIVE_COPY)
    filled = str(tmp_path / "data" / "sw" / "sw.tar.gz")
    assert where == DataLocation("lang_file", filled, (filled,), template)  # listed even though missing


def test_panx_url_containing_lang_reads_no_local_file():
    template = f"{URL}/{{lang}}.tar.gz"
    for archive_copy in (None, ARCHIVE_COPY):  # never the fetched outer tar
        where = locate("panx_dataset", template, "de", archive_copy=archive_copy)
        assert where == DataLocation("lang_url", f"{URL}/de.tar.gz", (), template)


def test_panx_missing_path_is_listed_so_that_it_is_reported(tmp_path: Path):
    missing = str(tmp_path / "nowhere.tar")
    assert locate("panx_dataset", missing, "en").reads == (missing,)


# ---------------------------------------------------------------------------
# ~ is expanded in every local form, and passed on as given


def test_tilde_is_expanded_in_every_local_form(home: Path):
    tsv_dir(home / "xtreme", "en", dict.fromkeys(SPLITS, ".tsv.gz"))
    touch(home / "panx" / "en.tar.gz")
    touch(home / "panx_dataset.tar")

    local = locate("local", "~/xtreme", "en")
    assert local.location == str(home / "xtreme")
    assert local.reads == tuple(str(home / "xtreme" / f"{split}-en.tsv.gz") for split in SPLITS)
    assert local.download_path == "~/xtreme"  # xner download expands it the same way

    directory = locate("panx_dataset", "~/panx", "en")
    assert (directory.kind, directory.reads) == ("directory", (str(home / "panx" / "en.tar.gz"),))
    tar = locate("panx_dataset", "~/panx_dataset.tar", "en")
    assert (tar.kind, tar.reads) == ("archive", (str(home / "panx_dataset.tar"),))
    template = locate("panx_dataset", "~/panx/{lang}.tar.gz", "en")
    assert (template.kind, template.reads) == ("lang_file", (str(home / "panx" / "en.tar.gz"),))
    assert template.download_path == "~/panx/{lang}.tar.gz"


def test_tilde_in_a_url_is_left_alone():
    url = "https://example.org/~user/{lang}.tar.gz"
    assert locate("panx_dataset", url, "en").location == "https://example.org/~user/en.tar.gz"


# ---------------------------------------------------------------------------
# URL detection, {lang} filling, errors


@pytest.mark.parametrize(
    ("location", "url"),
    [
        ("http://example.org/panx_dataset.tar", True),
        ("HTTPS://example.org/panx_dataset.tar", True),
        ("ftp://example.org/panx_dataset.tar", True),
        ("file:///data/panx_dataset.tar", True),
        ("/data/panx_dataset.tar", False),
        ("data/panx_dataset.tar", False),
        ("~/panx_dataset.tar", False),
        ("s3://bucket/panx_dataset.tar", False),  # not a scheme xner downloads: a (missing) local path
    ],
)
def test_is_url(location: str, url: bool):
    assert is_url(location) is url


def test_a_file_url_of_the_outer_tar_is_fetched_like_any_url():
    url = "file:///data/panx_dataset.tar"
    assert locate("panx_dataset", url, "en", archive_copy=ARCHIVE_COPY).reads == (ARCHIVE_COPY,)


def test_fill_lang_replaces_only_lang():
    assert fill_lang("{split}-{lang}/{lang}.tar.gz", "en") == "{split}-en/en.tar.gz"


@pytest.mark.parametrize("source", ["local", "panx_dataset"])
@pytest.mark.parametrize("path", [None, ""])
def test_a_source_with_files_needs_a_path(source: str, path: str | None):
    with pytest.raises(DownloadError, match=f"data.source: {source} needs data.path"):
        locate(source, path, "en")


def test_unknown_source_names_the_valid_ones():
    with pytest.raises(XnerError, match="huggingface, panx_dataset, local"):
        locate("wikiann", "/data", "en")


def test_sources_imports_no_ml_library():
    code = (
        "import sys, xner.data.sources; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'transformers', 'huggingface_hub'}))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "workflow")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == "[]"
