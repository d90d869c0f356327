# FCFD with the inheriting strategy (the official INHERIT variant): after weight init, the student's FPN, RPN head
# and RoI head start from the teacher's (possible for R50 <- R101: same FPN input channels).
_base_ = ['./fcfd_frcnn_r101_r50_coco.py']
model = dict(inherit_teacher=('neck', 'rpn_head', 'roi_head'))
