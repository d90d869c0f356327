#!/usr/bin/env bash
# One prepared GPU check of fcfd-mm, for a one-GPU machine with a CUDA torch and nvcc (mmcv not yet
# installed). Not yet run on a GPU: the steps after the install took 2 minutes in the CPU smoke run;
# the install is dominated by the mmcv CUDA build (MAX_JOBS = the host's cores), skipped with a
# carried wheel. Aimed at under 10 minutes in all.
#
#   bash benchmarks/gpu_check.sh                                # results in ${OUT:-benchmarks/results/gpu}
#   FCFD_MMCV_CACHE=DIR bash benchmarks/gpu_check.sh            # reuse a built mmcv wheel: DIR/mmcv-2.1.0-*.whl
#   FCFD_WHEELHOUSE=DIR bash benchmarks/gpu_check.sh            # no package index there: install from DIR
#   bash benchmarks/gpu_check.sh --prepare-wheelhouse DIR       # (where pip reaches PyPI) fill DIR for that
#   GPU_CHECK_CPU_SMOKE=1 bash benchmarks/gpu_check.sh          # the same commands, tiny, on the CPU
#
# Steps, each echoed and timed; the first failure stops the check (its summary says which):
#   install     FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST=9.0 FCFD_SKIP_TORCH=1 bash tools/install.sh
#   cuda_ops    mmcv's nms and RoIAlign run on the GPU
#   tests       python -m pytest -m "not slow" -x -q
#   demo_data   python tools/make_demo_data.py
#   train_fp32  100 iterations of configs/demo/fcfd_frcnn_demo.py through tools/train.py (random
#   train_amp   teacher, so no teacher check), without and with --amp (fp16 on a GPU); losses finite, s/iter
#   dist_train  bash tools/dist_train.sh configs/demo/fcfd_frcnn_demo.py 1 (one process, nccl), 20 iterations
#   overhead    benchmarks/overhead.py --device cuda at 800x1333, batch 1: student, MMRazor PKD and
#               FCFD (FPN, with --parts), Faster R-CNN and RetinaNet R101 -> R50 (GPU_CHECK_FAMILIES)
# Writes to the output dir: gpu_check_summary.json (every step's status and seconds, the training
# summaries, the overhead ratios), gpu_check.log, overhead_real_800x1333_cuda*.json / .png.
# Work dirs and the demo data go to ${GPU_CHECK_WORK:-/tmp/fcfd_gpu_check}.
# The CPU smoke (GPU_CHECK_CPU_SMOKE=1) checks this script: no install, pytest --collect-only,
# 4 iterations on 16 images (--amp is bf16 there), overhead.py on the demo pair at 64x64.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}

if [ "${1:-}" = "--prepare-wheelhouse" ]; then  # for FCFD_WHEELHOUSE: Python 3.12, x86-64 Linux
  DIR=${2:?usage: bash benchmarks/gpu_check.sh --prepare-wheelhouse DIR}
  PYV=${GPU_CHECK_PYTHON_VERSION:-3.12}
  platforms=()
  for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_24_x86_64 manylinux_2_17_x86_64 \
           manylinux2014_x86_64 manylinux1_x86_64; do platforms+=(--platform "$p"); done
  "$PY" -m pip download --no-deps --only-binary=:all: --python-version "$PYV" --implementation cp \
      "${platforms[@]}" -d "$DIR" -r requirements/wheelhouse.txt
  "$PY" -m pip download --no-deps --no-binary :all: --no-build-isolation -d "$DIR" mmcv==2.1.0
  du -sh "$DIR"
  exit 0
fi

SMOKE=${GPU_CHECK_CPU_SMOKE:-0}
RESULTS=${OUT:-benchmarks/results/gpu}
WORK=${GPU_CHECK_WORK:-/tmp/fcfd_gpu_check}
FAMILIES=${GPU_CHECK_FAMILIES:-frcnn retinanet}
CONFIG=configs/demo/fcfd_frcnn_demo.py
if [ "$SMOKE" = "1" ]; then
  DEVICE=cpu ITERS=4 DIST_ITERS=2 LOG_EVERY=1 DATA_ARGS="--num-train 16 --num-val 8 --size 96"
  OVERHEAD_ARGS="--pair demo --size 64 --batch 2 --warmup 0 --repeats 1"
else
  DEVICE=cuda ITERS=100 DIST_ITERS=20 LOG_EVERY=10 DATA_ARGS=""
  OVERHEAD_ARGS="--pair real --size 800 1333 --batch 1 --warmup 2 --repeats 10"
fi
mkdir -p "$RESULTS" "$WORK"
rm -rf "${WORK:?}"/train_* "$WORK/steps.jsonl"
STEPS=$WORK/steps.jsonl
exec > >(tee "$RESULTS/gpu_check.log") 2>&1
T0=$SECONDS

