# FCFD at the backbone stages of Faster R-CNN R50 (teacher) -> MobileNetV2 (student), COCO 2017,
# 1x: the stage-switch sibling of configs/fcfd_frcnn_r50_mobilenetv2_coco.py (FPN switch), with
# the settings of configs/fcfd_stages_frcnn_r101_r50_coco.py. Positions 1-4 are the teacher's
# layer1..layer4 outputs (256 / 512 / 1024 / 2048 channels) and the student's MobileNetV2 outputs
# at out_indices (1, 2, 4, 6) (24 / 32 / 96 / 320 channels), both at strides 4 / 8 / 16 / 32; the
# stage cutters (ResNetCutter, MobileNetV2Cutter) are picked from the backbones. Bridges into the
# ResNet teacher end with LeakyReLU(0.1) (post-ReLU stage inputs); bridges into the MobileNetV2
# student do not (its inverted-residual outputs are linear). docs/method.md, "Loss terms at the
# stage switch points".
#   bash tools/dist_train.sh configs/fcfd_stages_frcnn_r50_mobilenetv2_coco.py 8
_base_ = ['./fcfd_frcnn_r50_mobilenetv2_coco.py']
model = dict(fcfd={{_base_.fcfd_frcnn_stages}})
