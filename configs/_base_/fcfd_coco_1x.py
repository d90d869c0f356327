# The COCO training the FCFD detector configs share (Faster R-CNN, RetinaNet, GFL; the RTMDet config
# keeps RTMDet's own recipe): the multi-scale COCO data, mmdet's 1x schedule and default runtime, the
# FCFD runtime hooks (fcfd_runtime.py) and the settings of every FCFD run:
# - the bridges' BN weight and bias get no weight decay, as in the official runs (detectron2's
#   default WEIGHT_DECAY_NORM=0): '.block.bn.' matches only FCFDBridge's BN (docs/method.md,
#   "Deviations from the official setting"); every other parameter keeps mmdet's weight decay 1e-4;
# - validation scores the student and the teacher (MMRazor's SingleTeacherDistillValLoop);
# - checkpoints are written atomically (AtomicCheckpointHook: docs/safe_runs.md).
_base_ = [
    './coco_detection_ms.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
    './fcfd_runtime.py',
]
custom_imports = dict(imports=['fcfd_mm'], allow_failed_imports=False)
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))  # written atomically: docs/safe_runs.md
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'.block.bn.': dict(decay_mult=0.0)}))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
