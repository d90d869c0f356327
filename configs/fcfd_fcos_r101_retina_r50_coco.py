# FCFD across families: FCOS R101-caffe FPN (teacher) -> RetinaNet R50-FPN (student), COCO 2017, 1x:
# the FCFD form of MMRazor's cross-family pair (its PKD config pkd_fpn_fcos_x101_retina_r50_1x_coco).
# A cross-family pair keeps what stays defined when the heads differ (docs/method.md, "Cross-family
# pairs"): path st -- the bridged student P3-P7 through the frozen FCOS head, compared with the FCOS
# head on the teacher's own P3-P7 (the FCOSHeadAdapter's losses: sigmoid KD on class scores and
# centerness, MSE on box distances in stride units, locations weighted by the teacher's score) -- and
# the scale-free appearance term on the neck levels of equal stride. Paths s and ts compare the two
# heads row by row and are refused for such a pair. The teacher keeps its own input normalisation
# (caffe: BGR minus the caffe mean), re-normalised from the student's batch by FCFDDistill.
# Measured on the demo (FCOS teacher -> RetinaNet student: benchmarks/README.md); not yet on COCO.
#   bash tools/dist_train.sh configs/fcfd_fcos_r101_retina_r50_coco.py 8
_base_ = ['./_base_/fcfd_coco_1x.py']

# The MMDetection model-zoo FCOS R101-caffe FPN, GN head, multi-scale 2x (COCO bbox mAP 40.8), loaded
# strictly; a local file works too: `--cfg-options model.teacher_ckpt=/path/to/teacher.pth`.
teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/fcos/fcos_r101_caffe_fpn_gn-head_mstrain_640-800_2x_coco/fcos_r101_caffe_fpn_gn-head_mstrain_640-800_2x_coco-511424d6.pth'  # noqa: E501

model = dict(
    _scope_='mmrazor',
    type='FCFDDistill',
    architecture=dict(cfg_path='mmdet::retinanet/retinanet_r50_fpn_1x_coco.py', pretrained=False),
    teacher=dict(cfg_path='mmdet::fcos/fcos_r101-caffe_fpn_gn-head_ms-640-800-2x_coco.py', pretrained=False),
    teacher_ckpt=teacher_ckpt,
    fcfd=dict(head=dict(type='CrossFamilyHeadAdapter'), neck=dict(paths=('st',))))

optim_wrapper = dict(optimizer=dict(lr=0.01))  # RetinaNet's 1x schedule in mmdet: lr 0.01 at batch 16
