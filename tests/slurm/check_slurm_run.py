"""Check a demo run through SLURM against sacct and against the same demo run locally.

    python tests/slurm/check_slurm_run.py LOCAL_DIR SLURM_DIR SLURM_LOG \
        --expected-jobs N --killed JOBID --resumed RUN_DIR/train.log

Every job Snakemake submitted (its log names the SLURM job ids) must be known to
sacct; each must have been allocated exactly one GPU on the accel partition; the
one killed mid-run (JOBID) must have ended without completing, every other one
COMPLETED, and they must be exactly N (one per run, its training and evaluation
together, and one per model of the speed table); the killed run's retried
training must have resumed from its checkpoint; and the results (data,
evaluation scores, training histories, tables) must equal the local run's.
Prints the job ids and states. Exits non-zero on any difference.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from compare_results import compare  # noqa: E402


def sacct(job_ids: list[str]) -> list[dict[str, str]]:
    fields = ["JobID", "Comment", "Partition", "State", "ExitCode", "AllocTRES", "Timelimit"]
    out = subprocess.run(
        ["sacct", "-X", "-n", "-P", "-j", ",".join(job_ids), "-o", ",".join(fields)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [dict(zip(fields, line.split("|"))) for line in out.splitlines() if line]


def gpus(alloc_tres: str) -> int:
    """The GPUs of a job's AllocTRES (``billing=2,cpu=2,gres/gpu=1,mem=3000M,node=1``)."""
    tres = dict(item.partition("=")[::2] for item in alloc_tres.split(",") if item)
    return int(tres.get("gres/gpu", 0))


def minutes(limit: str) -> int:
    """A SLURM time limit (``MM``, ``HH:MM:SS``, ``D-HH:MM:SS``) in minutes."""
    days, _, clock = limit.rpartition("-")
    parts = [int(x) for x in clock.split(":")]
    hours, mins = (parts[0], parts[1]) if len(parts) == 3 else (0, parts[0])
    return int(days or 0) * 24 * 60 + hours * 60 + mins


def main(
    local: Path, slurm: Path, log: Path, expected_jobs: int, run_limits: list[int], killed: str, resumed: str
) -> int:
    text = log.read_text()
    job_ids = re.findall(r"has been submitted with SLURM jobid (\d+)", text)
    problems = []
    if not job_ids:
        print("no job was submitted through sbatch")
        return 1
    jobs = sacct(job_ids)
    print(f"{'JobID':>6}  {'State':<10} {'Partition':<9} {'AllocTRES':<44} {'Timelimit':<9} Comment")
    for job in jobs:
        print(
            f"{job['JobID']:>6}  {job['State']:<10} {job['Partition']:<9} {job['AllocTRES']:<44}"
            f" {job['Timelimit']:<9} {job['Comment']}"
        )
    if sorted(j["JobID"] for j in jobs) != sorted(job_ids):
        problems.append(f"sacct knows {len(jobs)} of the {len(job_ids)} submitted jobs")
    if killed not in job_ids:
        problems.append(f"the killed job {killed} is not one Snakemake submitted")
    for job in jobs:
        if job["JobID"] == killed:
            if job["State"] == "COMPLETED":
                problems.append(f"the killed job {killed} ended COMPLETED")
        elif job["State"] != "COMPLETED":
            problems.append(f"job {job['JobID']} ({job['Comment']}) ended {job['State']}")
        if job["Partition"] != "accel" or gpus(job["AllocTRES"]) != 1:
            problems.append(
                f"job {job['JobID']} ({job['Comment']}) on {job['Partition']} with {job['AllocTRES']}:"
                " every SLURM job must have exactly one GPU on accel"
            )
    completed = [j for j in jobs if j["JobID"] != killed]
    if len(completed) != expected_jobs:
        problems.append(
            f"{len(completed)} SLURM jobs besides the killed one, expected {expected_jobs}"
            " (one per run and one per speed model)"
        )
    # a run's job (training and evaluation in one group) has the sum of their time limits
    completed_runs = [j for j in completed if j["Comment"].startswith("rule_run")]
    got = sorted(minutes(j["Timelimit"]) for j in completed_runs)
    if got != sorted(run_limits):
        problems.append(f"time limits of the run jobs: {got} minutes, expected {sorted(run_limits)}")
    resumed_log = (slurm / resumed).read_text()
    if "resuming after epoch" not in resumed_log:
        problems.append(f"{resumed}: the retried training did not resume from its checkpoint")
    else:
        print(f"{resumed}: " + re.search(r"resuming after epoch \d+", resumed_log)[0])

    # the same results as the local run (figures and models are the local run's own business)
    compared, differences = compare(
        local / "results",
        slurm / "results",
        leave_out=lambda rel: rel.suffix == ".png" or "model" in rel.parts,
    )
    problems += [f"{d} (against the local run)" for d in differences]
    print(f"{len(job_ids)} SLURM jobs; {compared} result files compared with the local run")
    for problem in problems:
        print("FAIL:", problem)
    if problems:
        return 1
    print(
        "SLURM run: one GPU per job, one job per run and per speed model, the killed run resumed"
        " and completed; results equal the local run"
    )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("local", type=Path)
    parser.add_argument("slurm", type=Path)
    parser.add_argument("log", type=Path)
    parser.add_argument("--expected-jobs", type=int, required=True)
    parser.add_argument("--run-time-limits", required=True, help="minutes, comma-separated, one per run")
    parser.add_argument("--killed", required=True)
    parser.add_argument("--resumed", required=True)
    args = parser.parse_args()
    limits = [int(x) for x in args.run_time_limits.split(",") if x]
    sys.exit(main(args.local, args.slurm, args.log, args.expected_jobs, limits, args.killed, args.resumed))
