"""Check the demo's runs through SLURM against sacct and against the same demo run locally.

    python tests/slurm/check_slurm_run.py LOCAL_DIR SLURM_DIR SLURM_LOG \
        --expected-jobs N --run-time-limits M,M,... --disturbed DISTURBED_JSON
    python tests/slurm/check_slurm_run.py --timed-out WORK_DIR SNAKEMAKE_LOG

The disturbed run (tests/slurm/disturb.py cancelled one run's job, killed another's training and
requeued that run's next job): every job Snakemake submitted (its log names the SLURM job ids) must be
known to sacct, with exactly one GPU on the accel partition; the cancelled job must have ended
CANCELLED and been reported by Snakemake with its job id, the killed one FAILED, the requeued one
requeued (sacct --duplicates) and then COMPLETED, and every other job COMPLETED: exactly N of them (one
per run, its training and evaluation together, and one per model of the speed table). A retried run's
job asks for twice its first time limit; both disturbed runs' trainings must have resumed from their
checkpoints; and the results (data, evaluation scores, training histories, tables) must equal the
local run's.

The timed-out run: its first job must have ended TIMEOUT, and the retry, with twice the time limit,
COMPLETED after resuming the training.

Prints the jobs as sacct reports them. Exits non-zero on any difference.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from compare_results import compare  # noqa: E402

FIELDS = ["JobID", "Comment", "Partition", "State", "ExitCode", "AllocTRES", "Timelimit"]


def sacct(job_ids: list[str], duplicates: bool = False) -> list[dict[str, str]]:
    """sacct's record of each job (with ``duplicates``, also of each earlier run of a requeued job)."""
    command = ["sacct", "-X", "-n", "-P", "-j", ",".join(job_ids), "-o", ",".join(FIELDS)]
    out = subprocess.run(command + (["-D"] if duplicates else []), check=True, capture_output=True, text=True)
    return [dict(zip(FIELDS, line.split("|"))) for line in out.stdout.splitlines() if line]


def show(jobs: list[dict[str, str]]) -> None:
    print(f"{'JobID':>6}  {'State':<16} {'Partition':<9} {'AllocTRES':<44} {'Timelimit':<9} Comment")
    for job in jobs:
        print(
            f"{job['JobID']:>6}  {job['State']:<16} {job['Partition']:<9} {job['AllocTRES']:<44}"
            f" {job['Timelimit']:<9} {job['Comment']}"
        )


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


def submitted(log: Path) -> list[str]:
    return re.findall(r"has been submitted with SLURM jobid (\d+)", log.read_text())


def resumed(run_dir: Path) -> str | None:
    """``resuming after epoch N`` from a run's training log, if its last training resumed."""
    found = re.search(r"resuming after epoch \d+", (run_dir / "train.log").read_text())
    return found[0] if found else None


