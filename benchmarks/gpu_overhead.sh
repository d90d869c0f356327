#!/usr/bin/env bash
# The overhead benchmark on a GPU, at the reduced (320x320, batch 2) and the real training size
# (800x1333, batch 1), for Faster R-CNN and RetinaNet R101 -> R50. One command, for a machine
# with a CUDA torch and nvcc (mmcv's CUDA ops are built for TORCH_CUDA_ARCH_LIST, 9.0 = Hopper):
#   bash benchmarks/gpu_overhead.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-benchmarks/results}
export FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0} MAX_JOBS=${MAX_JOBS:-$(nproc)}
python -c "import mmcv.ops" 2>/dev/null || FCFD_SKIP_TORCH=1 bash tools/install.sh
python benchmarks/overhead.py --device cuda --size 320 --batch 2 --repeats 10 --parts --out "$OUT"
python benchmarks/overhead.py --device cuda --size 800 1333 --batch 1 --repeats 10 --parts --out "$OUT"
