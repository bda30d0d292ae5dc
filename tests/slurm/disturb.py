"""Disturb the demo's SLURM run as a cluster does, while Snakemake runs it (used by demo_on_slurm.sh):

    python tests/slurm/disturb.py WORKDIR SNAKEMAKE_LOG SNAKEMAKE_PID OUT_JSON

1. ``scancel`` the en run's job once its training has checkpointed its first epoch (a user cancelling
   a job): Snakemake must see the job end, report it with its job id, and submit it again;
2. ``SIGKILL`` the en+de run's training once it has checkpointed an epoch (the kernel's out-of-memory
   killer): the job ends FAILED and is submitted again;
3. ``scontrol requeue`` the en+de run's next job once its resumed training has checkpointed another
   epoch (what a node failure or preemption does): SLURM runs the same job again, which resumes.

Each step waits for the one before. Writes the job ids and how long Snakemake took to report the
cancelled job to OUT_JSON; exits 1 if Snakemake ended before every step was done.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path


def trainings(langs: str) -> list[tuple[int, str]]:
    """(pid, SLURM job id) of every running `xner train` Python process of the run with these languages."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            comm = (proc / "comm").read_text().strip()
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        args = [a.decode(errors="replace") for a in argv]
        if not comm.startswith("python") or "train" not in args or "--train-langs" not in args:
            continue
        if args[args.index("--train-langs") + 1] != langs:
            continue
        job = next((v.split(b"=", 1)[1].decode() for v in environ if v.startswith(b"SLURM_JOB_ID=")), "")
        found.append((int(proc.name), job))
    return found


def main(workdir: Path, log: Path, snakemake_pid: int, out: Path) -> int:
    runs = workdir / "results" / "runs" / "tiny"
    done: dict[str, object] = {}
    first_seen: dict[int, float] = {}  # pid -> wall time it was first seen
    start = time.time()
    while True:
        if "cancelled" not in done:
            checkpoint = runs / "en" / "base" / "resume" / "checkpoint.pt"
            for _pid, job in trainings("en"):
                if job and checkpoint.exists():
                    subprocess.run(["scancel", job], check=True)
                    done["cancelled"], done["cancelled_at"] = job, time.time()
                    print(f"scancel of SLURM job {job} (training en, after its first epoch)", flush=True)
                    break
        elif "cancel_reported_after_seconds" not in done:
            # Snakemake's error for the job, naming its SLURM log (.snakemake/slurm_logs/.../JOBID.log)
            pattern = rf"log: \S*/{done['cancelled']}\.log \(check log file"
            if re.search(pattern, log.read_text(errors="replace")):
                done["cancel_reported_after_seconds"] = round(time.time() - done["cancelled_at"], 1)
        if "killed" not in done:
            checkpoint = runs / "en+de" / "base" / "resume" / "checkpoint.pt"
            for pid, job in trainings("en+de"):
                if job and checkpoint.exists():
                    os.kill(pid, signal.SIGKILL)
                    done["killed"] = job
                    print(f"SIGKILL of SLURM job {job} (training en+de, after its first epoch)", flush=True)
                    break
        elif "requeued" not in done:
            checkpoint = runs / "en+de" / "base" / "resume" / "checkpoint.pt"
            for pid, job in trainings("en+de"):
                if job and job != done["killed"]:
                    seen = first_seen.setdefault(pid, time.time())
                    if checkpoint.exists() and checkpoint.stat().st_mtime > seen:
                        subprocess.run(["scontrol", "requeue", job], check=True)
                        done["requeued"] = job
                        print(f"scontrol requeue of SLURM job {job} (training en+de, resumed)", flush=True)
                        break
        if {"cancel_reported_after_seconds", "requeued"} <= set(done):
            break
        try:
            os.kill(snakemake_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    done.pop("cancelled_at", None)
    done["seconds"] = round(time.time() - start, 1)
    out.write_text(json.dumps(done, indent=2) + "\n")
    missing = {"cancelled", "cancel_reported_after_seconds", "killed", "requeued"} - set(done)
    if missing:
        print(
            f"FAIL: Snakemake ended before the run was disturbed ({', '.join(sorted(missing))})", flush=True
        )
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])))
