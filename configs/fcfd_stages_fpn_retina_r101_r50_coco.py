# RetinaNet R101 -> R50 with FCFD at the FPN and at the backbone stages (our extension): the FPN
# terms of configs/fcfd_retina_r101_r50_coco.py (paths s / st / ts, the head adapter's defaults)
# plus the stage switch points of configs/fcfd_stages_retina_r101_r50_coco.py; the plain KD term
# comes from the FPN's 's' path only. Demo (benchmarks/README.md, 2 seeds): bbox mAP 0.277 / 0.297
# against 0.280 / 0.282 for the FPN switch alone.
_base_ = ['./fcfd_stages_retina_r101_r50_coco.py']
model = dict(
    fcfd=dict(
        neck=dict(
            _delete_=True,  # None in the base config
            bridge=dict(type='FCFDBridge'),
            appearance_loss=dict(type='L2Loss', normalize=False, div_element=True, loss_weight=1.0)),
        stages=dict(student_kd=False)))
