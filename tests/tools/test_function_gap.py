"""tools/function_gap.py: the gap table, the bridge probe (fcfd_mm.engine.bridge_probe) and --plot."""
import json

import pytest
import torch

from tests.conftest import demo_data_options, run_tool
from tests.tiny_models import build_fcfd


# ------------------------------------------------------------------ table, in-process
def test_gap_table_reads_st_against_the_teacher_and_ts_against_the_student():
    from tools.function_gap import format_table, gap_table
    metrics = {'coco/bbox_mAP': 0.30, 'coco/bbox_mAP_50': 0.5, 'teacher.coco/bbox_mAP': 0.40,
               'teacher.coco/bbox_mAP_50': 0.6, 'hybrid_st.coco/bbox_mAP': 0.25, 'hybrid_st.coco/bbox_mAP_50': 0.45,
               'hybrid_ts.coco/bbox_mAP': 0.35, 'hybrid_ts@2.coco/bbox_mAP': 0.1}
    table = gap_table(metrics)
    assert list(table['metrics']) == ['student', 'teacher', 'hybrid_st', 'hybrid_ts', 'hybrid_ts@2']
    assert table['metrics']['teacher'] == {'coco/bbox_mAP': 0.40, 'coco/bbox_mAP_50': 0.6}
    assert table['gaps']['hybrid_st']['reference'] == 'teacher'
    assert table['gaps']['hybrid_st']['coco/bbox_mAP'] == pytest.approx(0.25 - 0.40)
    assert table['gaps']['hybrid_st']['coco/bbox_mAP_50'] == pytest.approx(0.45 - 0.6)
    assert table['gaps']['hybrid_ts'] == {'reference': 'student', 'coco/bbox_mAP': pytest.approx(0.35 - 0.30)}
    assert table['gaps']['hybrid_ts@2']['coco/bbox_mAP'] == pytest.approx(0.1 - 0.30)
    text = format_table(table, 'coco/bbox_mAP')
    assert '-0.1500' in text and '+0.0500' in text


# ------------------------------------------------------------------ probe, in-process
def _snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _raw_batches(n=2):
    from mmdet.testing import demo_mm_inputs
    torch.manual_seed(3)
    return [demo_mm_inputs(batch_size=2, image_shapes=[(3, 64, 64)] * 2, num_items=[3, 2], num_classes=4)
            for _ in range(n)]


def test_probe_trains_only_fresh_bridges_and_keeps_every_network_statistic():
    from fcfd_mm.engine.bridge_probe import bridge_modules, probe_bridges
    alg = build_fcfd('frcnn')
    # non-trivial BN statistics in both networks, so "unchanged" is not "still at their init"
    for net in (alg.student, alg.teacher):
        for m in net.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
    student, teacher = _snapshot(alg.student), _snapshot(alg.teacher)
    flags = [p.requires_grad for p in alg.parameters()]
    bridges = bridge_modules(alg)
    assert len(bridges) == len(alg.fcfd_neck.bridges_st) + len(alg.fcfd_neck.bridges_ts) > 0
    before = [_snapshot(b) for b in bridges]
    losses = probe_bridges(alg, _raw_batches(), iters=3, optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
    assert len(losses) == 3 and all(torch.isfinite(torch.tensor(losses)))
    for name, snap, net in (('student', student, alg.student), ('teacher', teacher, alg.teacher)):
        after = net.state_dict()
        changed = [k for k in snap if not torch.equal(snap[k], after[k])]
        assert not changed, f'{name} changed: {changed[:5]}'  # parameters and BN running statistics alike
    for b, snap in zip(bridges, before):
        weights = {k: v for k, v in b.state_dict().items() if 'weight' in k or 'bias' in k}
        assert any(not torch.equal(snap[k], v) for k, v in weights.items())
    assert not alg.training and [p.requires_grad for p in alg.parameters()] == flags


def test_probe_on_stage_bridges_steps_only_the_sampled_paths():
    """Classifier (fcfd.stages, one path drawn a step, weight decay on): the student's and teacher's
    state stays bit-identical, bridges of sampled paths move, a bridge no path used is not stepped."""
    from mmpretrain.structures import DataSample

    from fcfd_mm.engine.bridge_probe import bridge_modules, probe_bridges
    from tests.algorithms.test_fcfd_classification import build
    alg = build('resnet20', 'resnet56', dict(num_paths=1))
    student, teacher = _snapshot(alg.student), _snapshot(alg.teacher)
    torch.manual_seed(1)
    raw = [dict(inputs=list(torch.randint(0, 255, (4, 3, 32, 32)).float()),
                data_samples=[DataSample().set_gt_label(y) for y in (3, 7, 11, 99)])]
    before = {id(b): _snapshot(b) for b in bridge_modules(alg)}
    probe_bridges(alg, raw, iters=1, optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.1),
                  reset=False)
    for snap, net in ((student, alg.student), (teacher, alg.teacher)):
        assert all(torch.equal(v, net.state_dict()[k]) for k, v in snap.items())
    unused = {id(b) for b in alg.fcfd_stages.unused_bridges}  # the paths the single step did not draw
    assert unused and len(unused) < len(before)
    for b in bridge_modules(alg):
        moved = any(not torch.equal(before[id(b)][k], v) for k, v in b.named_parameters())
        assert moved == (id(b) not in unused)


