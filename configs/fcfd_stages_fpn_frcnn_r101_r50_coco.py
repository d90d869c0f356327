# FCFD at the FPN *and* the backbone stages of Faster R-CNN R101 -> R50: the official FPN terms
# (fcfd_frcnn_r101_r50_coco.py) plus the stage switch points of fcfd_stages_frcnn_r101_r50_coco.py;
# the plain KD term comes from the FPN's 's' path only (student_kd's default with the FPN on).
_base_ = ['./fcfd_frcnn_r101_r50_coco.py']
model = dict(fcfd=dict(stages={{_base_.fcfd_frcnn_stage}}))
