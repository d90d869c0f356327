# The runtime of the FCFD demos (detection and classification), beside the demo student config that
# brings the data, the schedule and the student's own validation: the FCFD runtime (fcfd_runtime.py)
# and the validation of the student, the teacher and the hybrid networks (hybrid_st.*, hybrid_ts.*,
# hybrid_st@k.*: docs/hybrid_metrics.md), which a demo config takes with
# `val_cfg = {{_base_.fcfd_demo_val_cfg}}` (the student config's val_cfg is a base of its own).
_base_ = ['./fcfd_runtime.py']
fcfd_demo_val_cfg = dict(type='mmrazor.FCFDValLoop', hybrids='all', hybrid_interval=1)
