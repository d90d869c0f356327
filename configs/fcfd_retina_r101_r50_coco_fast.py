# FCFD, RetinaNet R101 -> R50, with the overhead controls set for speed (benchmarks/README.md):
# bridges, the appearance term and the dense-head paths on FPN levels P4-P7 only (P3, which
# holds about three quarters of the anchors and of the head's cost, is left out). Its step cost
# against the faithful config's (benchmarks/overhead.py): benchmarks/README.md.
#   bash tools/dist_train.sh configs/fcfd_retina_r101_r50_coco_fast.py 8
_base_ = ['./fcfd_retina_r101_r50_coco.py']

model = dict(fcfd=dict(neck=dict(levels=(1, 2, 3, 4))))
