#!/usr/bin/env bash
# Distributed evaluation through torchrun.
#   bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [tools/test.py options]
set -e
CONFIG=${1:?usage: bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [options]}
CHECKPOINT=${2:?usage: bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [options]}
GPUS=${3:?usage: bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [options]}
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
HERE="$(cd "$(dirname "$0")" && pwd)"
PYTHONPATH="$HERE/..":${PYTHONPATH:-} \
exec "${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" --master_port="$PORT" \
    "$HERE/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "${@:4}"
