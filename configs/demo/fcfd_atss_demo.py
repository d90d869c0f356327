# FCFD demo for ATSS (the plugin's own extension, see docs/families.md):
# bridges on P3-P7 both ways, scale-free appearance MSE, dense-head paths s / st / ts
# with the ATSSHeadAdapter's defaults: per-class sigmoid KD (T=1, weight 1) on the class scores and on
# the centerness, MSE on the box deltas, locations weighted by the teacher's score.
#   python tools/train.py configs/demo/atss_demo_teacher.py            # the teacher first
#   python tools/train.py configs/demo/fcfd_atss_demo.py
# or both at once, beside the student alone: python tools/demo.py --family atss
_base_ = ['./atss_demo_student.py', '../_base_/fcfd_demo_runtime.py']
custom_imports = dict(imports=['fcfd_mm'], allow_failed_imports=False)
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))  # written atomically: docs/safe_runs.md

teacher_ckpt = 'work_dirs/atss_demo_teacher/iter_1200.pth'
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='FCFDDistill',
    architecture=dict(cfg_path='{{fileDirname}}/atss_demo_student.py'),
    teacher=dict(cfg_path='{{fileDirname}}/atss_demo_teacher.py'),
    teacher_ckpt=teacher_ckpt,
    fcfd=dict(head=dict(type='ATSSHeadAdapter')))  # FPN switch point with the adapter's defaults

val_cfg = {{_base_.fcfd_demo_val_cfg}}
