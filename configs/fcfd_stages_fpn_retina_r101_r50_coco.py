# RetinaNet R101 -> R50 with FCFD at the FPN (st, ts) and at the backbone stages (our extension).
_base_ = ['./fcfd_stages_retina_r101_r50_coco.py']
model = dict(
    fcfd=dict(
        neck=dict(
            _delete_=True,  # None in the base config
            paths=('st', 'ts'),
            bridge=dict(type='FCFDBridge'),
            appearance_loss=dict(type='L2Loss', normalize=False, div_element=True, loss_weight=1.0),
            output_losses=dict(
                cls=dict(type='SigmoidKDLoss', tau=1.0, loss_weight=1.0),
                reg=dict(type='WeightedMSELoss', loss_weight=1.0))),
        stages=dict(student_kd=False)))
