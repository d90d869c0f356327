# FCFD, Faster R-CNN R101 -> R50, with the overhead controls set for speed (benchmarks/README.md):
# the function-consistency terms (teacher target, paths s / st / ts) run on 128 of each image's
# 512 sampled RoIs, drawn uniformly; the detection loss still uses all 512. Everything else as
# the faithful config. Its step cost against the faithful config's (benchmarks/overhead.py) and what
# it keeps of the demo mAP gain: benchmarks/README.md.
#   bash tools/dist_train.sh configs/fcfd_frcnn_r101_r50_coco_fast.py 8
_base_ = ['./fcfd_frcnn_r101_r50_coco.py']

model = dict(fcfd=dict(head=dict(type='RoIBoxHeadAdapter', consistency_rois=128)))
