"""The compat layer: mmrazor imports on torch 2, mmengine checkpoints load, CPU DDP set-up (tools only)."""
import subprocess
import sys

import pytest
import torch

from fcfd_mm import compat
from tests.tiny_models import toy_runner


def _py(code):
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)


def test_mmrazor_models_need_the_fix_and_import_with_it():
    without = _py('import mmrazor.models')
    if without.returncode == 0:
        pytest.skip('this torch/mmrazor pair imports without the fix')  # e.g. torch < 2.1
    assert 'torch>=1.13' in without.stderr
    with_fix = _py('import fcfd_mm, mmrazor.models, mmrazor.engine, mmrazor.structures; print("ok")')
    assert with_fix.returncode == 0, with_fix.stderr[-3000:]


def test_the_three_model_zoos_import_together():
    res = _py('import fcfd_mm, mmdet.models, mmrazor.models, mmpretrain.models\n'
              'from mmcv.ops import nms, RoIAlign\nprint("ok")')
    assert res.returncode == 0 and 'ok' in res.stdout, res.stderr[-3000:]


def test_apply_all_is_idempotent_and_records_what_ran():
    before = list(compat.APPLIED)
    assert compat.apply_all() == before
    assert 'mmrazor_torch2_import' in before


def test_importing_fcfd_mm_leaves_mmcvs_ops_alone():
    """``import fcfd_mm`` (and the model zoos a config pulls in) keeps mmcv's nms / RoIAlign as they
    are; only building CPUAmpOptimWrapper (bf16 --amp on a CPU) lets them take bf16 CPU tensors."""
    code = ('import sys, mmcv.ops\nN = sys.modules["mmcv.ops.nms"]\n'
            'ops = lambda: [mmcv.ops.nms, N.nms, N.NMSop.__dict__["forward"], mmcv.ops.RoIAlign.forward]\n'
            'before = ops()\n'
            'import fcfd_mm, fcfd_mm.engine, mmdet.models, mmrazor.models\n'
            'after = ops()\n'
            'same = all(a is b for a, b in zip(before, after))\n'
            'print("import", same, "mmcv_cpu_bf16_ops" in fcfd_mm.compat.APPLIED)\n'
            'from fcfd_mm.engine import CPUAmpOptimWrapper\n'
            'import torch\n'
            'CPUAmpOptimWrapper(optimizer=torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=0.1))\n'
            'print("amp", mmcv.ops.RoIAlign.forward is before[3], "mmcv_cpu_bf16_ops" in fcfd_mm.compat.APPLIED)\n')
    res = _py(code)
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'import True False' in res.stdout, res.stdout
    assert 'amp False True' in res.stdout, res.stdout  # this mmcv's CPU kernels lack bf16 (checked above)


def test_importing_fcfd_mm_leaves_mmengines_distributed_start_alone():
    """A custom_imports user gets no DDP / dist-init patch; the tools enable it for a distributed launch."""
    code = ('import fcfd_mm, mmengine.dist.utils as du\n'
            'from mmengine.model import MMDistributedDataParallel as D\n'
            'before = [getattr(du._init_dist_pytorch, "_fcfd_patched", False), '
            'getattr(D.__init__, "_fcfd_patched", False), "cpu_distributed" in fcfd_mm.compat.APPLIED]\n'
            'fcfd_mm.compat.enable_cpu_distributed()\n'
            'after = [getattr(du._init_dist_pytorch, "_fcfd_patched", False), '
            'getattr(D.__init__, "_fcfd_patched", False), "cpu_distributed" in fcfd_mm.compat.APPLIED]\n'
            'print(before, after)\n')
    res = _py(code)
    assert res.returncode == 0, res.stderr[-3000:]
    expected_after = [not torch.cuda.is_available()] * 3
    assert res.stdout.split('\n')[-2] == f'{[False, False, False]} {expected_after}'



class EvilPayload:
    """Stands for any object a tampered checkpoint could carry."""


