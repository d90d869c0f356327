# The FCFD settings of the RetinaNet configs (the plugin's own extension: docs/method.md), written
# once; a config takes them with `fcfd={{_base_.fcfd_retina_fpn}}`. Bridges on P3-P7 both ways,
# appearance MSE, and the DenseHeadAdapter's defaults: anchors weighted by the teacher's max class
# score, paths s / st / ts, sigmoid KD (T=1, weight 5) on class scores + MSE on box deltas.
fcfd_retina_fpn = dict(
    head=dict(type='DenseHeadAdapter'),
    neck=dict(
        bridge=dict(type='FCFDBridge'),
        appearance_loss=dict(type='L2Loss', normalize=False, div_element=True, loss_weight=1.0)))
