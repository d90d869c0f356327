# FCFD-style distillation for RTMDet-s (teacher) -> RTMDet-tiny (student), COCO 2017, RTMDet's own
# 300-epoch recipe (data pipeline with its stage-2 switch, AdamW, EMA). The plugin's own extension
# (docs/families.md; the official FCFD code has no RTMDet): bridges on the three CSPNeXtPAFPN levels
# (96 -> 128 channels student->teacher, 128 -> 96 teacher->student), scale-free appearance MSE, dense-head
# paths s / st / ts with the RTMDetHeadAdapter's defaults: per-class sigmoid KD (T=1, weight 1) on
# class scores and MSE (weight 1) on the box distances in units of the level's stride, rows weighted
# by the teacher's max class score. Not yet verified on COCO.
#   bash tools/dist_train.sh configs/fcfd_rtmdet_s_tiny_coco.py 8
_base_ = ['mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py']
custom_imports = dict(imports=['fcfd_mm'], allow_failed_imports=False)
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))  # written atomically: docs/safe_runs.md
# RTMDet's COCO data, with mmdet's CocoDataset replaced by CheckedCocoDataset (same data; unreadable images
# and malformed annotations name themselves: docs/safe_runs.md)
train_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
val_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
test_dataloader = val_dataloader

# The MMDetection model-zoo RTMDet-s (COCO bbox mAP 44.6), loaded strictly; a local file works too:
# `--cfg-options model.teacher_ckpt=/path/to/teacher.pth`.
teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v3.0/rtmdet/rtmdet_s_8xb32-300e_coco/rtmdet_s_8xb32-300e_coco_20220905_161602-387a891e.pth'  # noqa: E501

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='FCFDDistill',
    architecture=dict(cfg_path='mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py', pretrained=False),
    teacher=dict(cfg_path='mmdet::rtmdet/rtmdet_s_8xb32-300e_coco.py', pretrained=False),
    teacher_ckpt=teacher_ckpt,
    fcfd=dict(head=dict(type='RTMDetHeadAdapter')))  # FPN switch point with the adapter's defaults

# RTMDet's recipe brings its own custom_hooks, so this config cannot take configs/_base_/fcfd_runtime.py
# as a base and lists its settings here: RTMDet's hooks (EMA of the weights, the switch to the
# stage-2 pipeline 20 epochs before the end), then the FCFD runtime hooks
custom_hooks = [
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0002, update_buffers=True, priority=49),
    dict(type='mmdet.PipelineSwitchHook', switch_epoch=280, switch_pipeline={{_base_.train_pipeline_stage2}}),
    dict(type='NonFiniteLossHook'), dict(type='FCFDTeacherCheckHook'), dict(type='FCFDProgressHook'),
    dict(type='FCFDUnusedBridgesHook'), dict(type='RNGStateHook'), dict(type='ResumeCheckHook')]

find_unused_parameters = False
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
