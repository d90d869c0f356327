#!/usr/bin/env bash
# Training on a Slurm cluster (one srun task per GPU; MMEngine's launcher=slurm reads SLURM_PROCID,
# SLURM_NTASKS, SLURM_NODELIST and SLURM_LOCALID), the interface of mmdet's tools/slurm_train.sh:
#   [GPUS=16] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS="--time=72:00:00"] \
#     bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [tools/train.py options]
# GPUS: tasks (GPUs) in all, default 8; GPUS_PER_NODE: tasks and GPUs per node, default min(GPUS, 8);
# SRUN_ARGS: extra srun options, split on spaces; MASTER_PORT: the rendezvous port (MMEngine's
# default 29500); PYTHON: the interpreter on the compute nodes (default python).
set -e
usage="usage: bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [tools/train.py options]"
PARTITION=${1:?$usage}
JOB_NAME=${2:?$usage}
CONFIG=${3:?$usage}
WORK_DIR=${4:?$usage}
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
    "${PYTHON:-python}" -u "$HERE/train.py" "$CONFIG" --work-dir="$WORK_DIR" --launcher=slurm "${@:5}"
