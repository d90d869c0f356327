#!/usr/bin/env bash
# Training on a Slurm cluster (one srun task per GPU), the interface of mmdet's tools/slurm_train.sh:
#   [GPUS=16] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS="--time=72:00:00"] \
#     bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [tools/train.py options]
# The variables (and MASTER_PORT, PYTHON) are described in tools/slurm_run.sh.
set -e
usage="usage: bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [tools/train.py options]"
PARTITION=${1:?$usage}
JOB_NAME=${2:?$usage}
CONFIG=${3:?$usage}
WORK_DIR=${4:?$usage}
exec bash "$(dirname "$0")/slurm_run.sh" "$PARTITION" "$JOB_NAME" train.py "$CONFIG" --work-dir="$WORK_DIR" \
    --launcher=slurm "${@:5}"
