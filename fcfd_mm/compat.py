"""Workarounds that make the pinned OpenMMLab stack work on torch 2.x (see docs/environment.md, "Compat layer").

``fcfd_mm/__init__.py`` calls :func:`apply_all` before anything else is imported, so a config
with ``custom_imports=dict(imports=['fcfd_mm'])`` gets fixes 1 and 2 -- what any user of the
plugin needs, and nothing that changes how other libraries compute -- before MMRazor's registry
lazily imports ``mmrazor.models``. Fix 3 changes how mmengine starts distributed training, so it is
not applied at import: ``tools/train.py`` and ``tools/test.py`` call :func:`enable_cpu_distributed`
for a distributed launch. Fix 4 changes two mmcv ops and is needed only by bf16 autocast on a CPU:
:class:`~fcfd_mm.engine.CPUAmpOptimWrapper` calls :func:`enable_cpu_bf16_ops` when it is built
(``tools/train.py --amp`` without a GPU), so ``import fcfd_mm`` leaves mmcv as it is. Each fix checks
whether it is needed and is a no-op otherwise; :data:`APPLIED` records which ones ran (useful
in bug reports).

1. mmrazor 1.0.0 cannot import ``mmrazor.models`` / ``mmrazor.engine`` on torch >= 2.1
   (open-mmlab/mmrazor#615, #632): its quantization backend-config module imports private torch
   names that were renamed (``reverse2``...) and setters torch removed. We restore those names;
   mmrazor's quantization stays unsupported, distillation does not use it.
2. torch >= 2.6 defaults ``torch.load(weights_only=True)``, and mmengine 0.10.7 calls
   ``torch.load`` without the argument, so every mmengine-saved checkpoint (resume, load_from,
   MMRazor ``teacher_ckpt``, ``tools/test.py``) fails on ``HistoryBuffer``, numpy types and a
   ``getattr`` in the ``message_hub`` (open-mmlab/mmengine#1655, PR #1650). Inside mmengine's checkpoint
   loaders only, we allow-list exactly those (``getattr`` restricted to HistoryBuffer's
   statistics methods), so checkpoints still load with torch's safe unpickler and nothing
   else is trusted; ``torch.load`` elsewhere keeps torch's defaults.
3. CPU-only distributed training through MMEngine: ``_init_dist_pytorch`` calls
   ``torch.cuda.set_device`` unconditionally, and ``Runner.wrap_model`` passes
   ``device_ids=[LOCAL_RANK]`` to DDP, which DDP refuses for CPU modules
   (mmengine 0.10.7 assumes CUDA for launcher=pytorch). When CUDA is unavailable we skip
   ``set_device`` and drop ``device_ids``. With CUDA, nothing changes. Applied only by
   :func:`enable_cpu_distributed` (the tools call it when ``--launcher`` is not ``none``). The
   backend (gloo instead of nccl without CUDA) is set in the tools' config, in one place:
   :func:`fcfd_mm.utils.tool_cfg.load_tool_config`.
4. Mixed precision on the CPU (bf16 autocast, ``tools/train.py --amp`` without a GPU): mmcv
   2.1.0's CPU kernels of ``nms`` and ``RoIAlign``, the two compiled ops a Faster R-CNN training
   step runs, have no bfloat16 version ("not implemented for 'BFloat16'"). On bf16 CPU tensors
   they now run in float32 (RoIAlign's output is cast back to the input's dtype, as mmdet's RoI
   extractor expects); other dtypes and devices (mmcv's CUDA kernels have fp16) are unchanged.
5. mmdet 3.3's ``TridentConv`` (TridentNet's backbone) leaves its weight as uninitialised memory:
   its block gives it an ``init_cfg`` that overrides a submodule ``conv2`` the conv does not have,
   and TridentNet's configs load pretrained weights over it. A TridentNet built without a checkpoint
   (a test, a benchmark, training from scratch) then computes with garbage, NaN now and then. With
   :func:`enable_trident_conv_init` every ``TridentConv`` built afterwards starts from the Kaiming
   init its ``init_cfg`` means (uniform, fan-in); a checkpoint still overwrites it. Not applied at
   import (it changes what mmdet builds); the test helpers and ``benchmarks/overhead.py`` call it.
"""
from __future__ import annotations

