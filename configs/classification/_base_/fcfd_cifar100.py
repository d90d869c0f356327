# FCFD on CIFAR-100 with the RepDistiller / CRD networks (docs/method.md): the shared part of the ten
# pair configs. Per pair: student, teacher (+ its converted checkpoint), T, lambda, mu, LR.
#   SGD (momentum 0.9, Nesterov, wd 5e-4), batch 64, 240 epochs, LR x0.1 at 150/180/210;
#   random crop 32 (pad 4) + flip; CE + T^2 KL(p_t || p_s) + lambda r(e) [L_app + hybrid-feature
#   MSEs + pooled-vector MSEs] + mu sum T^2 KL(p_t || p_hybrid); 2 hybrid paths per step from
#   {positions 1..N-1} x {S->T, T->S}; L2 warm-up over 20 epochs; teacher BN in train mode with
#   ghost BN buffers for hybrid passes (official behaviour).
# Teachers: RepDistiller's `<name>_vanilla/ckpt_epoch_240.pth`, converted once with
#   python tools/convert_repdistiller.py <name> ckpt_epoch_240.pth checkpoints/cifar100/<name>.pth
# CIFAR-100 (python version) is read from data/cifar100 (`--cfg-options` to move it).
_base_ = [
    'mmpretrain::_base_/datasets/cifar100_bs16.py',
    'mmpretrain::_base_/default_runtime.py',
    '../../_base_/fcfd_runtime.py',
    './fcfd_cls_settings.py',
]
custom_imports = dict(imports=['fcfd_mm'], allow_failed_imports=False)

train_dataloader = dict(batch_size=64, num_workers=4)
val_dataloader = dict(batch_size=128, num_workers=4)
test_dataloader = val_dataloader

# The official (and the RepDistiller / CRD teachers') CIFAR-100 normalisation, of 0-1 pixels; the
# preprocessor takes 0-255 values, hence x 255 (mmpretrain's own CIFAR-100 constants differ slightly).
cifar_mean, cifar_std = (0.5071, 0.4867, 0.4408), (0.2675, 0.2565, 0.2761)
cifar_preprocessor = dict(type='mmpretrain.ClsDataPreprocessor', num_classes=100,
                          mean=[m * 255 for m in cifar_mean], std=[s * 255 for s in cifar_std], to_rgb=False)
data_preprocessor = None  # the algorithm carries its own (below)

model = dict(
    _scope_='mmrazor',
    type='FCFDDistill',
    data_preprocessor=cifar_preprocessor,
    architecture=dict(
        _scope_='mmpretrain', type='ImageClassifier',
        backbone=dict(type='RepCifarResNet', arch='resnet8x4'),
        neck=dict(type='ReLUGlobalAveragePooling'),
        # the student's FC keeps PyTorch's default nn.Linear init, as RepDistiller's resnet / ShuffleNets
        # (WRN: zero bias only; vgg / MobileNetV2: N(0, 0.01), set in those pair configs)
        head=dict(type='LinearClsHead', num_classes=100, in_channels=256, init_cfg=None,
                  loss=dict(type='CrossEntropyLoss', loss_weight=1.0))),
    teacher=dict(
        _scope_='mmpretrain', type='ImageClassifier',
        backbone=dict(type='RepCifarResNet', arch='resnet32x4'),
        neck=dict(type='ReLUGlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=100, in_channels=256,
                  loss=dict(type='CrossEntropyLoss', loss_weight=1.0))),
    teacher_ckpt='checkpoints/cifar100/resnet32x4.pth',
    teacher_norm_eval=False,  # official: teacher BN normalises with batch statistics
    fcfd={{_base_.fcfd_cls_cifar100}})  # per pair: T, lambda, mu (fcfd.stages)

optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4))
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[150, 180, 210], gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=240, val_interval=1)
val_cfg = dict(type='mmrazor.SingleTeacherDistillValLoop')
test_cfg = dict()
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook', interval=10, save_best='auto', max_keep_ckpts=2))
