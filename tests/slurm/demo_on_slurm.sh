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

# Only what differs on this one-node cluster: memory and CPUs, and quick status checks.
start=$SECONDS
XNER_SLURM_ACCOUNT=xner snakemake "${DEMO[@]}" -d "$WORK/slurm" --profile profiles/slurm \
    --jobs 4 \
    --default-resources slurm_partition=normal mem_mb=1000 runtime=30 cpus_per_task=2 \
    --set-resources train:slurm_partition=accel train:gpu=1 train:cpus_per_gpu=2 train:mem_mb=3000 \
    evaluate:slurm_partition=accel evaluate:gpu=1 evaluate:cpus_per_gpu=2 evaluate:mem_mb=2000 \
    evaluate:runtime=30 speed_model:slurm_partition=accel speed_model:gpu=1 speed_model:cpus_per_gpu=2 \
    speed_model:mem_mb=3000 \
    --slurm-init-seconds-before-status-checks 2 --seconds-between-status-checks 2 \
    >"$WORK/slurm.log" 2>&1 || { tail -n 80 "$WORK/slurm.log"; tail -n 20 "$WORK"/cluster/log/*.log; exit 1; }
echo "SLURM run: $((SECONDS - start)) s"

python tests/slurm/check_slurm_run.py "$WORK/local" "$WORK/slurm" "$WORK/slurm.log"
