# FCFD demo for RetinaNet (the plugin's own extension, see docs/method.md): bridges on P3-P7 both ways,
# scale-free appearance MSE, dense-head paths s / st / ts, sigmoid KD (T=1, weight 5) on scores + MSE on box
# deltas, anchors weighted by the teacher's max class score: the setting of
# configs/fcfd_retina_r101_r50_coco.py (see there and benchmarks/README.md for how it was chosen).
#   python tools/train.py configs/demo/retinanet_demo_teacher.py            # the teacher first
#   python tools/train.py configs/demo/fcfd_retina_demo.py
_base_ = ['./retinanet_demo_student.py', '../_base_/fcfd_demo_runtime.py', '../_base_/fcfd_retina_settings.py']
custom_imports = dict(imports=['fcfd_mm'], allow_failed_imports=False)
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))  # written atomically: docs/safe_runs.md

teacher_ckpt = 'work_dirs/retinanet_demo_teacher/iter_1200.pth'
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='FCFDDistill',
    architecture=dict(cfg_path='{{fileDirname}}/retinanet_demo_student.py'),
    teacher=dict(cfg_path='{{fileDirname}}/retinanet_demo_teacher.py'),
    teacher_ckpt=teacher_ckpt,
    fcfd={{_base_.fcfd_retina_fpn}})

val_cfg = {{_base_.fcfd_demo_val_cfg}}
