#!/usr/bin/env bash
# Install fcfd-mm and its verified OpenMMLab stack into the active Python environment.
#
#   python3 -m venv .venv && . .venv/bin/activate && bash tools/install.sh
#
# Steps: build requirements (torch, setuptools<82) -> mmcv 2.1.0 compiled from its PyPI sdist
# against the installed torch (C++ standard patched to what torch's headers need) -> runtime,
# classification (mmpretrain) and test requirements -> fcfd_mm (editable) -> import check.
#
# Environment knobs:
#   FCFD_SKIP_TORCH=1        keep the torch already installed (e.g. a CUDA build) instead of the pin
#   FCFD_MMCV_CACHE=DIR      where built mmcv wheels are cached (default ~/.cache/fcfd_mm/wheels);
#                            the cache key includes torch, Python, mmcv, CUDA and compiler flags.
#   FORCE_CUDA=1             build mmcv's CUDA ops as well (default when torch sees a GPU). The CUDA
#                            toolkit comes from CUDA_HOME, else NVIDIA's pip packages next to torch
#                            (pip install "cuda-toolkit[nvcc,cccl]==13.0.3" for the pinned torch), else
#                            the nvcc on PATH or /usr/local/cuda. Without a visible GPU set
#                            TORCH_CUDA_ARCH_LIST (e.g. 9.0); it is part of the wheel's cache key.
#   MAX_JOBS=N               parallel compile jobs (default: number of cores)
#   FCFD_WHEELHOUSE=DIR      offline: install from DIR only (wheels + the mmcv sdist, listed in
#                            requirements/wheelhouse.txt), without dependency resolution
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python}"
pip_install() { "$PY" -m pip install --disable-pip-version-check "$@"; }

t0=$(date +%s)
if [ -n "${FCFD_WHEELHOUSE:-}" ]; then
  # Every pip call below (tools/build_mmcv.py's too) then reads DIR only and pulls no dependencies:
  # DIR holds the ones the machine lacks. --no-deps also keeps mmengine's `opencv-python` requirement
  # from replacing an installed opencv-python-headless.
  export PIP_NO_INDEX=1 PIP_FIND_LINKS="$(cd "$FCFD_WHEELHOUSE" && pwd)" PIP_NO_DEPS=1
  pip_install "$PIP_FIND_LINKS"/*.whl
fi
if [ "${FCFD_SKIP_TORCH:-0}" = "1" ]; then
  grep -v -E '^(torch|torchvision)==' "$here/requirements/build.txt" > /tmp/fcfd_build_req.txt
  pip_install -r /tmp/fcfd_build_req.txt
else
  pip_install -r "$here/requirements/build.txt"
fi
echo "[install] build requirements: $(( $(date +%s) - t0 )) s"

"$PY" "$here/tools/build_mmcv.py"
echo "[install] mmcv: $(( $(date +%s) - t0 )) s"

pip_install -r "$here/requirements/runtime.txt" -r "$here/requirements/classification.txt" \
  -r "$here/requirements/tests.txt"
pip_install --no-build-isolation --no-deps -e "$here"
"$PY" -c "from mmcv.ops import nms, RoIAlign; import fcfd_mm, mmdet.models, mmrazor.models, mmpretrain.models; print('[install] imports ok: fcfd_mm', fcfd_mm.__version__)"
echo "[install] done in $(( $(date +%s) - t0 )) s"
