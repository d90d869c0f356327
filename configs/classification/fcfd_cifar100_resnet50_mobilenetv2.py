# FCFD on CIFAR-100: ResNet50 (teacher) -> MobileNetV2 (student). The official code's setting:
# LR 0.01, T=8, lambda=5, mu=1.
_base_ = ['./_base_/fcfd_cifar100.py']
model = dict(
    architecture=dict(backbone=dict(_delete_=True, type='RepCifarMobileNetV2', arch='mobile_half'),
                      head=dict(in_channels=1280,  # the student FC's own init in RepDistiller: N(0, 0.01), zero bias
                                init_cfg=dict(_delete_=True, type='Normal', layer='Linear', std=0.01, bias=0.0))),
    teacher=dict(backbone=dict(_delete_=True, type='RepCifarResNet50', arch='ResNet50'), head=dict(in_channels=2048)),
    teacher_ckpt='checkpoints/cifar100/ResNet50.pth',
    fcfd=dict(
        stages=dict(l2_weight=5, mixture_weight=1, output_losses=dict(cls=dict(tau=8.0)))))
optim_wrapper = dict(optimizer=dict(lr=0.01))
