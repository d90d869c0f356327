"""The family head adapters on small models of mmdet's own model-zoo configs: the adapter picked,
its named terms, finite values, gradients into both directions' bridges, a frozen teacher."""
import pytest
import torch

from tests.adapters.families import build_pair, random_batch, small_model_cfg

FAMILIES = {  # config -> (adapter, output names)
    'gfl/gfl_r50_fpn_1x_coco.py': ('GFLHeadAdapter', ('cls', 'reg')),
    'rtmdet/rtmdet_s_8xb32-300e_coco.py': ('RTMDetHeadAdapter', ('cls', 'reg')),
    'fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py': ('FCOSHeadAdapter', ('cls', 'reg', 'centerness')),
    'yolox/yolox_s_8xb8-300e_coco.py': ('YOLOXHeadAdapter', ('cls', 'reg', 'obj')),
    'cascade_rcnn/cascade-rcnn_r50_fpn_1x_coco.py': (
        'CascadeRoIHeadAdapter', ('cls0', 'reg0', 'cls1', 'reg1', 'cls2', 'reg2')),
}


@pytest.mark.parametrize('path', sorted(FAMILIES))
def test_family_runs_a_loss_step_with_gradients_into_both_bridges(path):
    adapter, outputs = FAMILIES[path]
    alg = build_pair(small_model_cfg(path))
    assert type(alg.head_adapter).__name__ == adapter
    data = random_batch(alg)
    losses = alg.loss(data['inputs'], data['data_samples'])
    expected = {'distill.loss_fcfd_app'} | {f'distill.loss_fcfd_{o}_{p}' for o in outputs for p in ('s', 'st', 'ts')}
    assert expected == {k for k in losses if k.startswith('distill.')}
    assert all(torch.isfinite(losses[k]) for k in expected)
    total, _ = alg.parse_losses(losses)
    total.backward()
    for bridges in (alg.fcfd_neck.bridges_s2t, alg.fcfd_neck.bridges_t2s):
        grads = [p.grad for b in bridges for p in b.parameters()]
        assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
        assert any(g.abs().sum() > 0 for g in grads)
    assert all(p.grad is None for p in alg.teacher.parameters())
