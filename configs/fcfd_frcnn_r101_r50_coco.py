# FCFD, Faster R-CNN R101-FPN (teacher) -> R50-FPN (student), COCO 2017, 1x schedule.
# Official detection settings (docs/method.md): bridges (conv3x3 + BN) on P2-P6 in both directions,
# appearance MSE on P2-P6, the RoI box head run on the student's sampled RoIs as t (target),
# s, st (bridged student -> frozen teacher head) and ts (bridged teacher -> student head),
# KL(T=1) on class logits + MSE on box deltas, every weight 1.
#   bash tools/dist_train.sh configs/fcfd_frcnn_r101_r50_coco.py 8 [--amp]
# 8 GPUs x 2 images = batch 16, lr 0.02 (mmdet's 1x). The official runs used AMP (--amp). How this config
# differs from the official setting, and why: docs/method.md, "Deviations from the official setting".
_base_ = ['./_base_/fcfd_coco_1x.py', './_base_/fcfd_frcnn_settings.py']

# The MMDetection model-zoo Faster R-CNN R101-FPN 1x (COCO bbox mAP 39.4), downloaded once into
# the torch hub cache and loaded strictly. A local file (e.g. your own tools/train.py run of
# mmdet::faster_rcnn/faster-rcnn_r101_fpn_1x_coco.py) works too:
# `--cfg-options model.teacher_ckpt=/path/to/teacher.pth`.
teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/faster_rcnn_r101_fpn_1x_coco/faster_rcnn_r101_fpn_1x_coco_20200130-f513f705.pth'  # noqa: E501

model = dict(
    _scope_='mmrazor',
    type='FCFDDistill',
    architecture=dict(cfg_path='mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py', pretrained=False),
    teacher=dict(cfg_path='mmdet::faster_rcnn/faster-rcnn_r101_fpn_1x_coco.py', pretrained=False),
    teacher_ckpt=teacher_ckpt,
    fcfd={{_base_.fcfd_frcnn_fpn}})  # bridges 256 -> 256 (the FPNs' channels)
