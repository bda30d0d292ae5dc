"""Check a demo run through SLURM against sacct and against the same demo run locally.

    python tests/slurm/check_slurm_run.py LOCAL_DIR SLURM_DIR SLURM_LOG

Every job Snakemake submitted (its log names the SLURM job ids) must be known to
sacct as COMPLETED; training and evaluation must have run on the accel partition
with a GPU; every non-local rule must have gone through sbatch; and the results
(data, evaluation scores, training histories, tables) must equal the local run's.
Prints the job ids and states. Exits non-zero on any difference.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

LOCAL_RULES = {"demo_data", "download", "fetch_panx_archive", "all", "data", "evaluations", "tables"}
# Where a job ran (device_name, device_type) and how long it took may differ; the results may not.
TIMING = {
    "seconds",
    "sentences_per_second",
    "tokens_per_second",
    "device_name",
    "device_type",
    "wall_seconds",
}


def sacct(job_ids: list[str]) -> list[dict[str, str]]:
    fields = ["JobID", "Comment", "Partition", "State", "ExitCode", "AllocTRES"]
    out = subprocess.run(
        ["sacct", "-X", "-n", "-P", "-j", ",".join(job_ids), "-o", ",".join(fields)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [dict(zip(fields, line.split("|"))) for line in out.splitlines() if line]


def is_timing(key: str) -> bool:
    """Times and peak memory differ from run to run (the study's quoted times do not)."""
    return key in TIMING or (key.endswith(("_seconds", "_mib")) and not key.startswith("study_"))


def strip_timing(value):
    if isinstance(value, dict):
        return {k: strip_timing(v) for k, v in value.items() if not is_timing(k)}
    return value


def read_csv(path: Path, drop=TIMING) -> list[dict]:
    with open(path, newline="") as f:
        return [
            {k: v for k, v in row.items() if k not in drop and not is_timing(k)} for row in csv.DictReader(f)
        ]


def main(local: Path, slurm: Path, log: Path) -> int:
    text = log.read_text()
    job_ids = re.findall(r"has been submitted with SLURM jobid (\d+)", text)
    problems = []
    if not job_ids:
        print("no job was submitted through sbatch")
        return 1
    jobs = sacct(job_ids)
    print(f"{'JobID':>6}  {'State':<10} {'Partition':<9} {'AllocTRES':<40} Comment")
    for job in jobs:
        print(
            f"{job['JobID']:>6}  {job['State']:<10} {job['Partition']:<9} {job['AllocTRES']:<40} {job['Comment']}"
        )
    if sorted(j["JobID"] for j in jobs) != sorted(job_ids):
        problems.append(f"sacct knows {len(jobs)} of the {len(job_ids)} submitted jobs")
    problems += [
        f"job {j['JobID']} ({j['Comment']}) ended {j['State']}" for j in jobs if j["State"] != "COMPLETED"
    ]
    for job in jobs:
        gpu_job = job["Comment"].startswith(("rule_train_", "rule_evaluate_", "rule_speed_model_"))
        on_gpu = job["Partition"] == "accel" and "gres/gpu=1" in job["AllocTRES"]
        if gpu_job != on_gpu:
            problems.append(
                f"job {job['JobID']} ({job['Comment']}) on {job['Partition']} with {job['AllocTRES']}"
            )
    stats = text.split("Job stats:")[1].split("\n\n")[0]
    rules = {m[1] for m in re.finditer(r"^(\w+)\s+\d+$", stats, re.MULTILINE)} - LOCAL_RULES - {"total"}
    comments = " ".join(j["Comment"] for j in jobs)
    for rule in sorted(rules):
        if f"rule_{rule}_" not in comments and f"rule_{rule} " not in comments + " ":
            problems.append(f"no sbatch job for rule {rule}")

    # the same results as the local run
    local_files = sorted(p.relative_to(local) for p in (local / "results").rglob("*") if p.is_file())
    compared = 0
    for rel in local_files:
        a, b = local / rel, slurm / rel
        if rel.parts[1] in ("logs", "benchmarks") or rel.suffix == ".png" or "model" in rel.parts:
            continue
        if not b.exists():
            problems.append(f"missing in the SLURM run: {rel}")
            continue
        if rel.suffix == ".json":
            same = strip_timing(json.loads(a.read_text())) == strip_timing(json.loads(b.read_text()))
        elif rel.name in ("history.csv", "runs.csv", "speed.csv"):
            drop = TIMING | {"train_minutes"}
            same = read_csv(a, drop) == read_csv(b, drop)
        elif rel.name in ("runs.md", "speed.md", "train.log") or rel.suffix == ".log":
            continue
        else:
            same = a.read_bytes() == b.read_bytes()
        compared += 1
        if not same:
            problems.append(f"differs from the local run: {rel}")
    print(f"{len(job_ids)} SLURM jobs; {compared} result files compared with the local run")
    for problem in problems:
        print("FAIL:", problem)
    if problems:
        return 1
    print("SLURM run: every job went through sbatch and completed; results equal the local run")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])))
