# FCFD on CIFAR-100: resnet56 (teacher) -> resnet20 (student). The official code's setting:
# LR 0.05, T=4, lambda=0.02, mu=1.
_base_ = ['./_base_/fcfd_cifar100.py']
model = dict(
    architecture=dict(backbone=dict(_delete_=True, type='RepCifarResNet', arch='resnet20'), head=dict(in_channels=64)),
    teacher=dict(backbone=dict(_delete_=True, type='RepCifarResNet', arch='resnet56'), head=dict(in_channels=64)),
    teacher_ckpt='checkpoints/cifar100/resnet56.pth',
    fcfd=dict(
        stages=dict(l2_weight=0.02, mixture_weight=1, output_losses=dict(cls=dict(tau=4.0)))))
optim_wrapper = dict(optimizer=dict(lr=0.05))
