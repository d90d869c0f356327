# FCFD-style distillation at the backbone stages of RetinaNet R101 -> R50 (our extension). The
# FPN reads stages 2-4 (start_level=1), so a hybrid path at stage k bridges the stages <= k the
# FPN reads, plus stage k. Outputs compared with sigmoid KD (T=1) on scores and MSE on deltas.
_base_ = ['./fcfd_retina_r101_r50_coco.py']
model = dict(
    fcfd=dict(
        _delete_=True,
        head=dict(type='DenseHeadAdapter', anchor_weighting=None),
        neck=None,
        stages=dict(
            positions=(1, 2, 3, 4),
            num_paths=2,
            mode='bi',
            student_kd=True,
            l2_weight=1.0,
            mixture_weight=1.0,
            ghost_bn=True,
            seed=0,
            feature_loss=dict(type='L2Loss', normalize=False, div_element=True, loss_weight=1.0),
            output_losses=dict(
                cls=dict(type='SigmoidKDLoss', tau=1.0, loss_weight=1.0),
                reg=dict(type='WeightedMSELoss', loss_weight=1.0)))))
