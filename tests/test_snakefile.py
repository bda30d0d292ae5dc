"""The Snakefile parses, and plans the default config, without importing torch or transformers.

Snakemake runs in a subprocess, in-process there (so that its ``sys.modules`` is
the parse's), in a temporary directory (``-d``), never in the checkout.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import CORES, ROOT, snakemake_env

ML_LIBRARIES = ("torch", "transformers")

# Run snakemake's command line in this process; at exit, write the ML modules it imported.
WRAPPER = f"""
import atexit, json, runpy, sys

out = sys.argv.pop(1)


def report():
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in {ML_LIBRARIES!r})
    with open(out, "w") as f:
        json.dump(loaded, f)


atexit.register(report)
sys.argv[0] = "snakemake"
runpy.run_module("snakemake", run_name="__main__", alter_sys=True)
"""


def test_dry_run_of_the_default_config_imports_no_ml_library(tmp_path: Path):
    modules = tmp_path / "modules.json"
    env = snakemake_env(tmp_path)
    command = [
        sys.executable,
        "-c",
        WRAPPER,
        str(modules),
        "-s",
        str(ROOT / "Snakefile"),
        "-d",
        str(tmp_path),
        "--cores",
        str(CORES),
        "--configfile",
        str(ROOT / "config.yaml"),
        "--replace-workflow-config",
        "-n",
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Job stats:" in result.stdout + result.stderr  # a plan was made, so every rule was parsed
    assert json.loads(modules.read_text()) == []
    assert not (tmp_path / "results").exists()
