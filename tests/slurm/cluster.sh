#!/usr/bin/env bash
# A real single-node SLURM cluster for testing profiles/slurm (Debian's SLURM 22.05 packages).
#
#   source tests/slurm/cluster.sh; cluster_start DIR; ...; cluster_stop
#
# Starts, by hand and without systemd: munged, MariaDB on loopback (accounting),
# slurmdbd, slurmctld and slurmd, with every file under DIR. The node declares
# one GPU (gres.conf points at a symlink to /dev/null) and has the partitions of
# Fox, `normal` and `accel`. The account `xner` exists. cluster_stop ends exactly
# the daemons started here, by their pids. Needs root (daemons, apt-get).

CLUSTER_PIDS=()
CLUSTER_LINKS=()

cluster_install() {
    local missing=()
    for tool in slurmctld slurmd slurmdbd munged mariadbd mariadb-install-db sbatch sacct sacctmgr; do
        command -v "$tool" >/dev/null || missing+=("$tool")
    done
    if ((${#missing[@]})); then
        echo "installing Debian's SLURM, munge and MariaDB packages (missing: ${missing[*]})"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm slurmdbd munge mariadb-server >/dev/null ||
            { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm slurmdbd munge mariadb-server >/dev/null; }
    fi
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
    local seconds=$1 what=$2
    shift 2
    for ((i = 0; i < seconds * 4; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.25
    done
    echo "timed out waiting for $what" >&2
    return 1
}

cluster_start() {
    local dir=$1 host mem
    host=$(hostname -s)
    mem=$(($(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) * 3 / 4))
    mkdir -p "$dir"/{state,spool,log,mysql}
    ln -sfn /dev/null "$dir/fake-gpu0"
    # Jobs and job steps look for the configuration at SLURM's default place: link it there for the test
    # (never over a real configuration).
    if [ -e /etc/slurm/slurm.conf ] && [ ! -L /etc/slurm/slurm.conf ]; then
        echo "/etc/slurm/slurm.conf exists: not a machine for this test" >&2
        return 1
    fi
    mkdir -p /etc/slurm
    for name in slurm.conf gres.conf slurmdbd.conf; do
        ln -sfn "$dir/$name" "/etc/slurm/$name"
        CLUSTER_LINKS+=("/etc/slurm/$name")
    done
    export SLURM_CONF=$dir/slurm.conf

    cat >"$dir/slurm.conf" <<EOF
ClusterName=xner
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=16819
AccountingStorageEnforce=associations
AccountingStorageTRES=gres/gpu
AccountingStoreFlags=job_comment
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
EnforcePartLimits=ALL
ReturnToService=2
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem Gres=gpu:1 State=UNKNOWN
PartitionName=normal Nodes=$host Default=YES MaxTime=UNLIMITED State=UP
PartitionName=accel Nodes=$host MaxTime=UNLIMITED State=UP
EOF
    echo "NodeName=$host Name=gpu File=$dir/fake-gpu0" >"$dir/gres.conf"
    cat >"$dir/slurmdbd.conf" <<EOF
AuthType=auth/munge
DbdHost=$host
DbdAddr=127.0.0.1
DbdPort=16819
SlurmUser=root
LogFile=$dir/log/slurmdbd.log
PidFile=$dir/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=13306
StorageUser=slurm
StoragePass=xner
StorageLoc=slurm_acct_db
EOF
    chmod 600 "$dir/slurmdbd.conf"

    # munge
    mkdir -p /run/munge /var/lib/munge /var/log/munge
    [ -s /etc/munge/munge.key ] || mungekey --create --force
    munged --force --pid-file="$dir/munged.pid" --socket=/run/munge/munge.socket.2
    CLUSTER_PIDS+=("$(cat "$dir/munged.pid")")

    # MariaDB on loopback, for slurmdbd
    mariadb-install-db --user=root --datadir="$dir/mysql" --auth-root-authentication-method=socket >/dev/null
    mariadbd --user=root --datadir="$dir/mysql" --socket="$dir/mysql.sock" --port=13306 \
        --bind-address=127.0.0.1 --pid-file="$dir/mysql.pid" --skip-networking=0 >"$dir/log/mariadb.log" 2>&1 &
    CLUSTER_PIDS+=($!)
    wait_for 60 MariaDB mariadb --socket="$dir/mysql.sock" -e "select 1"
    mariadb --socket="$dir/mysql.sock" -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
        CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'xner';
        CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'xner';
        GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1'; GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';"

    # slurmdbd, then the cluster and the account, then the controller and the node
    SLURM_CONF=$dir/slurm.conf slurmdbd -D >"$dir/log/slurmdbd.out" 2>&1 &
    CLUSTER_PIDS+=($!)
    wait_for 60 slurmdbd sacctmgr -n list cluster
    sacctmgr -i add cluster xner >/dev/null
    sacctmgr -i add account xner Cluster=xner Description=xner Organization=xner >/dev/null
    sacctmgr -i add user root Account=xner Cluster=xner >/dev/null
    slurmctld -D >"$dir/log/slurmctld.out" 2>&1 &
    CLUSTER_PIDS+=($!)
    wait_for 60 slurmctld scontrol ping
    slurmd -D >"$dir/log/slurmd.out" 2>&1 &
    CLUSTER_PIDS+=($!)
    wait_for 60 "the node" bash -c "sinfo -h -o %T | grep -qE 'idle|mix'"
    echo "SLURM cluster up: $(sinfo -h -o '%P %D %T %G' | tr '\n' ';')"
}

cluster_stop() {
    local pid
    for ((i = ${#CLUSTER_PIDS[@]} - 1; i >= 0; i--)); do
        pid=${CLUSTER_PIDS[i]}
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${CLUSTER_PIDS[@]}"; do
        for ((i = 0; i < 40; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        kill -9 "$pid" 2>/dev/null || true
    done
    CLUSTER_PIDS=()
    for link in "${CLUSTER_LINKS[@]}"; do
        if [ -L "$link" ]; then rm -f "$link"; fi
    done
    CLUSTER_LINKS=()
}