def test_mmengine_checkpoints_resume_and_load_from(tmp_path):
    """Runner checkpoints hold HistoryBuffer and numpy metadata; torch >= 2.6 refuses them by default."""
    from mmengine.runner import load_checkpoint
    from mmengine.runner.checkpoint import CheckpointLoader
    toy_runner(tmp_path / 'a').train()
    ckpt = tmp_path / 'a' / 'iter_2.pth'
    if compat._torch_version() >= (2, 6):  # plain torch.load refuses it: the fix is needed
        with pytest.raises(Exception, match='Weights only load failed'):
            torch.load(ckpt, map_location='cpu')
    meta = CheckpointLoader.load_checkpoint(str(ckpt), map_location='cpu')  # mmengine's loader, fixed
    assert 'message_hub' in meta and 'state_dict' in meta
    resumed = toy_runner(tmp_path / 'a', max_iters=4, resume=True, load_from=str(ckpt))
    resumed.train()
    assert resumed.iter == 4
    loaded = toy_runner(tmp_path / 'b', load_from=str(ckpt))
    loaded.train()
    model = toy_runner(tmp_path / 'c').model
    load_checkpoint(model, str(ckpt))
    torch.testing.assert_close(model.lin.weight, meta['state_dict']['lin.weight'])


def test_safe_loading_still_refuses_arbitrary_objects(tmp_path):
    if not compat._torch_version() >= (2, 6):
        pytest.skip('weights_only is not the default before torch 2.6')

    path = tmp_path / 'evil.pth'
    torch.save({'x': EvilPayload()}, path)
    with pytest.raises(Exception, match='Weights only load failed'):
        torch.load(path)


def test_restricted_getattr_refuses_everything_but_history_buffer_statistics():
    import pickle

    from mmengine.logging.history_buffer import HistoryBuffer
    assert compat._history_buffer_getattr(HistoryBuffer, 'mean') is HistoryBuffer.mean
    for obj, name in ((HistoryBuffer, '__init__'), (torch, 'load'), (HistoryBuffer, '__class__')):
        with pytest.raises(pickle.UnpicklingError):
            compat._history_buffer_getattr(obj, name)


def test_mmcv_nms_and_roi_align_take_bf16_cpu_tensors():
    """Under CPU autocast Faster R-CNN hands mmcv bf16 boxes and features; its CPU kernels have no
    bf16, so they run in float32: same indices as float32, RoIAlign's output in the input dtype."""
    from mmcv.ops import RoIAlign, nms
    from mmcv.utils import ext_loader
    ext = ext_loader.load_ext('_ext', ['nms'])
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.], [20., 20., 30., 30.]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    with pytest.raises(RuntimeError, match='BFloat16'):  # the premise: the raw kernel refuses bf16
        ext.nms(boxes.bfloat16(), scores.bfloat16(), iou_threshold=0.5, offset=0)
    assert 'mmcv_cpu_bf16_ops' in compat.enable_cpu_bf16_ops()
    assert nms(boxes.bfloat16(), scores.bfloat16(), 0.5)[1].tolist() == nms(boxes, scores, 0.5)[1].tolist() == [0, 2]

    gen = torch.Generator().manual_seed(0)
    feats = torch.randn(2, 3, 16, 16, generator=gen)
    rois = torch.tensor([[0., 1., 1., 9., 12.], [1., 4., 2., 15., 15.]])
    layer = RoIAlign((4, 4), spatial_scale=1.0, sampling_ratio=2)
    x16 = feats.bfloat16().requires_grad_()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out16 = layer(x16, rois.bfloat16())
    assert out16.dtype == torch.bfloat16
    x32 = x16.detach().float().requires_grad_()
    out32 = layer(x32, rois)
    torch.testing.assert_close(out16.float(), out32, rtol=1e-2, atol=1e-2)  # bf16 output rounding
    out16.float().sum().backward()
    out32.sum().backward()
    assert x16.grad.dtype == torch.bfloat16
    torch.testing.assert_close(x16.grad.float(), x32.grad, rtol=1e-2, atol=1e-2)


def test_trident_conv_weights_are_initialised_when_the_fix_is_enabled():
    """mmdet 3.3's TridentConv keeps ``torch.Tensor(...)`` memory as its weight (its init_cfg
    overrides a submodule it lacks); with fix 5 it starts from Kaiming-uniform values under the
    global seed, so two builds with one seed agree and the weights lie in the Kaiming bound."""
    import math

    from mmdet.models.backbones.trident_resnet import TridentConv
    assert 'trident_conv_init' in compat.enable_trident_conv_init()
    builds = []
    for _ in range(2):
        torch.manual_seed(0)
        builds.append(TridentConv(8, 16, kernel_size=3, trident_dilations=(1, 2, 3)))
    a, b = builds
    torch.testing.assert_close(a.weight, b.weight)  # seeded, not leftover memory
    bound = math.sqrt(2.0) * math.sqrt(3.0 / (8 * 3 * 3))  # kaiming_uniform_, fan-in, ReLU gain
    assert torch.isfinite(a.weight).all() and a.weight.abs().max() <= bound and a.weight.std() > 0.1 * bound
