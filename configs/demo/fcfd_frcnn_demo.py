# FCFD demo: distil the demo Faster R-CNN teacher (half width) into the demo student (quarter
# width) on the demo dataset, with the official detection settings (docs/method.md): bridges on
# every FPN level both ways, appearance MSE, RoI box head paths s / st / ts, KL(T=1) + MSE.
#   python tools/train.py configs/demo/faster-rcnn_demo_teacher.py          # the teacher first
#   python tools/train.py configs/demo/fcfd_frcnn_demo.py
_base_ = ['./faster-rcnn_demo_student.py', '../_base_/fcfd_demo_runtime.py', '../_base_/fcfd_frcnn_settings.py']
custom_imports = dict(imports=['fcfd_mm'], allow_failed_imports=False)
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))  # written atomically: docs/safe_runs.md

teacher_ckpt = 'work_dirs/faster-rcnn_demo_teacher/iter_1200.pth'
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='FCFDDistill',
    architecture=dict(cfg_path='{{fileDirname}}/faster-rcnn_demo_student.py'),
    teacher=dict(cfg_path='{{fileDirname}}/faster-rcnn_demo_teacher.py'),
    teacher_ckpt=teacher_ckpt,
    fcfd={{_base_.fcfd_frcnn_fpn}})

val_cfg = {{_base_.fcfd_demo_val_cfg}}
