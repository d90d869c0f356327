# FCFD on ImageNet: ResNet-50 (torchvision weights) -> MobileNet-V1 from scratch. The official code's setting: T=1,
# lambda=5, mu=1, L2 warm-up 5 epochs.
_base_ = ['./_base_/fcfd_imagenet.py']
model = dict(
    architecture=dict(backbone=dict(_delete_=True, type='MobileNetV1'),
                      head=dict(in_channels=1024,  # mmpretrain's default FC init (the official one is not known)
                                init_cfg=dict(_delete_=True, type='Normal', layer='Linear', std=0.01))),
    teacher=dict(backbone=dict(depth=50), head=dict(in_channels=2048)),
    teacher_ckpt='checkpoints/imagenet/resnet50.pth',
    fcfd=dict(stages=dict(l2_weight=5.0)))
