# Classification demo: FCFD from the demo resnet20 teacher into the resnet8 student, with the
# official resnet56 -> resnet20 settings (T=4, lambda=0.02, mu=1, 2 hybrid paths per step, train-
# mode teacher BN with ghost buffers); the L2 warm-up is shortened to the demo's 30 epochs (3).
_base_ = ['./resnet8_demo_student.py', '../../_base_/fcfd_demo_runtime.py', '../_base_/fcfd_cls_settings.py']
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))  # written atomically: docs/safe_runs.md
teacher_ckpt = 'work_dirs/demo/classification/teacher/epoch_30.pth'
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='FCFDDistill',
    data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor', num_classes=6, mean=[127.5, 127.5, 127.5],
                           std=[64.0, 64.0, 64.0], to_rgb=True),
    architecture=dict(cfg_path='{{fileDirname}}/resnet8_demo_student.py'),
    teacher=dict(cfg_path='{{fileDirname}}/resnet20_demo_teacher.py'),
    teacher_ckpt=teacher_ckpt,
    teacher_norm_eval=False,
    fcfd={{_base_.fcfd_cls_demo}})
data_preprocessor = None
val_cfg = {{_base_.fcfd_demo_val_cfg}}