def check_disturbed(
    local: Path, slurm: Path, log: Path, expected_jobs: int, run_limits: list[int], disturbed: dict
) -> list[str]:
    job_ids = submitted(log)
    if not job_ids:
        return ["no job was submitted through sbatch"]
    jobs = sacct(job_ids)
    show(jobs)
    problems = []
    if sorted(j["JobID"] for j in jobs) != sorted(job_ids):
        problems.append(f"sacct knows {len(jobs)} of the {len(job_ids)} submitted jobs")
    by_id = {j["JobID"]: j for j in jobs}
    cancelled, killed, requeued = disturbed["cancelled"], disturbed["killed"], disturbed["requeued"]
    for what, job_id in (("cancelled", cancelled), ("killed", killed), ("requeued", requeued)):
        if job_id not in by_id:
            problems.append(f"the {what} job {job_id} is not one Snakemake submitted")
    if not by_id.get(cancelled, {}).get("State", "").startswith("CANCELLED"):
        problems.append(f"the cancelled job {cancelled} ended {by_id.get(cancelled, {}).get('State')}")
    if by_id.get(killed, {}).get("State") != "FAILED":
        problems.append(f"the killed job {killed} ended {by_id.get(killed, {}).get('State')}")
    runs_of_requeued = [j["State"] for j in sacct([requeued], duplicates=True)]
    print(f"job {requeued}, requeued: {' then '.join(runs_of_requeued)}")
    if "REQUEUED" not in runs_of_requeued or runs_of_requeued[-1] != "COMPLETED":
        problems.append(f"the requeued job {requeued} ran as {runs_of_requeued}, not REQUEUED then COMPLETED")
    # Snakemake saw the cancelled job end, named it, and did not wait for it
    reported = re.search(rf"log: \S*/{cancelled}\.log \(check log file", log.read_text())
    seconds = disturbed.get("cancel_reported_after_seconds")
    print(f"the cancelled job {cancelled}: reported by Snakemake {seconds} s after scancel")
    if not reported or seconds is None or seconds > 20:
        problems.append(f"Snakemake did not report the cancelled job {cancelled} within 20 s")

    for job in jobs:
        if job["JobID"] not in (cancelled, killed) and job["State"] != "COMPLETED":
            problems.append(f"job {job['JobID']} ({job['Comment']}) ended {job['State']}")
        if job["Partition"] != "accel" or gpus(job["AllocTRES"]) != 1:
            problems.append(
                f"job {job['JobID']} ({job['Comment']}) on {job['Partition']} with {job['AllocTRES']}:"
                " every SLURM job must have exactly one GPU on accel"
            )
    completed = [j for j in jobs if j["JobID"] not in (cancelled, killed)]
    if len(completed) != expected_jobs:
        problems.append(
            f"{len(completed)} SLURM jobs besides the cancelled and the killed one, expected {expected_jobs}"
            " (one per run and one per speed model)"
        )
    # A run's job (training and evaluation in one group) has the sum of their time limits; both runs
    # were retried once (one cancelled, one killed), and a retry asks for twice the first limit.
    first = sorted(minutes(by_id[j]["Timelimit"]) for j in (cancelled, killed) if j in by_id)
    retried = sorted(minutes(j["Timelimit"]) for j in completed if j["Comment"].startswith("rule_run"))
    if first != sorted(run_limits) or retried != sorted(2 * m for m in run_limits):
        problems.append(
            f"time limits of the run jobs: {first} minutes first, {retried} retried;"
            f" expected {sorted(run_limits)} and twice that"
        )
    for run in ("en", "en+de"):
        line = resumed(slurm / "results" / "runs" / "tiny" / run / "base")
        print(f"run tiny/{run}/base: {line or 'did not resume'}")
        if line is None:
            problems.append(f"run tiny/{run}/base: the retried training did not resume from its checkpoint")

    # the same results as the local run (figures and models are the local run's own business)
    compared, differences = compare(
        local / "results",
        slurm / "results",
        leave_out=lambda rel: rel.suffix == ".png" or "model" in rel.parts,
    )
    problems += [f"{d} (against the local run)" for d in differences]
    print(f"{len(job_ids)} SLURM jobs; {compared} result files compared with the local run")
    return problems


def check_timed_out(work: Path, log: Path) -> list[str]:
    job_ids = submitted(log)
    jobs = [j for j in sacct(job_ids) if j["Comment"].startswith("rule_run")]
    show(jobs)
    states = [j["State"] for j in jobs]
    limits = [minutes(j["Timelimit"]) for j in jobs]
    line = resumed(work / "results" / "runs" / "tiny" / "en" / "base")
    print(f"run tiny/en/base: {line or 'did not resume'}")
    problems = []
    if states != ["TIMEOUT", "COMPLETED"]:
        problems.append(f"the run's jobs ended {states}, expected TIMEOUT then COMPLETED")
    if len(limits) == 2 and limits[1] != 2 * limits[0]:
        problems.append(f"the retry's time limit is {limits[1]} minutes, not twice the first's {limits[0]}")
    if line is None:
        problems.append("the retried training did not resume from its checkpoint")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", type=Path, nargs="+", help="LOCAL SLURM LOG, or with --timed-out WORK LOG")
    parser.add_argument("--expected-jobs", type=int)
    parser.add_argument("--run-time-limits", help="minutes, comma-separated, one per run")
    parser.add_argument("--disturbed", type=Path, help="what tests/slurm/disturb.py did (JSON)")
    parser.add_argument("--timed-out", action="store_true", help="check the run past its time limit")
    args = parser.parse_args(argv)
    if args.timed_out:
        problems = check_timed_out(*args.paths)
        success = "SLURM run past its time limit: TIMEOUT, retried with twice the limit, resumed, completed"
    else:
        limits = [int(x) for x in args.run_time_limits.split(",") if x]
        disturbed = json.loads(args.disturbed.read_text())
        problems = check_disturbed(*args.paths, args.expected_jobs, limits, disturbed)
        success = (
            "SLURM run: one GPU per job; the cancelled job reported and retried, the killed run retried,"
            " the requeued job run again, each resumed and completed; results equal the local run"
        )
    for problem in problems:
        print("FAIL:", problem)
    if problems:
        return 1
    print(success)
    return 0


if __name__ == "__main__":
    sys.exit(main())