def test_reset_bridges_reinitialises_weights_and_statistics():
    from fcfd_mm.engine.bridge_probe import bridge_modules, reset_bridges
    alg = build_fcfd('frcnn')
    bridges = bridge_modules(alg)
    with torch.no_grad():
        for b in bridges:
            for p in b.parameters():
                p.fill_(0.123)
            b.block.norm.running_mean.fill_(5.0)
    assert reset_bridges(alg) == len(bridges)
    for b in bridges:
        assert not torch.all(b.block.conv.weight == 0.123)
        assert torch.equal(b.block.norm.weight, torch.ones_like(b.block.norm.weight))  # the official BN init
        assert torch.equal(b.block.norm.running_mean, torch.zeros_like(b.block.norm.running_mean))


def test_reset_bridges_drops_the_ghost_statistics_of_the_old_bridges():
    from fcfd_mm.engine.bridge_probe import reset_bridges
    alg = build_fcfd('frcnn', dict(neck=None, stages=dict(num_paths=100, mode='ts')))
    alg.set_progress(0, 0)
    data = alg.data_preprocessor(_raw_batches(1)[0], True)
    alg.loss(data['inputs'], data['data_samples'])
    assert alg.fcfd_stages.ghost_statistics.statistics()
    reset_bridges(alg)
    assert alg.fcfd_stages.ghost_statistics.statistics() == {}
    assert not any('ghost_statistics' in k for k in alg.state_dict())


def test_reset_bridges_starts_scale_free_bridges_again_from_the_receivers_statistics():
    from fcfd_mm.engine.bridge_probe import probe_bridges, reset_bridges
    alg = build_fcfd('retina')  # a dense family: bridges start from the receiver's statistics
    data = alg.data_preprocessor(_raw_batches(1)[0], True)
    alg.loss(data['inputs'], data['data_samples'])
    assert bool(alg.fcfd_neck.bridges_started)
    reset_bridges(alg)
    assert not bool(alg.fcfd_neck.bridges_started)
    assert all(torch.equal(b.block.norm.weight, torch.ones_like(b.block.norm.weight))
               for b in alg.fcfd_neck.bridges_st)
    probe_bridges(alg, _raw_batches(1), iters=1, reset=False)  # the probe's first pass starts them
    assert bool(alg.fcfd_neck.bridges_started)
    assert not any(torch.equal(b.block.norm.weight, torch.ones_like(b.block.norm.weight))
                   for b in alg.fcfd_neck.bridges_st)


def test_probe_rejects_zero_iterations():
    from fcfd_mm.engine.bridge_probe import probe_bridges
    with pytest.raises(ValueError, match='>= 1'):
        probe_bridges(build_fcfd('frcnn'), _raw_batches(1), iters=0)


