"""Shared test fixtures: the repository root, each test's share of the CPU, the real PAN-X data, an
independent counter, the xner command line in a fresh interpreter or in this one."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def cpu_share() -> int:
    """The CPU cores one test may use: all of them, or an equal share of them when pytest-xdist runs
    several workers (``make test`` runs two), so that two trainings never fight over the same cores."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    return max(1, (os.cpu_count() or 1) // workers)


CORES = cpu_share()


def pytest_configure(config) -> None:
    """Torch threads, here and in every process a test starts, within the test's share of the CPU."""
    os.environ["OMP_NUM_THREADS"] = str(CORES)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(CORES)


@pytest.fixture(scope="session")
def panx_dir() -> Path:
    """The real PAN-X files (xner.data.sources.panx_dir: $XNER_PANX_DIR, else ../shared/panx, from the
    checkout); the test is skipped without them."""
    from xner.data.sources import panx_dir as configured

    path = ROOT / configured()  # a relative directory is the checkout's, whatever pytest's folder
    if not (path / "xtreme").is_dir() or not (path / "panx_dataset").is_dir():
        pytest.skip(f"real PAN-X data not found at {path} (set XNER_PANX_DIR)")
    return path


def independent_count(paths: list[Path]) -> dict[str, int]:
    """Count an XTREME-layout file the simplest way, without xner's parser, for cross-checks."""
    sentences, words, vocabulary, tags = 0, 0, set(), Counter()
    for path in paths:
        for block in path.read_text(encoding="utf-8").split("\n\n"):
            lines = [line for line in block.split("\n") if line]
            if not lines:
                continue
            sentences += 1
            for line in lines:
                token, tag = line.split("\t")
                words += 1
                vocabulary.add(token)
                tags[tag] += 1
    return {"sentences": sentences, "tokens": words, "unique_tokens": len(vocabulary), **tags}


def run_xner(*args: str, env_update: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run ``python -m xner ARGS`` as a user would (with ``env_update`` in its environment), capturing its output."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "workflow"), **(env_update or {})}
    return subprocess.run(
        [sys.executable, "-m", "xner", *args], capture_output=True, text=True, env=env, check=False, **kwargs
    )


def xner_main(*args: str) -> subprocess.CompletedProcess:
    """Run the xner command line in this process, ``xner.cli.main.main(ARGS)``, capturing what it prints.

    For tests of what a subcommand does, where a fresh interpreter (:func:`run_xner`, seconds of
    importing torch and transformers) is not the point. Its return code is main's, or that of the
    SystemExit argparse raises; its stdout and stderr are what was printed. The environment is restored
    afterwards (main sets defaults in it), and so are torch's threads (``--threads``). Logging is left
    as pytest set it up: main's ``logging.basicConfig`` changes nothing, so log records are caplog's,
    not stderr's. Set the environment a subcommand reads with monkeypatch before the call.
    """
    from xner.cli.main import main

    stdout, stderr = io.StringIO(), io.StringIO()
    environ = dict(os.environ)
    threads = sys.modules["torch"].get_num_threads() if "torch" in sys.modules else CORES
    guard = logging.NullHandler()  # a root handler, so that basicConfig configures nothing
    logging.getLogger().addHandler(guard)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = main(list(args))
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    finally:
        logging.getLogger().removeHandler(guard)
        os.environ.clear()
        os.environ.update(environ)
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(threads)
    return subprocess.CompletedProcess(["xner", *args], code, stdout.getvalue(), stderr.getvalue())


def snakemake_env(workdir: Path) -> dict[str, str]:
    """The environment of a Snakemake run in a test: offline, this Python first on PATH, a private HF cache."""
    return {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(workdir / "hf_home"),
    }
