"""The errors xner reports to its users: one clear line each, no traceback."""

from __future__ import annotations

from pathlib import Path


class XnerError(Exception):
    """An error caused by the user's input or environment, not by a bug.

    The command-line interface prints ``str(error)`` as one line and exits
    non-zero; anything else that escapes is a bug and keeps its traceback.
    """


class DataFormatError(XnerError):
    """Malformed input data, located by file and line (or row)."""

    def __init__(self, path: str | Path, line: int | None, message: str, *, unit: str = "line"):
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}, {unit} {line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class ConfigError(XnerError):
    """An invalid configuration value, located by its key (``data.languages[2]``)."""

    def __init__(self, key: str, message: str):
        self.key = key
        self.message = message
        super().__init__(f"config key '{key}': {message}" if key else f"config: {message}")


class DownloadError(XnerError):
    """Data that could not be fetched or found."""
