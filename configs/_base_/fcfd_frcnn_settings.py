# The FCFD settings of the Faster R-CNN configs, written once; a config takes one with
# `fcfd={{_base_.fcfd_frcnn_fpn}}` or `fcfd={{_base_.fcfd_frcnn_stages}}` (docs/method.md).
#
# FPN switch point, the official detection settings: bridges (conv3x3 + BN) on every FPN level in
# both directions (channels filled in from the FPNs), appearance MSE, the RoI box head run on the
# student's sampled RoIs as t (target), s, st and ts, KL(T=1) on class logits + MSE on box deltas,
# every weight 1.
fcfd_frcnn_fpn = dict(
    head=dict(type='RoIBoxHeadAdapter'),
    neck=dict(
        paths=('s', 'st', 'ts'),
        path_weights=dict(s=1.0, st=1.0, ts=1.0),
        bridge=dict(type='FCFDBridge'),
        appearance_loss=dict(type='L2Loss', normalize=False, div_element=True, loss_weight=1.0),
        output_losses=dict(
            cls=dict(type='KLDivergence', tau=1.0, loss_weight=1.0),
            reg=dict(type='L2Loss', normalize=False, div_element=True, loss_weight=1.0))))

# Backbone stages (our generalisation of the classification form to detectors): bridges at the
# four stage outputs in both directions, appearance MSE at every stage, 2 hybrid paths per step
# from {stage 1..4} x {S->T, T->S} (same draw on every rank), MSE on every later hybrid feature and
# KL / MSE on the box head outputs, plus the plain RoI-level KD of the student's own output.
fcfd_frcnn_stages = dict(
    head=dict(type='RoIBoxHeadAdapter'),
    neck=None,
    stages=dict(
        positions=(1, 2, 3, 4),
        num_paths=2,
        mode='bi',
        student_kd=True,
        l2_weight=1.0,
        mixture_weight=1.0,
        l2_warmup=dict(length=1, by_epoch=True),
        ghost_bn=True,
        seed=0,
        bridge=dict(type='FCFDBridge'),
        st_activation='auto',
        ts_activation='auto',
        feature_loss=dict(type='L2Loss', normalize=False, div_element=True, loss_weight=1.0),
        output_losses=dict(
            cls=dict(type='KLDivergence', tau=1.0, loss_weight=1.0),
            reg=dict(type='L2Loss', normalize=False, div_element=True, loss_weight=1.0))))
