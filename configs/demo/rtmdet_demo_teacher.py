# Demo teacher: RTMDet at 1/4 of RTMDet-l's width (CSPNeXt stages 64 / 128 / 256 channels), 2x the
# demo schedule.
_base_ = ['./_base_/demo_rtmdet.py', './_base_/demo_shapes_detection.py', './_base_/demo_teacher_runtime.py']
# SGD at lr 0.01: at the other demos' 0.02 these RTMDets (trained with AdamW in mmdet) sometimes
# collapse (benchmarks/README.md)
optim_wrapper = dict(optimizer=dict(lr=0.01))
