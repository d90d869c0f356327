# RetinaNet R101 -> R50 with FCFD at the FPN and at the backbone stages (our extension): the FPN
# terms of configs/fcfd_retina_r101_r50_coco.py (paths s / st / ts, the head adapter's defaults)
# plus the stage switch points of configs/fcfd_stages_retina_r101_r50_coco.py; the plain KD term
# comes from the FPN's 's' path only (student_kd's default with the FPN on). Its demo accuracy
# beside the FPN switch alone: benchmarks/README.md.
_base_ = ['./fcfd_retina_r101_r50_coco.py']
model = dict(fcfd=dict(stages={{_base_.fcfd_retina_stage}}))
