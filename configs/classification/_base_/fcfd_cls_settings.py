# The FCFD settings of the image-classification configs, written once; a config takes one with
# `fcfd={{_base_.fcfd_cls_cifar100}}`, `{{_base_.fcfd_cls_imagenet}}` or `{{_base_.fcfd_cls_demo}}`
# and a pair config overrides only what its pair changes (l2_weight, mixture_weight, tau).
#
# Stage switch points, the official classification settings (docs/method.md, "Loss terms at the
# stage switch points"): bridges (conv3x3 + BN, LeakyReLU(0.1) into networks whose stages take
# post-ReLU inputs) at every stage output; appearance MSE at every position plus the MSE of the
# pooled last-stage vectors; each step draws 2 hybrid paths from {positions 1..N-1} x {S->T, T->S}
# (the same draw on every rank); S->T paths add the MSE of every later hybrid feature; every path
# adds T^2 KL to the teacher's logits (weight mu); the student's own T^2 KL (student_kd, weight 1);
# lambda (l2_weight) on every MSE, ramped up linearly over the L2 warm-up; ghost BN buffers keep
# the hybrid passes out of the main BN statistics.
fcfd_cls_stages = dict(
    cutter=dict(type='StagedBackboneCutter', probe_size=32),  # probe_size: the input size of the shape probe
    num_paths=2,
    mode='bi',
    student_kd=True,  # T^2 KL(p_t || p_s), weight 1
    l2_weight=5.0,  # lambda
    mixture_weight=1.0,  # mu
    l2_warmup=dict(length=20, by_epoch=True),
    pooled_last=True,
    ghost_bn=True,
    seed=0,
    st_activation='auto',  # LeakyReLU(0.1) into networks with post-ReLU stage inputs
    ts_activation='auto',
    feature_loss=dict(type='L2Loss', normalize=False, div_element=True, loss_weight=1.0),
    output_losses=dict(cls=dict(type='KLDivergence', tau=4.0, loss_weight=1.0)))  # tau: T

# CIFAR-100 (32x32 inputs): lambda 5, T 4 (both changed per pair), L2 warm-up over 20 epochs.
fcfd_cls_cifar100 = dict(head=dict(type='ClassifierHeadAdapter'), stages=fcfd_cls_stages)

# ImageNet (224x224 inputs): T 1, L2 warm-up over 5 epochs; lambda 0.02 (ResNet-34 -> ResNet-18;
# ResNet-50 -> MobileNet-V1 sets 5).
fcfd_cls_imagenet = dict(
    head=dict(type='ClassifierHeadAdapter'),
    stages=dict(fcfd_cls_stages,
                cutter=dict(type='StagedBackboneCutter', probe_size=224),
                l2_weight=0.02,
                l2_warmup=dict(length=5, by_epoch=True),
                output_losses=dict(cls=dict(type='KLDivergence', tau=1.0, loss_weight=1.0))))

# The classification demo (32x32 shapes, 30 epochs): the CIFAR-100 resnet56 -> resnet20 setting
# (lambda 0.02, T 4) with the L2 warm-up shortened to 3 epochs.
fcfd_cls_demo = dict(
    head=dict(type='ClassifierHeadAdapter'),
    stages=dict(fcfd_cls_stages, l2_weight=0.02, l2_warmup=dict(length=3, by_epoch=True)))
