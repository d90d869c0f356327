# FCFD, Faster R-CNN R50-FPN (teacher) -> MobileNetV2-FPN (student), COCO 2017, 1x schedule: one
# of the paper's three detection pairs. Same FCFD settings as the R101 -> R50 config (FPN switch
# point, paths s / st / ts, every weight 1); the teacher is the MMDetection model-zoo Faster
# R-CNN R50-FPN 1x (COCO bbox mAP 37.4), the student the MobileNetV2-FPN of
# configs/students/faster-rcnn_mobilenetv2_fpn_1x_coco.py.
#   bash tools/dist_train.sh configs/fcfd_frcnn_r50_mobilenetv2_coco.py 8
_base_ = ['./fcfd_frcnn_r101_r50_coco.py']
teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/faster_rcnn_r50_fpn_1x_coco/faster_rcnn_r50_fpn_1x_coco_20200130-047c8118.pth'  # noqa: E501
model = dict(
    architecture=dict(_delete_=True, cfg_path='{{fileDirname}}/students/faster-rcnn_mobilenetv2_fpn_1x_coco.py',
                      pretrained=False),
    teacher=dict(_delete_=True, cfg_path='mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py', pretrained=False),
    teacher_ckpt=teacher_ckpt)
