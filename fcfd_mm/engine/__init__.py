"""MMEngine components: hooks that keep long runs safe (the non-finite-loss guard, the teacher
check, exact resume of the random generators, checkpoints written atomically, the check of a
checkpoint before ``--resume`` loads it), the validation loop that adds the hybrid networks'
metrics (``FCFDValLoop``) and the bridge probe that fits fresh bridges between frozen networks
(``probe_bridges``, for tools/function_gap.py), the hook that hands the training progress to FCFD
(``FCFDProgressHook``), the hook that keeps the optimizer off the bridges a step did not use
(``FCFDUnusedBridgesHook``), and bf16 mixed precision on CPU-only machines (``tools/train.py
--amp`` without a GPU)."""
from .atomic_checkpoint import AtomicCheckpointHook, AtomicLocalBackend, write_atomically
from .bridge_probe import probe_bridges, reset_bridges
from .cpu_amp import CPUAmpOptimWrapper
from .hybrid_val_loop import FCFDValLoop
from .non_finite_hook import NonFiniteLossError, NonFiniteLossHook
from .progress_hook import FCFDProgressHook
from .resume_check import ResumeCheckError, ResumeCheckHook
from .rng_state_hook import RNGStateHook
from .teacher_check import FCFDTeacherCheckHook, TeacherCheckError, resolve_teacher_check
from .unused_bridges_hook import FCFDUnusedBridgesHook

__all__ = ['AtomicCheckpointHook', 'AtomicLocalBackend', 'CPUAmpOptimWrapper', 'FCFDProgressHook',
           'FCFDTeacherCheckHook', 'FCFDUnusedBridgesHook', 'FCFDValLoop', 'NonFiniteLossError', 'NonFiniteLossHook',
           'ResumeCheckError', 'ResumeCheckHook', 'RNGStateHook', 'TeacherCheckError', 'probe_bridges',
           'reset_bridges', 'resolve_teacher_check', 'write_atomically']
