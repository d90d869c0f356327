# The runtime of every FCFD config. Every bridge is in every step's graph (the bridges of undrawn
# paths through a zero term), so DDP needs no search for unused parameters.
find_unused_parameters = False
# The runtime hooks (registered by fcfd_mm; usable in any config with
# custom_imports=dict(imports=['fcfd_mm'])):
# - NonFiniteLossHook: stops training at the first NaN/Inf loss term, naming the term, the
#   iteration and the last checkpoint; nothing is checkpointed after it.
# - FCFDTeacherCheckHook: before the first iteration, compares the teacher checkpoint's class
#   names with the dataset's and scores the teacher on num_samples validation samples against
#   min_value (None: mAP 0.02, top-1 5x chance). It is first in the list, so
#   `--cfg-options custom_hooks.0.min_value=0` changes the bar; tools/train.py --no-teacher-check
#   removes it.
# - FCFDProgressHook: before every iteration, hands the epoch and iteration to FCFDDistill
#   (set_progress): the stage switch points' path draw and L2 warm-up read them.
# - FCFDUnusedBridgesHook: before every optimizer step, sets the gradient of the bridges no loss pass
#   since the last step used (undrawn stage paths, every bridge after StopDistillHook) to None, so
#   SGD's weight decay and momentum skip them, as in the official code; any optim_wrapper type.
# - RNGStateHook: saves torch's random generator in checkpoints and restores it on --resume,
#   so a resumed run draws what the uninterrupted one would have.
# - ResumeCheckHook: before --resume loads a checkpoint, checks that it is complete and fits the
#   config; if not, stops naming the newest complete checkpoint and the --resume PATH to use.
# Every FCFD config also sets default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))
# (checkpoints written to a temporary file, then renamed): the COCO ones through fcfd_coco_1x.py,
# the others themselves. Not here, because MMEngine refuses a key that two sibling bases both
# define, and the runtime base beside this one defines default_hooks.
custom_hooks = [dict(type='FCFDTeacherCheckHook', num_samples=32, metric=None, min_value=None, check_classes=True),
                dict(type='NonFiniteLossHook'), dict(type='FCFDProgressHook'), dict(type='FCFDUnusedBridgesHook'),
                dict(type='RNGStateHook'), dict(type='ResumeCheckHook')]