import functools
import warnings
from typing import Callable, List

import torch

#: Names of the workarounds that were applied in this process.
APPLIED: List[str] = []


def _torch_version() -> tuple:
    return tuple(int(p) for p in torch.__version__.split('+')[0].split('.')[:2])


def fix_mmrazor_torch2_import() -> bool:
    """Restore the torch.ao names mmrazor 1.0.0's quantization configs import (mmrazor#615)."""
    try:
        import torch.ao.quantization.backend_config.utils  # noqa: F401  (mmrazor reads it as an attribute)
        import torch.ao.quantization.fuser_method_mappings as fmm
        from torch.ao.quantization.backend_config import BackendPatternConfig
    except ImportError:  # torch < 1.13: mmrazor's own imports work, nothing to fix
        return False
    changed = False
    for public, private in (('reverse2', '_reverse2'), ('reverse3', '_reverse3')):
        if not hasattr(fmm, public) and hasattr(fmm, private):
            setattr(fmm, public, getattr(fmm, private))
            changed = True
    if not hasattr(fmm, 'reverse_sequential_wrapper2'):

        def reverse_sequential_wrapper2(sequential: Callable) -> Callable:

            def fuser_method(is_qat, m1, m2):
                return sequential(m2, m1)

            return fuser_method

        fmm.reverse_sequential_wrapper2 = reverse_sequential_wrapper2
        changed = True
    for setter in ('_set_overwrite_output_fake_quantize', '_set_overwrite_output_observer',
                   '_set_input_output_observed'):
        if not hasattr(BackendPatternConfig, setter):
            attr = setter.replace('_set', '', 1)

            def _setter(self, value, _attr=attr):
                setattr(self, _attr, value)
                return self

            setattr(BackendPatternConfig, setter, _setter)
            changed = True
    return changed


