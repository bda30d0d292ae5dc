#!/usr/bin/env bash
# `make test-slurm`: the demo through `--profile profiles/slurm` on a real single-node SLURM cluster.
#
# Starts the cluster (tests/slurm/cluster.sh), runs the demo once on this machine
# (profiles/local) and once through SLURM (profiles/slurm, with only the values of
# this one-node cluster overridden), then checks with sacct that every job went
# through sbatch and completed, and that both runs give the same results
# (tests/slurm/check_slurm_run.py). Needs root; about 5 minutes.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
    echo "tests/slurm/demo_on_slurm.sh needs root: it installs and starts SLURM's daemons" >&2
    exit 1
fi
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
export PATH="$ROOT/.venv/bin:$PATH"
WORK=$(mktemp -d /tmp/xner-slurm.XXXXXX)
echo "work directory: $WORK"

source tests/slurm/cluster.sh
cluster_install
trap cluster_stop EXIT
start=$SECONDS
cluster_start "$WORK/cluster"
echo "cluster started in $((SECONDS - start)) s"

DEMO=(-s "$ROOT/Snakefile" --configfile "$ROOT/demo/config.yaml" --replace-workflow-config)

# Without an account, a submission stops with a clear message and nothing reaches sbatch.
before=$(sacct -X -n -P -o JobID | wc -l)
if env -u XNER_SLURM_ACCOUNT snakemake "${DEMO[@]}" -d "$WORK/no-account" --profile profiles/slurm \
    >"$WORK/no-account.log" 2>&1; then
    echo "FAIL: a submission without a SLURM account went through" >&2
    exit 1
fi
grep -q "no SLURM account: set it once" "$WORK/no-account.log" || { tail -n 30 "$WORK/no-account.log"; exit 1; }
[ "$(sacct -X -n -P -o JobID | wc -l)" = "$before" ] || { echo "FAIL: jobs were submitted without an account" >&2; exit 1; }
echo "without an account: stopped with a clear message, no job submitted"

start=$SECONDS
snakemake "${DEMO[@]}" -d "$WORK/local" --profile profiles/local >"$WORK/local.log" 2>&1 ||
    { tail -n 50 "$WORK/local.log"; exit 1; }
echo "local run: $((SECONDS - start)) s"

# Only what differs on this one-node cluster: memory and CPUs, and quick status checks. Snakemake runs
# in the background so that one training job can be killed mid-run: the retried job must resume.
start=$SECONDS
XNER_SLURM_ACCOUNT=xner snakemake "${DEMO[@]}" -d "$WORK/slurm" --profile profiles/slurm \
    --jobs 4 \
    --default-resources slurm_partition=normal mem_mb=1000 runtime=30 cpus_per_task=2 \
    --set-resources train:slurm_partition=accel train:gpu=1 train:cpus_per_gpu=2 train:mem_mb=3000 \
    evaluate:slurm_partition=accel evaluate:gpu=1 evaluate:cpus_per_gpu=2 evaluate:mem_mb=2000 \
    speed_model:slurm_partition=accel speed_model:gpu=1 speed_model:cpus_per_gpu=2 speed_model:mem_mb=3000 \
    --slurm-init-seconds-before-status-checks 1 --seconds-between-status-checks 1 \
    >"$WORK/slurm.log" 2>&1 &
snakemake_pid=$!

# Kill the en+de run's training with SIGKILL, as the kernel's out-of-memory killer would, once its
# first epoch is checkpointed: SLURM ends the job FAILED, Snakemake submits it again (retries), and the
# new job must resume after the checkpointed epoch. (Not with scancel: sacct then reports the job as
# "CANCELLED by UID", which snakemake-executor-plugin-slurm 2.8 does not read as an end, so Snakemake
# would wait for it for ever; see the README's Fox section.)
checkpoint="$WORK/slurm/results/runs/tiny/en+de/base/resume/checkpoint.pt"
killed=""
for ((i = 0; i < 3000; i++)); do
    if [ -s "$checkpoint" ]; then
        pid=""
        for candidate in $(pgrep -f -- "xner train .*--train-langs en\+de" || true); do
            # the python process itself, not the shell that started it
            [[ "$(cat "/proc/$candidate/comm" 2>/dev/null)" == python* ]] && pid=$candidate
        done
        if [ -n "$pid" ]; then
            killed=$(tr '\0' '\n' <"/proc/$pid/environ" | sed -n 's/^SLURM_JOB_ID=//p')
            kill -KILL "$pid"
            echo "killed SLURM job $killed (training en+de, after its first epoch) after $((SECONDS - start)) s"
            break
        fi
    fi
    kill -0 "$snakemake_pid" 2>/dev/null || break
    sleep 0.1
done
wait "$snakemake_pid" || { tail -n 80 "$WORK/slurm.log"; tail -n 20 "$WORK"/cluster/log/*.log; exit 1; }
[ -n "$killed" ] || { echo "FAIL: the en+de training job was not seen running with a checkpoint" >&2; exit 1; }
echo "SLURM run: $((SECONDS - start)) s"

# What the demo must submit: one job per run and per speed model; a run's time limit is its training's
# (train_minutes per training language) plus its evaluation's (evaluate_minutes per test language).
read -r expected limits < <(python -c "
import sys, yaml
sys.path.insert(0, 'workflow')
from xner.config import load_schema, validate_config
from xner.runs import expand_runs, speed_models, train_minutes
config = validate_config(yaml.safe_load(open('demo/config.yaml')), load_schema('workflow/schemas/config.schema.yaml'))
runs = expand_runs(config)
limits = [train_minutes(config, r.model) * len(r.train_langs) + config['evaluate_minutes'] * len(r.test_langs) for r in runs]
print(len(runs) + len(speed_models(config)), ','.join(map(str, sorted(limits))))
")
python tests/slurm/check_slurm_run.py "$WORK/local" "$WORK/slurm" "$WORK/slurm.log" \
    --expected-jobs "$expected" --run-time-limits "$limits" --killed "$killed" \
    --resumed "results/runs/tiny/en+de/base/train.log"
