#!/usr/bin/env bash
# What tools/slurm_train.sh and tools/slurm_test.sh share: one srun task per GPU running a script of
# tools/ with this checkout's fcfd_mm first on PYTHONPATH (MMEngine's launcher=slurm reads SLURM_PROCID,
# SLURM_NTASKS, SLURM_NODELIST and SLURM_LOCALID).
#   bash tools/slurm_run.sh PARTITION JOB_NAME SCRIPT [SCRIPT's arguments]
# GPUS: tasks (GPUs) in all, default 8; GPUS_PER_NODE: tasks and GPUs per node, default min(GPUS, 8);
# CPUS_PER_TASK: default 5; SRUN_ARGS: extra srun options, split on spaces; MASTER_PORT: the
# rendezvous port (MMEngine's default 29500); PYTHON: the interpreter on the compute nodes (default python).
set -e
PARTITION=$1
JOB_NAME=$2
SCRIPT=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-$(( GPUS < 8 ? GPUS : 8 ))}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
read -r -a SRUN_EXTRA <<< "${SRUN_ARGS:-}"
HERE="$(cd "$(dirname "$0")" && pwd)"
set -x
PYTHONPATH="$HERE/..":${PYTHONPATH:-} \
exec srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    "${SRUN_EXTRA[@]}" \
    "${PYTHON:-python}" -u "$HERE/$SCRIPT" "${@:4}"
