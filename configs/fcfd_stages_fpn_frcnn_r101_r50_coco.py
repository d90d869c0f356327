# FCFD at the FPN *and* the backbone stages of Faster R-CNN R101 -> R50: the official FPN terms
# (fcfd_frcnn_r101_r50_coco.py) plus the stage switch points (fcfd_stages_frcnn_r101_r50_coco.py);
# the plain KD term comes from the FPN's 's' path only.
_base_ = ['./fcfd_stages_frcnn_r101_r50_coco.py']
model = dict(
    fcfd=dict(
        neck=dict(
            _delete_=True,  # None in the base config
            paths=('s', 'st', 'ts'),
            bridge=dict(type='FCFDBridge'),
            appearance_loss=dict(type='L2Loss', normalize=False, div_element=True, loss_weight=1.0),
            output_losses=dict(
                cls=dict(type='KLDivergence', tau=1.0, loss_weight=1.0),
                reg=dict(type='L2Loss', normalize=False, div_element=True, loss_weight=1.0))),
        stages=dict(student_kd=False)))
