#!/usr/bin/env bash
# `make test-slurm`: the demo through `--profile profiles/slurm` on a real single-node SLURM cluster.
#
# Starts the cluster (tests/slurm/cluster.sh), runs the demo once on this machine
# (profiles/local) and once through SLURM (profiles/slurm, with only the values of
# this one-node cluster overridden) while jobs are cancelled, killed and requeued,
# then checks with sacct that every job went through sbatch and ended as it should,
# and that both runs give the same results; then a run past its time limit
# (tests/slurm/check_slurm_run.py). Needs root; about 10 minutes.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
    echo "tests/slurm/demo_on_slurm.sh needs root: it installs and starts SLURM's daemons" >&2
    exit 1
fi
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
export PATH="$ROOT/.venv/bin:$PATH"
WORK=$(mktemp -d /tmp/xner-slurm.XXXXXX)
# epochs of the tiny model on the demo's English sentences that take longer than two minutes (0.8 s each)
TIMEOUT_EPOCHS=${TIMEOUT_EPOCHS:-300}
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
# in the background so that tests/slurm/disturb.py can disturb it as a cluster does: the en run's job
# is cancelled with scancel, the en+de run's training is killed with SIGKILL (as the out-of-memory
# killer would), and its next job is requeued with scontrol requeue (as a node failure or preemption
# does). Each must end, be retried or run again, and resume from its last epoch.
SLURM_OPTIONS=(
    --profile profiles/slurm --jobs 4
    --default-resources slurm_partition=normal mem_mb=1000 runtime=30 cpus_per_task=2
    --set-resources train:slurm_partition=accel train:gpu=1 train:cpus_per_gpu=2 train:mem_mb=3000
    evaluate:slurm_partition=accel evaluate:gpu=1 evaluate:cpus_per_gpu=2 evaluate:mem_mb=2000
    speed_model:slurm_partition=accel speed_model:gpu=1 speed_model:cpus_per_gpu=2 speed_model:mem_mb=3000
    --slurm-init-seconds-before-status-checks 1 --seconds-between-status-checks 1
)
start=$SECONDS
XNER_SLURM_ACCOUNT=xner snakemake "${DEMO[@]}" -d "$WORK/slurm" "${SLURM_OPTIONS[@]}" >"$WORK/slurm.log" 2>&1 &
snakemake_pid=$!
python tests/slurm/disturb.py "$WORK/slurm" "$WORK/slurm.log" "$snakemake_pid" "$WORK/disturbed.json" &
disturb_pid=$!
wait "$snakemake_pid" || { tail -n 80 "$WORK/slurm.log"; tail -n 20 "$WORK"/cluster/log/*.log; exit 1; }
wait "$disturb_pid" || { tail -n 80 "$WORK/slurm.log"; exit 1; }
echo "SLURM run: $((SECONDS - start)) s"
cat "$WORK/disturbed.json"

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
    --expected-jobs "$expected" --run-time-limits "$limits" --disturbed "$WORK/disturbed.json"

# A run whose training outgrows its time limit: SLURM ends the job TIMEOUT, and Snakemake's retry asks
# for twice the limit (train_minutes and evaluate_minutes times the attempt) and resumes the training.
# One language, one test language, one minute each: the first job's limit is 2 minutes, and a long
# training (many epochs of the tiny model) runs past it.
cat >"$WORK/timeout.yaml" <<EOF
train_minutes: 1
evaluate_minutes: 1
speed: {enabled: false}
data: {languages: [en]}
experiments: {demo: {train: [en], test: [en]}}
training: {epochs: $TIMEOUT_EPOCHS, patience: $TIMEOUT_EPOCHS}
EOF
start=$SECONDS
XNER_SLURM_ACCOUNT=xner snakemake -s "$ROOT/Snakefile" --configfile "$ROOT/demo/config.yaml" "$WORK/timeout.yaml" \
    --replace-workflow-config -d "$WORK/timeout" "${SLURM_OPTIONS[@]}" \
    >"$WORK/timeout.log" 2>&1 || { tail -n 80 "$WORK/timeout.log"; exit 1; }
echo "SLURM run past its time limit: $((SECONDS - start)) s"
python tests/slurm/check_slurm_run.py --timed-out "$WORK/timeout" "$WORK/timeout.log"