# ------------------------------------------------------------------ --plot, in-process
def _write_scalars(work, rows):
    vis = work / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    (vis / 'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in rows))


def test_plot_reads_the_logged_hybrid_metrics(tmp_path):
    from tools.function_gap import main, read_curves
    rows = [{'loss': 1.0, 'step': 1},
            {'accuracy/top1': 10.0, 'teacher.accuracy/top1': 50.0, 'hybrid_st@2.accuracy/top1': 30.0,
             'hybrid_ts@2.accuracy/top1': 12.0, 'step': 5},
            {'accuracy/top1': 20.0, 'teacher.accuracy/top1': 50.0, 'step': 10}]
    _write_scalars(tmp_path, rows)
    metric, curves = read_curves(str(tmp_path / '20260101_000000' / 'vis_data' / 'scalars.json'))
    assert metric == 'accuracy/top1'
    assert curves == {'student': [(5, 10.0), (10, 20.0)], 'teacher': [(5, 50.0), (10, 50.0)],
                      'hybrid_st@2': [(5, 30.0)], 'hybrid_ts@2': [(5, 12.0)]}
    main(['--plot', str(tmp_path)])
    assert (tmp_path / 'function_gap_curves.png').stat().st_size > 0


def test_plot_names_the_missing_validation_loop(tmp_path):
    from tools.function_gap import main
    _write_scalars(tmp_path, [{'accuracy/top1': 1.0, 'step': 1}])
    with pytest.raises(SystemExit, match='FCFDValLoop'):
        main(['--plot', str(tmp_path)])
    with pytest.raises(SystemExit, match='scalars.json'):
        main(['--plot', str(tmp_path / 'nowhere')])


def test_bad_arguments_name_the_fix(tmp_path):
    from tools.function_gap import main
    with pytest.raises(SystemExit, match='exactly one of CKPT'):
        main(['configs/demo/fcfd_frcnn_demo.py'])
    with pytest.raises(SystemExit, match='--probe-iters'):
        main(['configs/demo/fcfd_frcnn_demo.py', '--student-ckpt', str(tmp_path / 'x.pth')])
    with pytest.raises(SystemExit, match='drop --launcher'):
        main(['configs/demo/fcfd_frcnn_demo.py', 'x.pth', '--probe-iters', '2', '--launcher', 'pytorch'])
    with pytest.raises(SystemExit, match='not an FCFD distillation config'):
        main(['configs/demo/faster-rcnn_demo_student.py', 'x.pth'])


# ------------------------------------------------------------------ end to end
@pytest.fixture(scope='module')
def trained_fcfd_demo(tiny_demo_data, tmp_path_factory):
    """tools/train.py on the FCFD Faster R-CNN demo for 2 iterations (random teacher); (work_dir, ckpt)."""
    work = tmp_path_factory.mktemp('train_fcfd')
    run_tool(['python', 'tools/train.py', 'configs/demo/fcfd_frcnn_demo.py', '--work-dir', str(work),
              '--no-teacher-check', '--cfg-options', 'model.teacher_ckpt=None', 'train_cfg.max_iters=2',
              'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2', 'train_dataloader.batch_size=2',
              *demo_data_options(tiny_demo_data)])
    return work, work / 'iter_2.pth'


@pytest.mark.slow
def test_function_gap_writes_table_json_and_chart(trained_fcfd_demo, tiny_demo_data, tmp_path):
    work, ckpt = trained_fcfd_demo
    res = run_tool(['python', 'tools/function_gap.py', 'configs/demo/fcfd_frcnn_demo.py', str(ckpt),
                    '--work-dir', str(tmp_path), '--cfg-options', 'model.teacher_ckpt=None',
                    *demo_data_options(tiny_demo_data)])
    table = json.loads((tmp_path / 'function_gap.json').read_text())
    assert list(table['metrics']) == ['student', 'teacher', 'hybrid_st', 'hybrid_ts']
    assert table['metric'] == 'coco/bbox_mAP' and table['probe'] is None and table['bn_statistics'] == 'ghost'
    assert table['gaps']['hybrid_st']['reference'] == 'teacher' and 'coco/bbox_mAP' in table['gaps']['hybrid_ts']
    assert (tmp_path / 'function_gap.png').stat().st_size > 0
    assert 'hybrid_ts' in res.stdout and 'reference' in res.stdout
    # --plot on the training run: its validation logged the hybrid metrics
    run_tool(['python', 'tools/function_gap.py', '--plot', str(work)])
    assert (work / 'function_gap_curves.png').stat().st_size > 0


@pytest.mark.slow
def test_probe_mode_on_a_plain_student_checkpoint(trained_fcfd_demo, tiny_demo_data, tmp_path):
    """--student-ckpt: a plain detector checkpoint (here the FCFD run's student, saved alone) + fresh bridges."""
    _, ckpt = trained_fcfd_demo
    state = torch.load(ckpt, map_location='cpu', weights_only=False)['state_dict']
    plain = tmp_path / 'student.pth'
    torch.save({'state_dict': {k[len('architecture.'):]: v for k, v in state.items()
                               if k.startswith('architecture.')}}, plain)
    run_tool(['python', 'tools/function_gap.py', 'configs/demo/fcfd_frcnn_demo.py', '--student-ckpt', str(plain),
              '--probe-iters', '2', '--hybrids', 'st', '--bn-statistics', 'main', '--work-dir', str(tmp_path / 'out'),
              '--cfg-options',
              'model.teacher_ckpt=None', 'train_dataloader.batch_size=2', *demo_data_options(tiny_demo_data)])
    table = json.loads((tmp_path / 'out' / 'function_gap.json').read_text())
    assert list(table['metrics']) == ['student', 'teacher', 'hybrid_st']
    assert table['probe']['iters'] == 2 and table['probe']['optimizer']['type'] == 'SGD'
    assert table['bn_statistics'] == 'main'
