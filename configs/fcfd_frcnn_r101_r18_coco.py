# FCFD, Faster R-CNN R101-FPN (teacher) -> R18-FPN (student), COCO 2017, 1x schedule: one of the
# paper's three detection pairs. Same FCFD settings as the R101 -> R50 config (FPN switch point,
# paths s / st / ts, every weight 1); only the student differs. The FPN outputs are 256 channels
# in both detectors, so the bridges are 256 -> 256.
#   bash tools/dist_train.sh configs/fcfd_frcnn_r101_r18_coco.py 8
_base_ = ['./fcfd_frcnn_r101_r50_coco.py']
model = dict(
    architecture=dict(_delete_=True, cfg_path='{{fileDirname}}/students/faster-rcnn_r18_fpn_1x_coco.py',
                      pretrained=False))
