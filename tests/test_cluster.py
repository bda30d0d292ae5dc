"""xner.cluster and profiles/slurm/bin/sacct: a job cancelled with scancel reads as CANCELLED, so that
the SLURM executor plugin sees it end; everything else of sacct is passed through."""

from __future__ import annotations

import os
import subprocess

from conftest import ROOT
from xner.cluster import use_sacct_state_filter

FILTER_DIR = ROOT / "profiles" / "slurm" / "bin"
SACCT_OUTPUT = (
    "12|CANCELLED by 0\n13|COMPLETED\n14|RUNNING\n15|CANCELLED+\n16|TIMEOUT\n17 CANCELLED by 1234 x\n"
)


def fake_sacct(folder, output=SACCT_OUTPUT, status=0):
    """A sacct that prints ``output``, records its arguments, and exits with ``status``."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "sacct"
    script.write_text(f'#!/bin/sh\necho "$@" > "{folder}/args"\nprintf \'{output}\'\nexit {status}\n')
    script.chmod(0o755)
    return folder


def run_filter(tmp_path, path: str):
    return subprocess.run(
        [str(FILTER_DIR / "sacct"), "-X", "--parsable2", "--format=JobIdRaw,State"],
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_state_of_a_cancelled_job_loses_its_uid_and_nothing_else_changes(tmp_path):
    real = fake_sacct(tmp_path / "real")
    result = run_filter(tmp_path, f"{FILTER_DIR}{os.pathsep}{real}{os.pathsep}/usr/bin{os.pathsep}/bin")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "12|CANCELLED",
        "13|COMPLETED",
        "14|RUNNING",
        "15|CANCELLED+",
        "16|TIMEOUT",
        "17 CANCELLED x",
    ]
    assert (real / "args").read_text().split() == ["-X", "--parsable2", "--format=JobIdRaw,State"]


def test_the_real_sacct_exit_status_is_kept_and_a_missing_one_is_127(tmp_path):
    real = fake_sacct(tmp_path / "real", output="", status=3)
    assert (
        run_filter(tmp_path, f"{FILTER_DIR}{os.pathsep}{real}{os.pathsep}/usr/bin{os.pathsep}/bin").returncode
        == 3
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = run_filter(tmp_path, f"{FILTER_DIR}{os.pathsep}{empty}")
    assert missing.returncode == 127 and "sacct: command not found" in missing.stderr


def test_the_filter_never_runs_itself(tmp_path):
    """Another way to its own folder on PATH (a link) or nothing but itself: an error, never a loop."""
    (tmp_path / "link").symlink_to(FILTER_DIR)
    for path in (f"{FILTER_DIR}{os.pathsep}{tmp_path / 'link'}", str(tmp_path / "link"), str(FILTER_DIR)):
        result = run_filter(tmp_path, path)
        assert result.returncode == 127 and "sacct: command not found" in result.stderr


def test_the_filter_goes_on_path_only_where_sacct_exists(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert not use_sacct_state_filter(FILTER_DIR)
    assert os.environ["PATH"] == str(empty)
    real = fake_sacct(tmp_path / "real")
    monkeypatch.setenv("PATH", str(real))
    assert use_sacct_state_filter(FILTER_DIR)
    assert os.environ["PATH"].split(os.pathsep) == [str(FILTER_DIR.resolve()), str(real)]
    assert use_sacct_state_filter(FILTER_DIR)  # once only
    assert os.environ["PATH"].split(os.pathsep) == [str(FILTER_DIR.resolve()), str(real)]
