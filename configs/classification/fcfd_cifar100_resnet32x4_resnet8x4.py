# FCFD on CIFAR-100: resnet32x4 (teacher) -> resnet8x4 (student). The official code's setting:
# LR 0.05, T=4, lambda=5, mu=1.
_base_ = ['./_base_/fcfd_cifar100.py']
model = dict(
    architecture=dict(backbone=dict(_delete_=True, type='RepCifarResNet', arch='resnet8x4'),
                      head=dict(in_channels=256)),
    teacher=dict(backbone=dict(_delete_=True, type='RepCifarResNet', arch='resnet32x4'), head=dict(in_channels=256)),
    teacher_ckpt='checkpoints/cifar100/resnet32x4.pth',
    fcfd=dict(
        stages=dict(l2_weight=5, mixture_weight=1, output_losses=dict(cls=dict(tau=4.0)))))
optim_wrapper = dict(optimizer=dict(lr=0.05))
