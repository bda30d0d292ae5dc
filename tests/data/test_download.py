"""Tests of xner.data.download: raw directories from every source, fetch_url, the hub's failures.

Everything runs offline: URLs are served by a loopback HTTP server, the hub is
replaced by a fake ``snapshot_download`` (except one test of the real
huggingface_hub in offline mode, in a subprocess).
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import json
import logging
import os
import subprocess
import sys
import tarfile
import textwrap
import threading
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from huggingface_hub.errors import (
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
)

import xner
from xner.data import download
from xner.data.download import download_language
from xner.data.http import fetch_url
from xner.errors import DownloadError, XnerError

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMIT = "0123456789abcdef0123456789abcdef01234567"
SPLITS = ("train", "dev", "test")


# ---------------------------------------------------------------------------
# Fixtures: data files


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tsv_text(lang: str, split: str) -> str:
    return f"{lang}:Paris\tB-LOC\n{lang}:{split}\tO\n\n{lang}:Ada\tB-PER\n{lang}:Lovelace\tI-PER\n"


@pytest.fixture
def xtreme_dir(tmp_path: Path) -> Path:
    """A directory in the XTREME layout for en (plain .tsv)."""
    directory = tmp_path / "xtreme"
    directory.mkdir()
    for split in SPLITS:
        (directory / f"{split}-en.tsv").write_text(tsv_text("en", split), encoding="utf-8")
    return directory


def lang_archive_bytes(lang: str) -> bytes:
    """A ``{lang}.tar.gz`` as published by Rahimi et al.: members train, dev, test."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for split in SPLITS:
            data = tsv_text(lang, split).encode()
            info = tarfile.TarInfo(split)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


@pytest.fixture
def archives() -> dict[str, bytes]:
    return {lang: lang_archive_bytes(lang) for lang in ("en", "de")}


@pytest.fixture
def outer_tar(tmp_path: Path, archives: dict[str, bytes]) -> Path:
    """``panx_dataset.tar`` with ``panx_dataset/en.tar.gz`` (in a folder) and ``de.tar.gz`` (at the root)."""
    path = tmp_path / "panx_dataset.tar"
    with tarfile.open(path, "w") as tar:
        add_bytes(tar, "panx_dataset/en.tar.gz", archives["en"])
        add_bytes(tar, "de.tar.gz", archives["de"])
        add_bytes(tar, "panx_dataset/README", b"not an archive")
    return path


def write_parquet(path: Path, lang: str, n: int) -> None:
    table = pa.table(
        {
            "tokens": pa.array([["Ada", "Lovelace"]] * n, pa.list_(pa.string())),
            "ner_tags": pa.array([[1, 2]] * n, pa.list_(pa.int64())),
            "langs": pa.array([[lang, lang]] * n, pa.list_(pa.string())),
        }
    )
    pq.write_table(table, path)


@pytest.fixture
def fake_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """Replace ``snapshot_download`` by a fake cache: it records its calls, may fail first, then returns
    ``<cache>/snapshots/<COMMIT>`` holding ``PAN-X.en`` (two train shards) in google/xtreme's layout."""
    snapshot = tmp_path / "hub" / "datasets--google--xtreme" / "snapshots" / COMMIT
    config = snapshot / "PAN-X.en"
    config.mkdir(parents=True)
    names = [
        "train-00001-of-00002.parquet",
        "train-00000-of-00002.parquet",
        "validation-00000-of-00001.parquet",
        "test-00000-of-00001.parquet",
    ]
    for i, name in enumerate(names):
        write_parquet(config / name, "en", i + 1)
    state = SimpleNamespace(calls=[], errors=[], snapshot=snapshot, config=config)

    def fake_snapshot_download(**kwargs):
        state.calls.append(kwargs)
        if state.errors:
            raise state.errors.pop(0)
        return str(snapshot)

    monkeypatch.setattr(download, "snapshot_download", fake_snapshot_download)
    return state


def http_error(cls, status: int):
    """A huggingface_hub HTTP error without an HTTP client behind it."""
    response = SimpleNamespace(status_code=status, headers={}, request=None)
    return cls(f"{status} Client Error", response=response)


# ---------------------------------------------------------------------------
# Fixtures: a loopback HTTP server