def _history_buffer_getattr(obj, name: str):
    """``getattr`` as an mmengine checkpoint uses it: only ``HistoryBuffer.<statistics method>``.

    ``HistoryBuffer`` pickles its statistics methods as ``getattr(HistoryBuffer, 'min')``; a
    general ``getattr`` would let a checkpoint reach anything, so nothing else is allowed.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    if obj is HistoryBuffer and not name.startswith('_') and callable(getattr(HistoryBuffer, name, None)):
        return getattr(HistoryBuffer, name)
    import pickle
    raise pickle.UnpicklingError(f'fcfd_mm: refusing getattr({obj!r}, {name!r}) in a checkpoint')


def _mmengine_checkpoint_globals() -> list:
    """Types an mmengine 0.10 checkpoint pickles besides tensors (its ``message_hub`` logs)."""
    import numpy as np
    from mmengine.logging.history_buffer import HistoryBuffer

    safe = [HistoryBuffer, np.ndarray, np.dtype, (_history_buffer_getattr, 'builtins.getattr'),
            (_history_buffer_getattr, '__builtin__.getattr'), (np.ndarray, 'numpy.ndarray'),
            (np.dtype, 'numpy.dtype')]
    try:  # numpy >= 1.25: per-dtype classes such as numpy.dtypes.Float64DType
        import numpy.dtypes as npd
        safe += [getattr(npd, n) for n in dir(npd) if n.endswith('DType')]
    except ImportError:
        pass
    import codecs
    safe.append(codecs.encode)  # numpy pickles raw array bytes as _codecs.encode(str, 'latin1')
    for mod_name in ('numpy._core.multiarray', 'numpy.core.multiarray'):
        try:
            mod = __import__(mod_name, fromlist=['_reconstruct', 'scalar'])
        except ImportError:
            continue
        safe += [(mod._reconstruct, f'{mod_name}._reconstruct'), (mod.scalar, f'{mod_name}.scalar')]
    return safe


def fix_weights_only_checkpoint_loading() -> bool:
    """Let mmengine's checkpoint loaders read mmengine checkpoints with torch's safe unpickler.

    Only mmengine's local and http(s) loaders are wrapped, and only for the duration of the
    load: inside them the safe unpickler also accepts ``HistoryBuffer``, numpy arrays/scalars
    and the restricted :func:`_history_buffer_getattr`. ``torch.load`` elsewhere is unchanged.
    """
    if _torch_version() < (2, 6) or not hasattr(torch.serialization, 'safe_globals'):
        return False
    from mmengine.runner.checkpoint import CheckpointLoader

    for prefix in ('', 'http://', 'https://'):
        original = CheckpointLoader._schemes.get(prefix)
        if original is None or getattr(original, '_fcfd_patched', False):
            continue

        def load_with_mmengine_globals(filename, map_location=None, _original=original, **kwargs):
            with torch.serialization.safe_globals(_mmengine_checkpoint_globals()):
                return _original(filename, map_location, **kwargs)

        functools.update_wrapper(load_with_mmengine_globals, original)
        load_with_mmengine_globals._fcfd_patched = True
        CheckpointLoader._schemes[prefix] = load_with_mmengine_globals
    return True


def fix_cpu_distributed() -> bool:
    """Let MMEngine's ``launcher='pytorch'`` run on CPU-only machines (gloo, no CUDA calls)."""
    if torch.cuda.is_available():
        return False
    import mmengine.dist.utils as dist_utils
    from mmengine.model import MMDistributedDataParallel

    if not getattr(dist_utils._init_dist_pytorch, '_fcfd_patched', False):
        original_init = dist_utils._init_dist_pytorch

        @functools.wraps(original_init)
        def _init_dist_pytorch_cpu(backend: str, init_backend: str = 'torch', **kwargs) -> None:
            import torch.distributed as dist
            if init_backend != 'torch':
                return original_init(backend, init_backend=init_backend, **kwargs)
            dist.init_process_group(backend=backend, **kwargs)

        _init_dist_pytorch_cpu._fcfd_patched = True
        dist_utils._init_dist_pytorch = _init_dist_pytorch_cpu

    if not getattr(MMDistributedDataParallel.__init__, '_fcfd_patched', False):
        original_ddp_init = MMDistributedDataParallel.__init__

        @functools.wraps(original_ddp_init)
        def ddp_init_cpu(self, module, detect_anomalous_params: bool = False, **kwargs):
            # DDP accepts device_ids only for single-device GPU modules.
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
            original_ddp_init(self, module=module, detect_anomalous_params=detect_anomalous_params, **kwargs)

        ddp_init_cpu._fcfd_patched = True
        MMDistributedDataParallel.__init__ = ddp_init_cpu
    return True


def _mmcv_cpu_kernels_have_bf16() -> bool:
    from mmcv.ops import RoIAlign, nms
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]], dtype=torch.bfloat16)
    try:
        nms(boxes, torch.tensor([0.9, 0.8], dtype=torch.bfloat16), 0.5)
        RoIAlign((2, 2))(torch.ones(1, 1, 4, 4, dtype=torch.bfloat16),
                         torch.tensor([[0., 0., 0., 3., 3.]], dtype=torch.bfloat16))
    except RuntimeError:  # "... not implemented for 'BFloat16'"
        return False
    return True


def fix_mmcv_cpu_bf16_ops() -> bool:
    """Run mmcv's ``nms`` and ``RoIAlign`` in float32 on bf16 CPU tensors (their CPU kernels lack bf16)."""
    from mmcv.ops import RoIAlign
    from mmcv.ops.nms import NMSop
    if getattr(RoIAlign.forward, '_fcfd_patched', False) or _mmcv_cpu_kernels_have_bf16():
        return False

    def bf16_on_cpu(x: torch.Tensor) -> bool:
        return x.device.type == 'cpu' and x.dtype == torch.bfloat16

    original_nms = NMSop.forward

    @functools.wraps(original_nms)
    def nms_forward(ctx, bboxes, scores, *args):
        if bf16_on_cpu(bboxes) or bf16_on_cpu(scores):
            bboxes, scores = bboxes.float(), scores.float()  # returns indices: nothing to cast back
        return original_nms(ctx, bboxes, scores, *args)

    original_roi_align = RoIAlign.forward

    @functools.wraps(original_roi_align)
    def roi_align_forward(self, input: torch.Tensor, rois: torch.Tensor) -> torch.Tensor:
        if bf16_on_cpu(input) or bf16_on_cpu(rois):
            # back in the input's dtype: mmdet's RoI extractor writes it into a tensor of that dtype;
            # autograd casts the gradients through both casts.
            return original_roi_align(self, input.float(), rois.float()).to(input.dtype)
        return original_roi_align(self, input, rois)

    nms_forward._fcfd_patched = roi_align_forward._fcfd_patched = True
    NMSop.forward = staticmethod(nms_forward)
    RoIAlign.forward = roi_align_forward
    return True


