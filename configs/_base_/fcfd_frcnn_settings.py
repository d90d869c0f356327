# The FCFD settings of the Faster R-CNN configs, written once; a config takes one with
# `fcfd={{_base_.fcfd_frcnn_fpn}}` or `fcfd={{_base_.fcfd_frcnn_stages}}`, or adds the stage switch
# points to the FPN's with `fcfd=dict(stages={{_base_.fcfd_frcnn_stage}})` (docs/method.md).
#
# FPN switch point, the official detection settings: bridges (conv3x3 + BN, FCFDBridge, the default)
# on every FPN level in both directions (channels filled in from the FPNs), appearance MSE (the
# default), the RoI box head run on the student's sampled RoIs as t (target), s, st and ts, KL(T=1)
# on class logits + MSE on box deltas, every weight 1.
fcfd_frcnn_neck = dict(
    paths=('s', 'st', 'ts'),
    path_weights=dict(s=1.0, st=1.0, ts=1.0),
    output_losses=dict(
        cls=dict(type='KLDivergence', tau=1.0, loss_weight=1.0),
        reg=dict(type='L2Loss', normalize=False, div_element=True, loss_weight=1.0)))
fcfd_frcnn_fpn = dict(head=dict(type='RoIBoxHeadAdapter'), neck=fcfd_frcnn_neck)

# Backbone stages (our generalisation of the classification form to detectors), the stage switch
# point's defaults (fcfd.stages, docs/method.md) but for a one-epoch L2 warm-up: bridges at the four
# stage outputs in both directions (LeakyReLU(0.1) into networks whose stages take post-ReLU
# inputs), appearance MSE at every stage, 2 hybrid paths per step from {stage 1..4} x {S->T, T->S}
# (same draw on every rank), MSE on every later hybrid feature and the adapter's KL / MSE on the
# box head outputs (every weight 1), ghost BN statistics; the plain RoI-level KD of the student's
# own output where the FPN switch point is off (with it on, its 's' path is that KD).
fcfd_frcnn_stage = dict(l2_warmup=dict(length=1, by_epoch=True))
fcfd_frcnn_stages = dict(head=dict(type='RoIBoxHeadAdapter'), neck=None, stages=fcfd_frcnn_stage)
