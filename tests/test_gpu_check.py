"""tests/gpu/gpu_check.py in smoke mode (CPU, tiny shapes): the GPU check works before a GPU is lent."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.slow
def test_the_gpu_check_runs_every_step_and_writes_its_report(tmp_path):
    out = tmp_path / "gpu"
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "gpu" / "gpu_check.py"), "--smoke", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((out / "gpu-check.json").read_text())
    assert report["smoke"] and report["passed"]
    assert {"torch", "cuda", "transformers", "snakemake", "device", "python"} <= set(report["environment"])
    steps = {s["step"]: s for s in report["steps"]}
    assert list(steps) == ["cuda_tests", "demo", "bench", "speed"]
    cuda = steps["cuda_tests"]["summary"]  # no GPU here: every CUDA test skipped, none failed
    assert cuda["failed"] == 0 and cuda["passed"] + cuda["skipped"] >= 3
    bench = steps["bench"]
    assert bench["status"] == "passed" and bench["summary"]["architectures"] == ["small-bert"]
    assert any(
        t["target"].startswith("training: xner / default Trainer") for t in bench["summary"]["targets"]
    )
    assert (out / "bench" / "bench.md").exists() and (out / "logs" / "bench.log").stat().st_size > 0
    assert "| bench | passed |" in (out / "gpu-check.md").read_text()
    speed = steps["speed"]  # the speed table for the same shapes, random weights
    assert speed["status"] == "passed" and list(speed["summary"]) == ["small-bert"]
    assert (out / "speed" / "speed.md").read_text().startswith("| model |")
