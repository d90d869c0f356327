# FCFD with the inheriting strategy (spec §3.3): after weight init, the student's FPN, RPN head
# and RoI head start from the teacher's (possible for R50 <- R101: same FPN input channels).
_base_ = ['./fcfd_frcnn_r101_r50_coco.py']
model = dict(inherit_teacher=('neck', 'rpn_head', 'roi_head'))
