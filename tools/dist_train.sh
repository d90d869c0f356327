#!/usr/bin/env bash
# Distributed training through torchrun (PyTorch DDP via MMEngine's runner).
#   bash tools/dist_train.sh CONFIG NUM_PROCS [tools/train.py options]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT. NUM_PROCS = GPUs per node (nccl), or CPU
# processes on a machine without CUDA (gloo).
set -e
CONFIG=${1:?usage: bash tools/dist_train.sh CONFIG NUM_PROCS [options]}
GPUS=${2:?usage: bash tools/dist_train.sh CONFIG NUM_PROCS [options]}
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
HERE="$(cd "$(dirname "$0")" && pwd)"
PYTHONPATH="$HERE/..":${PYTHONPATH:-} \
exec "${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" --master_port="$PORT" \
    "$HERE/train.py" "$CONFIG" --launcher pytorch "${@:3}"
