# The runtime hooks of every FCFD config (registered by fcfd_mm; usable in any config with
# custom_imports=dict(imports=['fcfd_mm'])):
# - NonFiniteLossHook: stops training at the first NaN/Inf loss term, naming the term, the
#   iteration and the last checkpoint; nothing is checkpointed after it.
# - FCFDTeacherCheckHook: before the first iteration, compares the teacher checkpoint's class
#   names with the dataset's and scores the teacher on a few validation samples; settings in
#   model.teacher_check (None switches it off).
# - FCFDProgressHook: before every iteration, hands the epoch and iteration to FCFDDistill
#   (set_progress): the stage switch points' path draw and L2 warm-up read them.
# - RNGStateHook: saves torch's random generator in checkpoints and restores it on --resume,
#   so a resumed run draws what the uninterrupted one would have.
custom_hooks = [dict(type='NonFiniteLossHook'), dict(type='FCFDTeacherCheckHook'), dict(type='FCFDProgressHook'),
                dict(type='RNGStateHook')]
