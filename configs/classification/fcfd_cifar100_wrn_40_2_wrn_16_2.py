# FCFD on CIFAR-100: wrn_40_2 (teacher) -> wrn_16_2 (student). The official code's setting:
# LR 0.05, T=4, lambda=5, mu=0.2.
_base_ = ['./_base_/fcfd_cifar100.py']
model = dict(
    architecture=dict(backbone=dict(_delete_=True, type='RepCifarWRN', arch='wrn_16_2'),
                      head=dict(in_channels=128,  # RepDistiller's WRN FC: default weight init, zero bias
                                init_cfg=dict(_delete_=True, type='ZeroBias', layer='Linear'))),
    teacher=dict(backbone=dict(_delete_=True, type='RepCifarWRN', arch='wrn_40_2'), head=dict(in_channels=128)),
    teacher_ckpt='checkpoints/cifar100/wrn_40_2.pth',
    fcfd=dict(
        stages=dict(l2_weight=5, mixture_weight=0.2, output_losses=dict(cls=dict(tau=4.0)))))
optim_wrapper = dict(optimizer=dict(lr=0.05))
