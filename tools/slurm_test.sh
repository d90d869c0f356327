#!/usr/bin/env bash
# Evaluation on a Slurm cluster (one srun task per GPU), the interface of mmdet's tools/slurm_test.sh:
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#     bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [tools/test.py options]
# The variables (and MASTER_PORT, PYTHON) are described in tools/slurm_run.sh.
set -e
usage="usage: bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [tools/test.py options]"
PARTITION=${1:?$usage}
JOB_NAME=${2:?$usage}
CONFIG=${3:?$usage}
CHECKPOINT=${4:?$usage}
exec bash "$(dirname "$0")/slurm_run.sh" "$PARTITION" "$JOB_NAME" test.py "$CONFIG" "$CHECKPOINT" \
    --launcher=slurm "${@:5}"
