# The FCFD settings of the RetinaNet configs (the plugin's own extension: docs/method.md), written
# once; a config takes them with `fcfd={{_base_.fcfd_retina_fpn}}`: the FPN switch point with its
# defaults (FCFDBridge on P3-P7 both ways, appearance MSE) and the DenseHeadAdapter's: anchors
# weighted by the teacher's max class score, paths s / st / ts, sigmoid KD (T=1, weight 5) on class
# scores + MSE on box deltas.
fcfd_retina_fpn = dict(head=dict(type='DenseHeadAdapter'), neck=dict())

# Backbone stages (our extension), the stage switch point's defaults (fcfd.stages, docs/method.md)
# with the head setting above: bridges at the four stage outputs in both directions, appearance MSE
# at every stage, 2 hybrid paths per step from {stage 1..4} x {S->T, T->S}, the adapter's sigmoid
# KD (T=1, weight 5) on scores and MSE on deltas, ghost BN statistics; the plain KD of the student's
# own output (the 's' term) where the FPN switch point is off. A config adds them with
# `fcfd=dict(stages={{_base_.fcfd_retina_stage}})`.
fcfd_retina_stage = dict()