class _Handler(http.server.BaseHTTPRequestHandler):
    """Answers each path from a script of responses, the last one repeating.

    A response is ``(status, body)`` or ``(status, body, "truncate")``: the latter
    announces the full Content-Length but sends only half the body.
    """

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        self.server.hits[self.path] += 1
        script = self.server.routes.get(self.path, [(404, b"not found")])
        index = min(self.server.hits[self.path], len(script)) - 1
        status, body, *mode = script[index]
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if mode == ["truncate"] else body)
        self.close_connection = True

    def log_message(self, format, *args):
        pass


@pytest.fixture
def server():
    """A loopback HTTP server: set ``server.routes[path]``; read ``server.hits[path]`` and ``server.url``."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.routes = {}
    httpd.hits = Counter()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def no_leftovers(directory: Path) -> bool:
    """Whether ``directory`` holds no temporary files or directories of ours."""
    return not [p.name for p in directory.iterdir() if p.name.startswith(".")]


# ---------------------------------------------------------------------------
# Source: local


def test_local_copies_files_and_writes_manifest(xtreme_dir: Path, tmp_path: Path):
    out = tmp_path / "raw" / "en"
    manifest = download_language("local", "en", out, path=str(xtreme_dir))

    names = [f"{split}-en.tsv" for split in SPLITS]
    assert sorted(p.name for p in out.iterdir()) == sorted([*names, "manifest.json", "SHA256SUMS"])
    for name in names:
        assert (out / name).read_bytes() == (xtreme_dir / name).read_bytes()
    assert manifest == {
        "lang": "en",
        "source": "local",
        "format": "xtreme_tsv",
        "origin": str(xtreme_dir),
        "revision": None,
        "splits": {split: [f"{split}-en.tsv"] for split in SPLITS},
        "files": {
            name: {"sha256": sha256(xtreme_dir / name), "bytes": (xtreme_dir / name).stat().st_size,
                   "from": str(xtreme_dir / name)}
            for name in names
        },
        "xner_version": xner.__version__,
    }  # fmt: skip
    text = (out / "manifest.json").read_text(encoding="utf-8")
    assert text == json.dumps(manifest, sort_keys=True, indent=2) + "\n"
    assert no_leftovers(out.parent)


def test_sha256sums_verify(xtreme_dir: Path, tmp_path: Path):
    out = tmp_path / "en"
    download_language("local", "en", out, path=str(xtreme_dir))
    lines = (out / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    listed = {}
    for line in lines:
        digest, name = line.split("  ", 1)
        listed[name] = digest
    assert set(listed) == {"train-en.tsv", "dev-en.tsv", "test-en.tsv", "manifest.json"}
    for name, digest in listed.items():
        assert sha256(out / name) == digest
    if sys.platform.startswith("linux"):
        subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=out, check=True)


def test_manifest_is_identical_for_identical_inputs(xtreme_dir: Path, tmp_path: Path):
    download_language("local", "en", tmp_path / "a", path=str(xtreme_dir))
    download_language("local", "en", tmp_path / "b", path=str(xtreme_dir))
    for name in ("manifest.json", "SHA256SUMS"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_local_accepts_tsv_gz(xtreme_dir: Path, tmp_path: Path):
    (xtreme_dir / "train-en.tsv").unlink()
    gz = xtreme_dir / "train-en.tsv.gz"
    gz.write_bytes(gzip.compress(tsv_text("en", "train").encode()))
    manifest = download_language("local", "en", tmp_path / "en", path=str(xtreme_dir))
    assert manifest["splits"]["train"] == ["train-en.tsv.gz"]
    assert (tmp_path / "en" / "train-en.tsv.gz").read_bytes() == gz.read_bytes()
    assert manifest["files"]["train-en.tsv.gz"]["sha256"] == sha256(gz)


def test_local_missing_split_names_the_path_and_leaves_nothing(xtreme_dir: Path, tmp_path: Path):
    (xtreme_dir / "dev-en.tsv").unlink()
    out = tmp_path / "raw" / "en"
    with pytest.raises(DownloadError, match="dev-en") as info:
        download_language("local", "en", out, path=str(xtreme_dir))
    assert str(xtreme_dir / "dev-en.tsv") in str(info.value)
    assert str(xtreme_dir / "dev-en.tsv.gz") in str(info.value)
    assert not out.exists()
    assert no_leftovers(out.parent)


def test_local_tsv_and_tsv_gz_is_ambiguous(xtreme_dir: Path, tmp_path: Path):
    (xtreme_dir / "test-en.tsv.gz").write_bytes(gzip.compress(b"x"))
    with pytest.raises(DownloadError, match="ambiguous test"):
        download_language("local", "en", tmp_path / "en", path=str(xtreme_dir))
    assert not (tmp_path / "en").exists()


@pytest.mark.parametrize("path", [None, "missing-dir", "a-file"])
def test_local_path_must_be_a_directory(tmp_path: Path, path: str | None):
    (tmp_path / "a-file").write_text("x")
    path = None if path is None else str(tmp_path / path)
    with pytest.raises(DownloadError, match="data.path"):
        download_language("local", "en", tmp_path / "en", path=path)
    assert not (tmp_path / "en").exists()


def test_unknown_source_names_the_valid_ones(tmp_path: Path):
    with pytest.raises(XnerError, match="huggingface, panx_dataset, local"):
        download_language("wikiann", "en", tmp_path / "en", path=str(tmp_path))


@pytest.mark.parametrize("lang", ["../en", "", "en/x", ".en"])
def test_invalid_language_code_is_refused(xtreme_dir: Path, tmp_path: Path, lang: str):
    with pytest.raises(XnerError, match="invalid language code"):
        download_language("local", lang, tmp_path / "en", path=str(xtreme_dir))


# ---------------------------------------------------------------------------
# Source: panx_dataset


def assert_panx_raw(out: Path, manifest: dict, lang: str, archive: bytes, came_from: str) -> None:
    name = f"{lang}.tar.gz"
    assert sorted(p.name for p in out.iterdir()) == sorted([name, "manifest.json", "SHA256SUMS"])
    assert (out / name).read_bytes() == archive
    assert manifest["format"] == "panx_archive"
    assert manifest["splits"] == {split: [name] for split in SPLITS}
    assert manifest["files"] == {
        name: {"sha256": hashlib.sha256(archive).hexdigest(), "bytes": len(archive), "from": came_from}
    }
    assert json.loads((out / "manifest.json").read_text()) == manifest


def test_panx_from_directory(tmp_path: Path, archives: dict[str, bytes]):
    directory = tmp_path / "panx"
    directory.mkdir()
    for lang, data in archives.items():
        (directory / f"{lang}.tar.gz").write_bytes(data)
    out = tmp_path / "raw" / "de"
    manifest = download_language("panx_dataset", "de", out, path=str(directory))
    assert_panx_raw(out, manifest, "de", archives["de"], str(directory / "de.tar.gz"))
    assert manifest["origin"] == str(directory)


@pytest.mark.parametrize(("lang", "member"), [("en", "panx_dataset/en.tar.gz"), ("de", "de.tar.gz")])
def test_panx_from_outer_tar(tmp_path: Path, outer_tar: Path, archives, lang: str, member: str):
    out = tmp_path / "raw" / lang
    manifest = download_language("panx_dataset", lang, out, path=str(outer_tar))
    assert_panx_raw(out, manifest, lang, archives[lang], f"{outer_tar}!{member}")
    assert manifest["origin"] == str(outer_tar)
    assert not (tmp_path / "raw" / "panx_dataset").exists()  # nothing else extracted


def test_panx_language_missing_from_outer_tar(tmp_path: Path, outer_tar: Path):
    out = tmp_path / "raw" / "fr"
    with pytest.raises(DownloadError) as info:
        download_language("panx_dataset", "fr", out, path=str(outer_tar))
    message = str(info.value)
    assert str(outer_tar) in message and "fr.tar.gz" in message
    assert "de.tar.gz, en.tar.gz" in message  # the members it does have
    assert not out.exists()
    assert no_leftovers(out.parent)


def test_panx_outer_tar_with_two_candidates_is_an_error(tmp_path: Path, archives):
    outer = tmp_path / "twice.tar"
    with tarfile.open(outer, "w") as tar:
        add_bytes(tar, "a/en.tar.gz", archives["en"])
        add_bytes(tar, "b/en.tar.gz", archives["de"])
    with pytest.raises(DownloadError, match="several members"):
        download_language("panx_dataset", "en", tmp_path / "en", path=str(outer))
    assert not (tmp_path / "en").exists()


def test_panx_member_paths_are_not_trusted(tmp_path: Path, archives):
    outer = tmp_path / "evil.tar"
    with tarfile.open(outer, "w") as tar:
        add_bytes(tar, "../../../en.tar.gz", archives["en"])
    work = tmp_path / "work"
    manifest = download_language("panx_dataset", "en", work / "raw" / "en", path=str(outer))
    assert (work / "raw" / "en" / "en.tar.gz").read_bytes() == archives["en"]
    assert manifest["files"]["en.tar.gz"]["from"] == f"{outer}!../../../en.tar.gz"
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("en.tar.gz")) == [
        "work/raw/en/en.tar.gz"
    ]


def test_panx_not_a_tar(tmp_path: Path):
    bogus = tmp_path / "panx_dataset.tar"
    bogus.write_bytes(b"this is not a tar archive" * 100)
    with pytest.raises(DownloadError, match="not a readable tar archive"):
        download_language("panx_dataset", "en", tmp_path / "en", path=str(bogus))


def test_panx_from_lang_template_path(tmp_path: Path, archives):
    directory = tmp_path / "data"
    directory.mkdir()
    (directory / "en.tar.gz").write_bytes(archives["en"])
    out = tmp_path / "raw" / "en"
    manifest = download_language("panx_dataset", "en", out, path=str(directory / "{lang}.tar.gz"))
    assert_panx_raw(out, manifest, "en", archives["en"], str(directory / "en.tar.gz"))
    with pytest.raises(DownloadError, match="de.tar.gz not found"):
        download_language(
            "panx_dataset", "de", tmp_path / "raw" / "de", path=str(directory / "{lang}.tar.gz")
        )
    assert not (tmp_path / "raw" / "de").exists()


def test_panx_from_outer_tar_url(tmp_path: Path, outer_tar: Path, archives, server):
    server.routes["/panx_dataset.tar"] = [(200, outer_tar.read_bytes())]
    url = f"{server.url}/panx_dataset.tar"
    out = tmp_path / "raw" / "en"
    manifest = download_language("panx_dataset", "en", out, path=url)
    assert_panx_raw(out, manifest, "en", archives["en"], f"{url}!panx_dataset/en.tar.gz")
    assert manifest["origin"] == url
    assert no_leftovers(out.parent)


def test_panx_from_lang_template_url(tmp_path: Path, archives, server):
    server.routes["/panx/de.tar.gz"] = [(200, archives["de"])]
    out = tmp_path / "raw" / "de"
    manifest = download_language("panx_dataset", "de", out, path=f"{server.url}/panx/{{lang}}.tar.gz")
    assert_panx_raw(out, manifest, "de", archives["de"], f"{server.url}/panx/de.tar.gz")
    assert server.hits["/panx/de.tar.gz"] == 1


def test_tilde_in_data_path_is_the_home_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, xtreme_dir: Path, outer_tar: Path, archives
):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "panx").mkdir()
    (tmp_path / "panx" / "de.tar.gz").write_bytes(archives["de"])

    manifest = download_language("local", "en", tmp_path / "raw" / "local", path="~/xtreme")
    assert manifest["origin"] == str(xtreme_dir)
    out = tmp_path / "raw" / "tar"
    manifest = download_language("panx_dataset", "en", out, path="~/panx_dataset.tar")
    assert_panx_raw(out, manifest, "en", archives["en"], f"{outer_tar}!panx_dataset/en.tar.gz")
    out = tmp_path / "raw" / "dir"
    manifest = download_language("panx_dataset", "de", out, path="~/panx")
    assert_panx_raw(out, manifest, "de", archives["de"], str(tmp_path / "panx" / "de.tar.gz"))
    out = tmp_path / "raw" / "template"
    manifest = download_language("panx_dataset", "de", out, path="~/panx/{lang}.tar.gz")
    assert_panx_raw(out, manifest, "de", archives["de"], str(tmp_path / "panx" / "de.tar.gz"))


def test_panx_lang_template_fills_only_lang(tmp_path: Path, archives):
    directory = tmp_path / "{split}"  # other braces are part of the path
    directory.mkdir()
    (directory / "en.tar.gz").write_bytes(archives["en"])
    out = tmp_path / "raw" / "en"
    manifest = download_language("panx_dataset", "en", out, path=str(directory / "{lang}.tar.gz"))
    assert_panx_raw(out, manifest, "en", archives["en"], str(directory / "en.tar.gz"))


def test_existing_out_dir_replaced_on_success_and_kept_on_failure(tmp_path: Path, outer_tar: Path, archives):
    out = tmp_path / "raw" / "en"
    out.mkdir(parents=True)
    (out / "stale.txt").write_text("from an earlier run")

    download_language("panx_dataset", "en", out, path=str(outer_tar))
    assert not (out / "stale.txt").exists()
    assert (out / "en.tar.gz").read_bytes() == archives["en"]
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    with pytest.raises(DownloadError):
        download_language("panx_dataset", "en", out, path=str(tmp_path / "nowhere.tar"))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert no_leftovers(out.parent)


# ---------------------------------------------------------------------------
# fetch_url


def test_fetch_url_downloads_with_checksum(tmp_path: Path, server):
    body = os.urandom(3 * (1 << 20) + 17)  # several chunks
    server.routes["/data.bin"] = [(200, body)]
    dest = tmp_path / "dl" / "data.bin"
    digest = fetch_url(f"{server.url}/data.bin", dest)
    assert digest == hashlib.sha256(body).hexdigest()
    assert dest.read_bytes() == body
    assert (tmp_path / "dl" / "data.bin.sha256").read_text() == f"{digest}  data.bin\n"
    assert no_leftovers(dest.parent)


@pytest.mark.parametrize("failure", [(500, b"oops"), (429, b"slow down"), (200, b"0123456789", "truncate")])
def test_fetch_url_retries_transient_failures(tmp_path: Path, server, caplog, failure):
    server.routes["/f"] = [failure, (200, b"0123456789")]
    dest = tmp_path / "f"
    with caplog.at_level(logging.WARNING, logger="xner.data.download"):
        digest = fetch_url(f"{server.url}/f", dest, backoff=0.01)
    assert server.hits["/f"] == 2
    assert dest.read_bytes() == b"0123456789"
    assert digest == hashlib.sha256(b"0123456789").hexdigest()
    assert "attempt 1 of 3" in caplog.text


def test_fetch_url_fails_at_once_on_404(tmp_path: Path, server):
    dest = tmp_path / "missing.tar"
    with pytest.raises(DownloadError, match="404") as info:
        fetch_url(f"{server.url}/missing.tar", dest, backoff=0.01)
    assert f"{server.url}/missing.tar" in str(info.value)
    assert server.hits["/missing.tar"] == 1
    assert list(tmp_path.iterdir()) == []


def test_fetch_url_gives_up_after_the_attempts(tmp_path: Path, server):
    server.routes["/down"] = [(503, b"unavailable")]
    dest = tmp_path / "down"
    dest.write_bytes(b"previous")
    with pytest.raises(DownloadError, match=r"\(4 attempts\): HTTP 503"):
        fetch_url(f"{server.url}/down", dest, retries=4, backoff=0.001)
    assert server.hits["/down"] == 4
    assert dest.read_bytes() == b"previous"  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["down"]


def test_fetch_url_file_scheme(tmp_path: Path):
    source = tmp_path / "src.bin"
    source.write_bytes(b"local bytes")
    digest = fetch_url(source.as_uri(), tmp_path / "copy.bin")
    assert (tmp_path / "copy.bin").read_bytes() == b"local bytes"
    assert digest == sha256(source)
    with pytest.raises(DownloadError, match=r"\(1 attempt\)"):
        fetch_url((tmp_path / "absent.bin").as_uri(), tmp_path / "x.bin", backoff=5)  # no retry, no wait


# ---------------------------------------------------------------------------
# Source: huggingface


def test_huggingface_copies_the_snapshot(tmp_path: Path, fake_hub, caplog):
    out = tmp_path / "raw" / "en"
    with caplog.at_level(logging.WARNING, logger="xner.data.download"):
        manifest = download_language("huggingface", "en", out)

    assert fake_hub.calls == [
        {
            "repo_id": "google/xtreme",
            "repo_type": "dataset",
            "revision": "main",
            "allow_patterns": ["PAN-X.en/*"],
        }
    ]
    assert manifest["format"] == "hf_parquet"
    assert manifest["revision"] == COMMIT
    assert manifest["origin"] == "hf://datasets/google/xtreme"
    assert manifest["splits"] == {
        "train": ["train-00000-of-00002.parquet", "train-00001-of-00002.parquet"],
        "dev": ["validation-00000-of-00001.parquet"],
        "test": ["test-00000-of-00001.parquet"],
    }
    for source in fake_hub.config.iterdir():
        assert (out / source.name).read_bytes() == source.read_bytes()
        assert manifest["files"][source.name]["sha256"] == sha256(source)
        assert (
            manifest["files"][source.name]["from"]
            == f"hf://datasets/google/xtreme@{COMMIT}/PAN-X.en/{source.name}"
        )
    assert pq.read_table(out / "validation-00000-of-00001.parquet").num_rows == 3
    assert "not reproducible" in caplog.text and "'main'" in caplog.text


def test_huggingface_pinned_revision_does_not_warn(tmp_path: Path, fake_hub, caplog):
    with caplog.at_level(logging.WARNING, logger="xner.data.download"):
        download_language("huggingface", "en", tmp_path / "en", hf_repo="me/xtreme", hf_revision=COMMIT)
    assert fake_hub.calls[0]["revision"] == COMMIT and fake_hub.calls[0]["repo_id"] == "me/xtreme"
    assert "not reproducible" not in caplog.text


def test_huggingface_language_outside_xtreme_fails_before_the_hub(tmp_path: Path, fake_hub):
    with pytest.raises(DownloadError, match="no PAN-X.la/train") as info:
        download_language("huggingface", "la", tmp_path / "la")
    assert "40 languages" in str(info.value) and "data.source: panx_dataset" in str(info.value)
    assert fake_hub.calls == []
    assert not (tmp_path / "la").exists()


def test_huggingface_missing_split_in_snapshot(tmp_path: Path, fake_hub):
    (fake_hub.config / "validation-00000-of-00001.parquet").unlink()
    with pytest.raises(DownloadError, match=r"google/xtreme@main has no PAN-X.en/validation-\*.parquet"):
        download_language("huggingface", "en", tmp_path / "en")
    assert not (tmp_path / "en").exists()


def test_huggingface_retries_connection_errors(tmp_path: Path, fake_hub, caplog):
    fake_hub.errors = [ConnectionError("connection reset"), TimeoutError("timed out")]
    with caplog.at_level(logging.WARNING, logger="xner.data.download"):
        manifest = download_language("huggingface", "en", tmp_path / "en", retries=3, backoff=0.01)
    assert len(fake_hub.calls) == 3
    assert manifest["revision"] == COMMIT
    assert "attempt 2 of 3" in caplog.text


def test_huggingface_gives_up_with_one_clear_message(tmp_path: Path, fake_hub):
    fake_hub.errors = [http_error(HfHubHTTPError, 503) for _ in range(2)]
    with pytest.raises(DownloadError) as info:
        download_language("huggingface", "en", tmp_path / "en", retries=2, backoff=0.01)
    message = str(info.value)
    assert len(fake_hub.calls) == 2
    assert message.startswith("could not fetch PAN-X.en from the Hugging Face hub (google/xtreme@main via ")
    assert "after 2 attempts" in message and "data.source: local" in message and "HF_HUB_OFFLINE=1" in message
    assert not (tmp_path / "en").exists()


def test_huggingface_does_not_retry_offline_mode(tmp_path: Path, fake_hub):
    try:
        raise OfflineModeIsEnabled("offline")
    except OfflineModeIsEnabled as cause:
        error = LocalEntryNotFoundError("Cannot find an appropriate cached snapshot folder")
        error.__cause__ = cause
    fake_hub.errors = [error]
    with pytest.raises(DownloadError, match="HF_HUB_OFFLINE is set"):
        download_language("huggingface", "en", tmp_path / "en", backoff=5)
    assert len(fake_hub.calls) == 1


def test_huggingface_does_not_retry_a_missing_repo(tmp_path: Path, fake_hub):
    fake_hub.errors = [http_error(RepositoryNotFoundError, 404)]
    with pytest.raises(DownloadError, match="dataset nobody/xtreme not found"):
        download_language("huggingface", "en", tmp_path / "en", hf_repo="nobody/xtreme", backoff=5)
    assert len(fake_hub.calls) == 1


def test_huggingface_offline_with_the_real_hub(tmp_path: Path):
    """The real huggingface_hub, offline with an empty cache: one DownloadError, no out_dir."""
    out = tmp_path / "raw" / "en"
    script = textwrap.dedent(
        f"""
        import sys
        from xner.data.download import download_language
        from xner.errors import DownloadError
        try:
            download_language("huggingface", "en", {str(out)!r}, retries=3, backoff=30)
        except DownloadError as err:
            print(err)
            sys.exit(3)
        """
    )
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "hf_home"),
        "PYTHONPATH": str(REPO_ROOT / "workflow"),
    }
    for key in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_DATASETS_CACHE"):
        env.pop(key, None)
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 3, result.stderr
    assert "could not fetch PAN-X.en from the Hugging Face hub (google/xtreme@main" in result.stdout
    assert "HF_HUB_OFFLINE is set" in result.stdout
    assert "data.source: local" in result.stdout
    assert not out.exists()
    assert no_leftovers(out.parent)
