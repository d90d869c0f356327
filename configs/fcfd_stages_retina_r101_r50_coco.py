# FCFD-style distillation at the backbone stages of RetinaNet R101 -> R50 (our extension), with the
# RetinaNet head setting of the FPN configs (configs/_base_/fcfd_retina_settings.py): anchors
# weighted by the teacher's max class score, sigmoid KD (T=1, weight 5) on scores and MSE on deltas,
# and the plain KD of the student's own output (student_kd, the 's' term). The FPN reads stages 2-4
# (start_level=1), so a hybrid path at stage k bridges the stages <= k the FPN reads, plus stage k;
# the R50's frozen stage 1 gets no appearance term and no S->T path (docs/method.md).
# Demo (benchmarks/README.md, 2 seeds): bbox mAP 0.265, above FitNet-style L2 (0.200) and below FCFD
# at the FPN (0.281), at 2.4x the floor step at 320x320 (FPN switch: 1.7x); num_paths=1: 0.259, 1.75x.
_base_ = ['./fcfd_retina_r101_r50_coco.py']
model = dict(
    fcfd=dict(
        _delete_=True,
        head=dict(type='DenseHeadAdapter'),
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
                cls=dict(type='SigmoidKDLoss', tau=1.0, loss_weight=5.0),
                reg=dict(type='WeightedMSELoss', loss_weight=1.0)))))
