# Classification demo student: RepDistiller resnet8 (one BasicBlock per stage), 6 classes.
_base_ = ['./_base_/cls_demo.py']
model = dict(
    type='ImageClassifier',
    backbone=dict(type='RepCifarResNet', arch='resnet8'),
    neck=dict(type='ReLUGlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=6, in_channels=64, loss=dict(type='CrossEntropyLoss')))
custom_imports = dict(imports=['fcfd_mm'], allow_failed_imports=False)
