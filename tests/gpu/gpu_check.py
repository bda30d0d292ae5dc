"""make gpu-check: everything xner should prove on a GPU, in one short run, written under one folder.

Steps, each a subprocess with its own time limit and log (OUT/logs/{step}.log):

1. ``environment``: the device, driver, CUDA, torch, transformers, snakemake and Python versions;
2. ``cuda_tests``: ``pytest -m cuda`` (tests/test_cuda.py: bf16 training step, fused AdamW, GPU
   predictions equal to the CPU's, a run killed in its second epoch resuming to the same result);
3. ``demo``: the demo pipeline through Snakemake (profiles/local), its outputs checked
   (tests/test_workflow.py::test_demo_end_to_end);
4. ``bench``: ``xner bench`` (on CUDA the base-size shapes of mBERT, XLM-R and mDeBERTa-v3, bf16,
   16,000 sentences, one repetition, no quality check), its targets read back;
5. ``speed``: the study's speed table (``xner speed``, ``xner speed-table``) for the same shapes,
   random weights (tests/gpu/speed_inputs.py), 16,000 synthetic sentences at batch size 64.

OUT/gpu-check.json holds every step's status, seconds and summary; OUT/gpu-check.md the same for
reading. ``--smoke`` runs the same steps on the CPU with tiny shapes (no demo: the test suite runs
it), in a few minutes, so that the script is known to work before a GPU is lent.

    python tests/gpu/gpu_check.py [--out DIR] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# seconds allowed per step: 8 minutes in all on an H200, so that a rerun fits in a 15-minute lease
LIMITS = {"cuda_tests": 100, "demo": 130, "bench": 170, "speed": 80}
SMOKE_LIMITS = {"cuda_tests": 120, "demo": 0, "bench": 240, "speed": 240}


def run_step(name: str, command: list[str], out: Path, limit: int, env: dict[str, str]) -> dict:
    """Run one step's command with its output in OUT/logs/{name}.log; its status and seconds."""
    log = out / "logs" / f"{name}.log"
    start = time.perf_counter()
    with open(log, "w", encoding="utf-8") as f:
        f.write("$ " + " ".join(command) + "\n")
        f.flush()
        try:
            code = subprocess.run(
                command, stdout=f, stderr=subprocess.STDOUT, env=env, cwd=ROOT, timeout=limit
            ).returncode
            status = "passed" if code == 0 else f"failed (exit {code})"
        except subprocess.TimeoutExpired:
            status = f"timed out after {limit} s"
    return {"step": name, "status": status, "seconds": round(time.perf_counter() - start, 1), "log": str(log)}


def environment() -> dict:
    import torch
    import transformers

    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.cuda.is_available() else None,
        "transformers": transformers.__version__,
        "device": torch.cuda.get_device_name(0)
        if torch.cuda.is_available()
        else platform.processor() or "cpu",
        "cuda_available": torch.cuda.is_available(),
    }
    try:
        import snakemake

        info["snakemake"] = snakemake.__version__
    except ImportError:
        info["snakemake"] = None
    try:
        smi = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        info["nvidia_smi"] = smi.stdout.strip() or smi.stderr.strip()
    except (FileNotFoundError, subprocess.TimeoutExpired):
        info["nvidia_smi"] = None
    return info


def junit_counts(path: Path) -> dict:
    """Tests passed, failed, skipped (with the reasons) from a pytest JUnit XML file."""
    if not path.exists():
        return {}
    cases = ET.parse(path).getroot().iter("testcase")
    counts = {"passed": 0, "failed": 0, "skipped": 0, "skip_reasons": []}
    for case in cases:
        if case.find("failure") is not None or case.find("error") is not None:
            counts["failed"] += 1
        elif (skipped := case.find("skipped")) is not None:
            counts["skipped"] += 1
            counts["skip_reasons"].append(skipped.get("message", ""))
        else:
            counts["passed"] += 1
    counts["skip_reasons"] = sorted(set(counts["skip_reasons"]))
    return counts


def bench_summary(path: Path) -> dict:
    if not path.exists():
        return {}
    bench = json.loads(path.read_text(encoding="utf-8"))
    return {
        "device_name": bench.get("device_name"),
        "targets": bench.get("targets", []),
        "architectures": sorted(bench.get("architectures", {})),
    }


def speed_summary(path: Path) -> dict:
    """Each model's epoch and inference seconds from the speed table."""
    import csv

    if not path.exists():
        return {}
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {
        r[
            "model"
        ]: f"epoch {float(r['epoch_seconds']):.1f} s, inference {float(r['inference_seconds']):.1f} s"
        for r in rows
    }


