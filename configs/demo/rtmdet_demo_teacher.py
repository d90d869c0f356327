# Demo teacher: RTMDet at 1/4 of RTMDet-l's backbone width (CSPNeXt stages 64 / 128 / 256 channels)
# with a 128-channel neck and head (the student's are 64 wide, as RTMDet-s's 128 against
# RTMDet-tiny's 96), 2x the demo schedule, AdamW.
_base_ = ['./_base_/demo_rtmdet.py', './_base_/demo_shapes_detection.py', './_base_/demo_teacher_runtime.py',
          './_base_/demo_adamw.py']
model = dict(neck=dict(out_channels=128), bbox_head=dict(in_channels=128, feat_channels=128))
optim_wrapper = {{_base_.demo_adamw}}