def fix_trident_conv_init() -> bool:
    """Initialise mmdet's ``TridentConv`` weight (Kaiming uniform, fan-in) when it is built (fix 5)."""
    from mmdet.models.backbones.trident_resnet import TridentConv
    original = TridentConv.__init__
    if getattr(original, '_fcfd_patched', False):
        return False

    @functools.wraps(original)
    def init_then_kaiming(self, *args, **kwargs):
        original(self, *args, **kwargs)
        torch.nn.init.kaiming_uniform_(self.weight, mode='fan_in', nonlinearity='relu')
        if self.bias is not None:
            torch.nn.init.zeros_(self.bias)

    init_then_kaiming._fcfd_patched = True
    TridentConv.__init__ = init_then_kaiming
    return True


def _apply(name: str, fix: Callable[[], bool]) -> None:
    if name in APPLIED:
        return
    try:
        if fix():
            APPLIED.append(name)
    except ImportError as exc:  # a stack package missing: the fix is not needed then
        warnings.warn(f'fcfd_mm.compat: {name} skipped ({exc})')


def apply_all() -> List[str]:
    """Apply the import-time workarounds this environment needs (1 and 2 above: what a user of
    ``custom_imports=dict(imports=['fcfd_mm'])`` needs); returns :data:`APPLIED`."""
    # mmengine imports pkg_resources (kept by the setuptools<82 pin), which warns on every import.
    warnings.filterwarnings('ignore', message='pkg_resources is deprecated', category=UserWarning)
    for name, fix in (('mmrazor_torch2_import', fix_mmrazor_torch2_import),
                      ('weights_only_checkpoint_loading', fix_weights_only_checkpoint_loading)):
        _apply(name, fix)
    return APPLIED


def enable_cpu_distributed() -> List[str]:
    """Let mmengine's ``launcher='pytorch'`` run on a machine without CUDA (fix 3: gloo, no
    ``torch.cuda.set_device``, no DDP ``device_ids``); a no-op with CUDA. Call it before the
    Runner is built, as ``tools/train.py`` / ``tools/test.py`` do for a distributed launch.
    Returns :data:`APPLIED`."""
    _apply('cpu_distributed', fix_cpu_distributed)
    return APPLIED


def enable_cpu_bf16_ops() -> List[str]:
    """Let mmcv's ``nms`` and ``RoIAlign`` take bf16 CPU tensors (fix 4), for bf16 autocast on a
    machine without an accelerator; a no-op where mmcv's CPU kernels have bf16. Called by
    :class:`~fcfd_mm.engine.CPUAmpOptimWrapper` (``tools/train.py --amp`` on a CPU); code that
    runs ``torch.autocast('cpu', dtype=torch.bfloat16)`` by hand calls it first. Returns
    :data:`APPLIED`."""
    _apply('mmcv_cpu_bf16_ops', fix_mmcv_cpu_bf16_ops)
    return APPLIED


def enable_trident_conv_init() -> List[str]:
    """Give every ``TridentConv`` built afterwards an initialised weight (fix 5: mmdet 3.3 leaves it
    as uninitialised memory); for TridentNets built without a checkpoint. Returns :data:`APPLIED`."""
    _apply('trident_conv_init', fix_trident_conv_init)
    return APPLIED
