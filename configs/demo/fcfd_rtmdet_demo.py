# FCFD demo for RTMDet (the plugin's own extension, see docs/families.md):
# bridges on the three CSPNeXtPAFPN levels both ways, scale-free appearance MSE,
# dense-head paths s / st / ts with the RTMDetHeadAdapter's defaults: per-class sigmoid KD (T=1,
# weight 1) on class scores, MSE on the box distances (in units of the level's stride), locations
# weighted by the teacher's max class score: the setting of configs/fcfd_rtmdet_s_tiny_coco.py.
#   python tools/train.py configs/demo/rtmdet_demo_teacher.py            # the teacher first
#   python tools/train.py configs/demo/fcfd_rtmdet_demo.py
# or both at once, beside the student alone: python tools/demo.py --family rtmdet
_base_ = ['./rtmdet_demo_student.py', '../_base_/fcfd_demo_runtime.py']
custom_imports = dict(imports=['fcfd_mm'], allow_failed_imports=False)
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))  # written atomically: docs/safe_runs.md

teacher_ckpt = 'work_dirs/rtmdet_demo_teacher/iter_1200.pth'
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='FCFDDistill',
    architecture=dict(cfg_path='{{fileDirname}}/rtmdet_demo_student.py'),
    teacher=dict(cfg_path='{{fileDirname}}/rtmdet_demo_teacher.py'),
    teacher_ckpt=teacher_ckpt,
    fcfd=dict(head=dict(type='RTMDetHeadAdapter')))  # FPN switch point with the adapter's defaults

val_cfg = {{_base_.fcfd_demo_val_cfg}}
