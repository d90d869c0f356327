"""``FCFDValLoop``: the hybrid networks' metrics beside the student's and the teacher's."""
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.evaluator import BaseMetric
from mmengine.registry import METRICS
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.data import DataLoader

from tests.tiny_models import bn_statistics, tiny_detector_cfg


@METRICS.register_module(force=True)
class PredictionDigest(BaseMetric):
    """A metric that is a fingerprint of the predictions (sum of scores, of box coordinates,
    number of boxes): two passes have equal 'metrics' only if they predicted the same."""
    default_prefix = 'digest'

    def process(self, data_batch, data_samples) -> None:
        for s in data_samples:
            p = s.pred_instances if hasattr(s, 'pred_instances') else s['pred_instances']
            self.results.append((float(p['scores'].sum()), float(p['bboxes'].sum()), len(p['scores'])))

    def compute_metrics(self, results) -> dict:
        return dict(scores=sum(r[0] for r in results), boxes=sum(r[1] for r in results),
                    count=sum(r[2] for r in results))


def _identical_pair():
    """Teacher == student (same config and weights) with identity FPN bridges (eval-mode BN)."""
    from mmrazor.registry import MODELS

    import fcfd_mm  # noqa: F401
    torch.manual_seed(0)
    cfg = tiny_detector_cfg('frcnn', 8, fpn_channels=24)
    alg = MODELS.build(dict(_scope_='mmrazor', type='FCFDDistill', architecture=cfg, teacher=cfg))
    alg.init_weights()
    with torch.no_grad():
        for m in alg.student.modules():  # non-trivial BN statistics and scores
            if isinstance(m, _BatchNorm):
                m.running_mean.normal_(0, 0.1), m.running_var.uniform_(0.5, 1.5)
        torch.nn.init.normal_(alg.student.roi_head.bbox_head.fc_cls.weight, 0, 0.3)
        alg.teacher.load_state_dict(alg.student.state_dict())
        for bridge in list(alg.fcfd_neck.bridges_st) + list(alg.fcfd_neck.bridges_ts):
            conv, bn = bridge.block.conv, bridge.block.bn
            conv.weight.zero_()
            conv.weight[:, :, 1, 1] = torch.eye(conv.weight.shape[0])
            bn.weight.fill_(1), bn.bias.zero_(), bn.running_mean.zero_(), bn.running_var.fill_(1)
            bn.eps = 0.0
    return alg


_RUNS = iter(range(10 ** 6))


def _runner(alg, tmp_path, **loop):
    from mmdet.testing import demo_mm_inputs
    from mmengine.runner import Runner
    packed = demo_mm_inputs(batch_size=4, image_shapes=[(3, 64, 64)] * 4, num_items=[3, 2, 1, 2], num_classes=4)
    items = [dict(inputs=i, data_samples=s) for i, s in zip(packed['inputs'], packed['data_samples'])]
    loader = DataLoader(items, batch_size=2, collate_fn=pseudo_collate)
    return Runner(model=alg, work_dir=str(tmp_path), val_dataloader=loader,
                  val_cfg=dict(type='mmrazor.FCFDValLoop', **loop), val_evaluator=dict(type='PredictionDigest'),
                  default_scope='mmdet', experiment_name=f'hybrid_val_{next(_RUNS)}')


def test_identical_pair_with_identity_bridges_gives_the_teachers_metric(tmp_path):
    alg = _identical_pair()
    metrics = _runner(alg, tmp_path).val()
    assert metrics['digest/count'] > 0
    for key in ('scores', 'boxes', 'count'):
        assert metrics[f'hybrid_st.digest/{key}'] == pytest.approx(metrics[f'teacher.digest/{key}'], rel=1e-5)
        # ts: the student's RPN reads the student's own P6 (no bridge) = the teacher's
        assert metrics[f'hybrid_ts.digest/{key}'] == pytest.approx(metrics[f'digest/{key}'], rel=1e-5)


def test_a_non_identity_bridge_changes_the_hybrid_metric_only(tmp_path):
    alg = _identical_pair()
    with torch.no_grad():
        alg.fcfd_neck.bridges_st[0].block.bn.bias.fill_(0.5)
    metrics = _runner(alg, tmp_path, hybrids=['st']).val()
    assert metrics['digest/scores'] == pytest.approx(metrics['teacher.digest/scores'], rel=1e-5)
    assert metrics['hybrid_st.digest/scores'] != pytest.approx(metrics['teacher.digest/scores'], rel=1e-3)
    assert not any(k.startswith('hybrid_ts.') for k in metrics)


def test_hybrid_validation_changes_no_running_statistic_and_runs_in_eval_mode(tmp_path):
    alg = _identical_pair()
    alg.train()
    before = bn_statistics(alg)
    assert any(k.startswith('fcfd_neck.') for k in before)
    modes = []
    predict = alg.predict_hybrid

    def spy(name, *args):
        modes.append({m.training for m in alg.modules()})
        return predict(name, *args)
    alg.predict_hybrid = spy
    metrics = _runner(alg, tmp_path).val()
    assert 'hybrid_st.digest/scores' in metrics and modes and all(m == {False} for m in modes)
    after = alg.state_dict()
    for k, v in before.items():
        assert torch.equal(v, after[k]), k


def test_hybrid_interval_and_off(tmp_path):
    alg = _identical_pair()
    runner = _runner(alg, tmp_path, hybrid_interval=2)
    assert not any(k.startswith('hybrid_') for k in runner.val())  # the 1st validation
    assert {'hybrid_st.digest/scores', 'hybrid_ts.digest/scores'} <= set(runner.val())  # the 2nd
    assert 'teacher.digest/scores' in runner.val()  # the 3rd
    off = _runner(_identical_pair(), tmp_path, hybrids=())
    assert not any(k.startswith('hybrid_') for k in off.val())


def test_unknown_hybrid_is_refused(tmp_path):
    runner = _runner(_identical_pair(), tmp_path, hybrids=['st@2'])
    with pytest.raises(ValueError, match=r"\['st@2'\] not available.*\['st', 'ts'\]"):
        runner.val()


@pytest.mark.parametrize('setting', [None, 'main'])
def test_bn_statistics_setting_reaches_every_hybrid_pass(tmp_path, setting):
    alg = _identical_pair()
    seen = []
    predict = alg.predict_hybrid

    def spy(name, inputs, samples, bn_statistics):
        seen.append(bn_statistics)
        return predict(name, inputs, samples, bn_statistics)
    alg.predict_hybrid = spy
    loop = {} if setting is None else dict(hybrid_bn_statistics=setting)
    _runner(alg, tmp_path, **loop).val()
    assert seen and set(seen) == {setting or 'ghost'}


def test_bad_bn_statistics_setting_is_refused(tmp_path):
    runner = _runner(_identical_pair(), tmp_path, hybrid_bn_statistics='running')
    with pytest.raises(ValueError, match=r"val_cfg.hybrid_bn_statistics='running'.*'ghost'.*'main'"):
        runner.val()