def markdown(report: dict) -> str:
    lines = [
        "# xner gpu-check",
        "",
        f"{report['started']}, {'smoke mode (CPU, tiny shapes)' if report['smoke'] else 'GPU'}; "
        f"{report['seconds']:.0f} s in all.",
        "",
        "## Environment",
        "",
        *[f"- {k}: {v}" for k, v in report["environment"].items()],
        "",
        "## Steps",
        "",
        "| step | status | seconds | summary |",
        "| :--- | :--- | ---: | :--- |",
    ]
    for step in report["steps"]:
        summary = step.get("summary", {})
        text = ", ".join(f"{k} {v}" for k, v in summary.items() if k not in ("targets", "skip_reasons"))
        lines.append(f"| {step['step']} | {step['status']} | {step['seconds']} | {text} |")
    targets = next((s["summary"].get("targets", []) for s in report["steps"] if s["step"] == "bench"), [])
    if targets:
        lines += [
            "",
            "## Bench targets",
            "",
            "| target | architecture | value | bound | passed |",
            "| :--- | :--- | :--- | :--- | :--- |",
        ]
        for t in targets:
            value = t.get("value", "")
            value = f"{value:.3f}" if isinstance(value, float) else value
            lines.append(
                f"| {t.get('target', '')} | {t.get('architecture', '')} | {value} | "
                f"{t.get('bound', '')} | {'yes' if t.get('passed') else 'NO'} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT") or ROOT / "results" / "gpu"))
    parser.add_argument("--smoke", action="store_true", help="on the CPU, with tiny shapes, in a few minutes")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    (out / "logs").mkdir(parents=True, exist_ok=True)
    limits = SMOKE_LIMITS if args.smoke else LIMITS
    paths = [str(ROOT / "workflow"), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "PYTHONUNBUFFERED": "1"}
    python = sys.executable
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    start = time.perf_counter()
    report = {"started": started, "smoke": args.smoke, "environment": environment(), "steps": []}

    junit = out / "cuda-tests.xml"
    step = run_step(
        "cuda_tests",
        [
            python,
            "-m",
            "pytest",
            "-m",
            "cuda",
            "tests/test_cuda.py",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={junit}",
        ],
        out,
        limits["cuda_tests"],
        env,
    )
    counts = junit_counts(junit)
    if counts and counts["failed"] == 0 and step["status"].startswith("failed (exit 5)"):
        step["status"] = "passed"  # exit 5: every test deselected or skipped
    step["summary"] = counts
    report["steps"].append(step)

    if limits["demo"]:
        if report["environment"]["snakemake"] is None:
            report["steps"].append(
                {"step": "demo", "status": "skipped: no snakemake (make gpu-wheels)", "seconds": 0}
            )
        else:
            report["steps"].append(
                run_step(
                    "demo",
                    [
                        python,
                        "-m",
                        "pytest",
                        "tests/test_workflow.py::test_demo_end_to_end",
                        "-q",
                        "-p",
                        "no:cacheprovider",
                    ],
                    out,
                    limits["demo"],
                    env,
                )
            )
    else:
        report["steps"].append(
            {"step": "demo", "status": "skipped (smoke mode: the test suite runs it)", "seconds": 0}
        )

    bench_out = out / "bench"
    bench = [python, "-m", "xner", "bench", "--out", str(bench_out), "--repetitions", "1", "--no-quality"]
    if args.smoke:
        bench += [
            "--device",
            "cpu",
            "--architecture",
            "small-bert",
            "--train-sentences",
            "300",
            "--test-sentences",
            "300",
        ]
    step = run_step("bench", bench, out, limits["bench"], env)
    step["summary"] = bench_summary(bench_out / "bench.json")
    report["steps"].append(step)

    speed_dir = out / "speed"
    architectures = (
        ["small-bert"]
        if args.smoke
        else ["bert-base-multilingual-cased", "xlm-roberta-base", "mdeberta-v3-base"]
    )
    sentences = 300 if args.smoke else 16000
    device = ["--device", "cpu"] if args.smoke else []
    commands = [
        f"{python} tests/gpu/speed_inputs.py {speed_dir} --sentences {sentences} {' '.join(architectures)}",
        *[
            f"{python} -m xner speed --model-path {speed_dir}/models/{a} --model-name {a} --train {speed_dir}/train.parquet"
            f" --val {speed_dir}/val.parquet --sentences {sentences} --batch-size 64 --eval-batch-size 64"
            f" --out {speed_dir}/{a}.json {' '.join(device)}"
            for a in architectures
        ],
        f"{python} -m xner speed-table {' '.join(f'{speed_dir}/{a}.json' for a in architectures)}"
        f" --csv {speed_dir}/speed.csv --md {speed_dir}/speed.md",
    ]
    step = run_step(
        "speed", ["bash", "-c", "set -euo pipefail; " + " && ".join(commands)], out, limits["speed"], env
    )
    step["summary"] = speed_summary(speed_dir / "speed.csv")
    report["steps"].append(step)

    report["seconds"] = round(time.perf_counter() - start, 1)
    report["passed"] = all(
        s["status"] == "passed" or s["status"].startswith("skipped") for s in report["steps"]
    )
    (out / "gpu-check.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (out / "gpu-check.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