summary() {  # on exit, also after a failure: gpu_check_summary.json from the steps and results
  local rc=$?
  "$PY" - "$STEPS" "$WORK" "$RESULTS" "$rc" "$((SECONDS - T0))" "$SMOKE" <<'EOF' || true
import glob, json, os, sys
steps_file, work, results, rc, total, smoke = sys.argv[1:]
steps = [json.loads(line) for line in open(steps_file)] if os.path.exists(steps_file) else []
out = dict(ok=rc == '0' and bool(steps), exit_code=int(rc), total_s=int(total), cpu_smoke=smoke == '1',
           failed_step=next((s['step'] for s in steps if s['rc'] != 0), None), steps=steps, train={}, overhead={})
try:
    import torch
    out['torch'] = torch.__version__
    out['gpu'] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
except Exception as exc:  # noqa: BLE001  (the summary is written whatever broke)
    out['torch'] = f'unavailable: {exc}'
for path in sorted(glob.glob(os.path.join(work, 'train_*.json'))):
    out['train'][os.path.basename(path)[6:-5]] = json.load(open(path))
for path in sorted(glob.glob(os.path.join(results, 'overhead_*.json'))):
    for r in json.load(open(path))['results']:
        out['overhead'][r['family']] = {m: {k: v[k] for k in ('median_s', 'x_student', 'x_floor', 'peak_gpu_gb',
                                                              'x_sum_of_parts') if k in v}
                                        for m, v in r['methods'].items()}
with open(os.path.join(results, 'gpu_check_summary.json'), 'w') as f:
    json.dump(out, f, indent=1)
for name, t in out['train'].items():
    print(f"[gpu_check] train {name}: {t['iters_logged']} logged lines to iteration {t['last_iter']}, losses "
          f"{'finite' if t['all_finite'] else 'NOT finite'}, {t['s_per_iter']} s/iter")
print(f"[gpu_check] {'OK' if out['ok'] else 'FAILED at ' + str(out['failed_step'])} in {total} s; "
      f"summary: {os.path.join(results, 'gpu_check_summary.json')}")
EOF
}
trap summary EXIT

step() {  # step NAME COMMAND...: echo, run and time it; a failure ends the check
  local name=$1 t=$SECONDS rc=0
  shift
  echo "=== [gpu_check] $name: $*"
  "$@" || rc=$?
  printf '{"step": "%s", "rc": %d, "seconds": %d}\n' "$name" "$rc" "$((SECONDS - t))" >> "$STEPS"
  echo "=== [gpu_check] $name: $([ "$rc" = 0 ] && echo ok || echo "FAILED (exit $rc)") in $((SECONDS - t)) s"
  return "$rc"
}

install() {
  if [ "$SMOKE" = "1" ]; then "$PY" -c "import mmcv.ops, fcfd_mm"; return; fi
  FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0} FCFD_SKIP_TORCH=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
    PYTHON="$PY" bash tools/install.sh
}

cuda_ops() {
  "$PY" -c "import sys; sys.path.insert(0, 'tools'); import build_mmcv, torch; \
print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0)); \
assert build_mmcv.ops_work(cuda=True), 'mmcv ops do not run on the GPU: rebuild with FORCE_CUDA=1'"
}

tests() {
  if [ "$SMOKE" = "1" ]; then "$PY" -m pytest -m "not slow" -x -q --collect-only > /dev/null; return; fi
  "$PY" -m pytest -m "not slow" -x -q
}

data_options() {  # --cfg-options pointing the demo config at $WORK/fcfd_demo
  local root=$WORK/fcfd_demo/ ann=$WORK/fcfd_demo/annotations/instances_val.json
  echo "train_dataloader.dataset.data_root=$root val_dataloader.dataset.data_root=$root" \
       "test_dataloader.dataset.data_root=$root val_evaluator.ann_file=$ann test_evaluator.ann_file=$ann"
}

train() {  # train NAME ITERS [tools/train.py options]: train, then the log's losses must be finite
  local name=$1 iters=$2
  shift 2
  # shellcheck disable=SC2046  (data_options is a list of key=value words)
  "$PY" tools/train.py "$CONFIG" --work-dir "$WORK/train_$name" "$@" --no-teacher-check --cfg-options \
    model.teacher_ckpt=None train_cfg.max_iters="$iters" train_cfg.val_interval="$iters" \
    default_hooks.checkpoint.interval="$iters" default_hooks.logger.interval="$LOG_EVERY" $(data_options)
  "$PY" benchmarks/train_log.py "$WORK/train_$name" --skip 2 --out "$WORK/train_$name.json"
}

dist_train() {  # one process through torchrun (nccl on a GPU, gloo on the CPU)
  local log=$WORK/train_dist.log
  # shellcheck disable=SC2046
  PORT=${PORT:-29533} PYTHON="$PY" bash tools/dist_train.sh "$CONFIG" 1 --work-dir "$WORK/train_dist" \
    --no-teacher-check --cfg-options model.teacher_ckpt=None train_cfg.max_iters="$DIST_ITERS" \
    train_cfg.val_interval="$DIST_ITERS" default_hooks.checkpoint.interval="$DIST_ITERS" \
    default_hooks.logger.interval=1 $(data_options) 2>&1 | tee "$log"
  grep -q 'Distributed training: True' "$log"
  "$PY" benchmarks/train_log.py "$WORK/train_dist" --skip 2 --out "$WORK/train_dist.json"
}

overhead() {
  # shellcheck disable=SC2086  (word lists)
  "$PY" benchmarks/overhead.py --device "$DEVICE" --family $FAMILIES $OVERHEAD_ARGS --methods pkd fcfd_fpn --parts \
    --out "$RESULTS"
}

step install install
[ "$SMOKE" = "1" ] || step cuda_ops cuda_ops
step tests tests
# shellcheck disable=SC2086
step demo_data "$PY" tools/make_demo_data.py --root "$WORK/fcfd_demo" --overwrite $DATA_ARGS
step train_fp32 train fp32 "$ITERS"
step train_amp train amp "$ITERS" --amp
step dist_train dist_train
step overhead overhead
