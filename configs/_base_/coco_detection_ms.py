# COCO 2017 detection with the multi-scale training of the official FCFD detection runs
# (the official detection code's detectron2 defaults): shorter side 640-800 in steps of 32, longer side <= 1333;
# test at 800. Set data_root to your COCO folder (or `--cfg-options ...data_root=`).
# CheckedCocoDataset (registered by fcfd_mm): mmdet's CocoDataset whose unreadable images and
# malformed annotations name themselves (docs/safe_runs.md).
_base_ = ['mmdet::_base_/datasets/coco_detection.py']
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomChoiceResize', scales=[(1333, s) for s in range(640, 801, 32)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(dataset=dict(type='CheckedCocoDataset', pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
test_dataloader = val_dataloader
