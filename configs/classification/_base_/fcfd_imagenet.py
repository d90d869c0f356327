# FCFD on ImageNet (the official code's settings): SGD (momentum 0.9, Nesterov, wd 1e-4), LR 0.1, batch 256
# (8 GPUs x 32), 100 epochs, LR x0.1 at 30/60/90; RandomResizedCrop 224 + flip, test resize 256 +
# center crop 224; T = 1; L2 warm-up over 5 epochs; the student trains from scratch. Teachers are
# torchvision's V1 weights, converted once with
#   python tools/convert_repdistiller.py torchvision_resnet34 resnet34-b627a593.pth checkpoints/imagenet/resnet34.pth
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs32.py',
    'mmpretrain::_base_/default_runtime.py',
    '../../_base_/fcfd_runtime.py',
    './fcfd_cls_settings.py',
]
custom_imports = dict(imports=['fcfd_mm'], allow_failed_imports=False)
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))  # written atomically: docs/safe_runs.md
data_preprocessor = None  # the algorithm carries its own (below)

model = dict(
    _scope_='mmrazor',
    type='FCFDDistill',
    data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor', num_classes=1000,
                           mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True),
    architecture=dict(
        _scope_='mmpretrain', type='ImageClassifier',
        backbone=dict(type='StagedResNet', depth=18),
        neck=dict(type='ReLUGlobalAveragePooling'),
        # torchvision's ResNet leaves its FC at PyTorch's default nn.Linear init
        head=dict(type='LinearClsHead', num_classes=1000, in_channels=512, init_cfg=None,
                  loss=dict(type='CrossEntropyLoss', loss_weight=1.0))),
    teacher=dict(
        _scope_='mmpretrain', type='ImageClassifier',
        backbone=dict(type='StagedResNet', depth=34),
        neck=dict(type='ReLUGlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=1000, in_channels=512,
                  loss=dict(type='CrossEntropyLoss', loss_weight=1.0))),
    teacher_ckpt='checkpoints/imagenet/resnet34.pth',
    teacher_norm_eval=False,
    fcfd={{_base_.fcfd_cls_imagenet}})  # per pair: lambda (fcfd.stages.l2_weight)

optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4))
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[30, 60, 90], gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=1)
val_cfg = dict(type='mmrazor.SingleTeacherDistillValLoop')
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
