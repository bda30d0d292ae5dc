"""The workflow passes `snakemake --lint`, and the Snakefile, rules and Python code are formatted."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")])}
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, check=False)


def test_snakemake_lint_is_clean():
    result = run(sys.executable, "-m", "snakemake", "--lint", "--configfile", "config.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations" in result.stdout + result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("snakefmt", "--check", "Snakefile", "workflow/rules"),
        ("ruff", "check", "workflow", "tests"),
        ("ruff", "format", "--check", "workflow", "tests"),
    ],
)
def test_formatted_and_lint_free(command):
    if shutil.which(command[0], path=str(BIN)) is None:
        pytest.skip(f"{command[0]} not installed (pip install -e '.[dev]')")
    result = run(str(BIN / command[0]), *command[1:])
    assert result.returncode == 0, result.stdout + result.stderr
