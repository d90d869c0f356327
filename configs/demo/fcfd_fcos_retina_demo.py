# FCFD demo across families: an FCOS teacher (configs/demo/fcos_demo_teacher.py) and a RetinaNet student
# (configs/demo/retinanet_demo_student.py), the demo form of MMRazor's FCOS -> RetinaNet pair
# (configs/fcfd_fcos_r101_retina_r50_coco.py). A cross-family pair has path st only: the bridged student
# P3-P7 through the frozen FCOS head, compared with the FCOS head on the teacher's own P3-P7 (sigmoid KD on
# class scores and centerness, MSE on box distances, locations weighted by the teacher's score), plus the
# scale-free appearance term on the levels of equal stride (docs/method.md, "Cross-family pairs").
#   python tools/train.py configs/demo/fcos_demo_teacher.py            # the teacher first
#   python tools/train.py configs/demo/fcfd_fcos_retina_demo.py
_base_ = ['./retinanet_demo_student.py', '../_base_/fcfd_demo_runtime.py']
custom_imports = dict(imports=['fcfd_mm'], allow_failed_imports=False)
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))  # written atomically: docs/safe_runs.md

teacher_ckpt = 'work_dirs/fcos_demo_teacher/iter_1200.pth'
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='FCFDDistill',
    architecture=dict(cfg_path='{{fileDirname}}/retinanet_demo_student.py'),
    teacher=dict(cfg_path='{{fileDirname}}/fcos_demo_teacher.py'),
    teacher_ckpt=teacher_ckpt,
    # CrossFamilyHeadAdapter, picked by itself for this pair; named here so the config says what it does
    fcfd=dict(head=dict(type='CrossFamilyHeadAdapter'), neck=dict(paths=('st',))))

val_cfg = {{_base_.fcfd_demo_val_cfg}}
