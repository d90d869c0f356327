"""The benchmark scripts: the overhead benchmark's 'no waste' breakdown runs and adds up, and the
efficacy script writes the configs it claims (the overhead controls reach FCFDDistill)."""
import copy
import json
import os.path as osp
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / 'benchmarks'))


def test_overhead_parts_breakdown_runs_and_adds_up(tmp_path):
    import overhead
    overhead.main(['--family', 'frcnn', '--pair', 'demo', '--size', '64', '--batch', '2', '--warmup', '0',
                   '--repeats', '1', '--methods', 'fcfd_fpn', 'fcfd_fpn_fast', '--parts', '--out', str(tmp_path)])
    result = json.loads((tmp_path / 'overhead_demo_64_cpu_frcnn.json').read_text())['results'][0]
    methods = result['methods']
    assert set(methods) == {'teacher_extract_feat', 'student', 'fcfd_fpn', 'fcfd_fpn_fast'}  # parts folded in
    full, fast = methods['fcfd_fpn'], methods['fcfd_fpn_fast']
    assert set(full['parts_s']) == {'student_step', 'teacher_extract_feat', 'bridges', 'target_head',
                                    'st_head_fwd_bwd', 'ts_head_fwd_bwd'}
    for v in (full, fast):
        assert v['sum_of_parts_s'] == pytest.approx(sum(v['parts_s'].values()))
        assert v['x_sum_of_parts'] == pytest.approx(v['median_s'] / v['sum_of_parts_s'])
    assert (tmp_path / 'overhead_demo_64_cpu_frcnn.png').is_file()


@pytest.mark.parametrize('family, key, value', [('frcnn', 'consistency_rois', 32),
                                                ('retinanet', 'levels', (1, 2, 3, 4))])
def test_efficacy_fast_method_config_carries_the_overhead_controls(tmp_path, family, key, value):
    import efficacy
    from mmengine.config import Config
    path = efficacy.method_config(family, 'fcfd_fpn_fast', 'teacher.pth', str(tmp_path / 'fast.py'))
    fcfd = Config.fromfile(path).model.fcfd
    got = fcfd.head.get(key, fcfd.neck.get(key))
    assert tuple(got) == value if isinstance(value, tuple) else got == value
    assert Config.fromfile(path).model.teacher_ckpt == 'teacher.pth'


@pytest.mark.parametrize('method', ['fitnet', 'pkd', 'cwd'])
def test_efficacy_mmrazor_method_configs_build_and_validate_without_hybrids(tmp_path, method):
    """MMRazor's FpnTeacherDistill has no hybrid networks: its config must not keep the FCFD demo's
    FCFDValLoop (the run would fail when the loop is built)."""
    import efficacy
    from mmengine.config import Config
    from mmrazor.registry import MODELS
    cfg = Config.fromfile(efficacy.method_config('retinanet', method, None, str(tmp_path / f'{method}.py')))
    assert cfg.model.type == 'FpnTeacherDistill' and cfg.val_cfg.type == 'mmrazor.SingleTeacherDistillValLoop'
    MODELS.build(cfg.model)


def test_train_log_summary_flags_non_finite_losses_and_skips_warmup(tmp_path):
    import train_log
    run = tmp_path / '20260101_000000' / 'vis_data'
    run.mkdir(parents=True)
    rows = [dict(iter=i, loss=1.0 / i, time=t, **{'distill.loss_fcfd_app': 0.5})
            for i, t in ((1, 9.0), (2, 1.0), (3, 3.0))]
    rows.append({'coco/bbox_mAP': 0.1, 'step': 3})  # a validation line
    (run / 'scalars.json').write_text('\n'.join(json.dumps(r) for r in rows) + '\n')
    summary = train_log.summarize(str(tmp_path), skip=1)
    assert summary['iters_logged'] == 3 and summary['last_iter'] == 3 and summary['all_finite']
    assert summary['s_per_iter'] == 2.0  # median of 1.0 and 3.0: the first line is warm-up
    assert train_log.main([str(tmp_path), '--out', str(tmp_path / 's.json')]) == 0
    rows[2]['distill.loss_fcfd_app'] = float('nan')
    (run / 'scalars.json').write_text('\n'.join(json.dumps(r) for r in rows) + '\n')
    assert train_log.summarize(str(tmp_path))['non_finite'] == ['distill.loss_fcfd_app@3']
    assert train_log.main([str(tmp_path)]) == 1


def test_train_log_term_means_per_window(tmp_path):
    import train_log
    run = tmp_path / '20260101_000000' / 'vis_data'
    run.mkdir(parents=True)
    rows = [{'iter': i, 'loss': float(i), 'student.loss_cls': 2.0 * i, 'time': 1.0} for i in (20, 40, 60, 80)]
    rows.append({'coco/bbox_mAP': 0.1, 'step': 80})
    (run / 'scalars.json').write_text('\n'.join(json.dumps(r) for r in rows) + '\n')
    terms = train_log.term_means(str(tmp_path), 50)
    assert terms == {0: {'loss': 30.0, 'student.loss_cls': 60.0}, 50: {'loss': 70.0, 'student.loss_cls': 140.0}}
    with pytest.raises(ValueError, match='at least 1'):
        train_log.term_means(str(tmp_path), 0)


@pytest.mark.parametrize('kind', ['pkd', 'cwd', 'fitnet'])
def test_overhead_baselines_bridge_a_narrower_student_neck(kind):
    """RTMDet-tiny (96 channels) <- RTMDet-s (128): MMRazor's baselines read the student's levels through
    a connector to the teacher's channels, one per level (FitNet 3x3, PKD / CWD 1x1); equal widths need
    none for PKD / CWD."""
    import overhead
    distiller = overhead.fpn_losses(kind, 3, 96, 128)
    assert sorted(distiller['connectors']) == [f'{kind}{i}' for i in range(3)]
    for i, conn in enumerate(distiller['connectors'].values()):
        assert (conn['in_channel'], conn['out_channel'], conn['kernel_size']) == (96, 128, 3 if kind == 'fitnet' else 1)
        mapping = distiller['loss_forward_mappings'][f'loss_{kind}_fpn{i}']
        assert next(iter(mapping.values()))['connector'] == f'{kind}{i}'
    if kind != 'fitnet':
        assert overhead.fpn_losses(kind, 3, 256, 256)['connectors'] == {}
    with pytest.raises(SystemExit, match='no demo detectors'):
        overhead.main(['--family', 'rtmdet', '--pair', 'demo'])


@pytest.mark.parametrize('family, levels', [('rtmdet', 3), ('gfl', 5), ('fcos', 5), ('atss', 5)])
def test_efficacy_baselines_of_the_later_demo_families(tmp_path, family, levels):
    """RTMDet's CSPNeXtPAFPN has no num_outs: MMRazor's baselines take one term per neck input level;
    PKD keeps 4 levels only for the Faster R-CNN / RetinaNet demos it was published on."""
    import efficacy
    from mmengine.config import Config
    from mmrazor.registry import MODELS
    for method in ('pkd', 'cwd'):
        cfg = Config.fromfile(efficacy.method_config(family, method, None, str(tmp_path / f'{method}.py')))
        assert len(cfg.model.distiller.distill_losses) == levels
        MODELS.build(cfg.model)
    cfg = Config.fromfile(efficacy.method_config(family, 'fcfd_fpn', 'teacher.pth', str(tmp_path / 'fcfd.py')))
    assert cfg.model.type == 'FCFDDistill' and cfg.model.teacher_ckpt == 'teacher.pth'


def test_efficacy_cross_family_demo_shares_the_fcos_teacher_and_the_retinanet_student_runs(tmp_path):
    """``--family fcos_retina``: MMRazor's PKD on 4 levels (its FCOS -> RetinaNet config inherits the
    RetinaNet one), CWD on 5; FCFD builds the cross-family pair with path st only; the teacher and
    the no-KD runs are those of the FCOS and RetinaNet families."""
    import efficacy
    from mmengine.config import Config
    from mmrazor.registry import MODELS
    for method, levels in (('pkd', 4), ('cwd', 5)):
        cfg = Config.fromfile(efficacy.method_config('fcos_retina', method, None, str(tmp_path / f'{method}.py')))
        assert len(cfg.model.distiller.distill_losses) == levels
    cfg = Config.fromfile(efficacy.method_config('fcos_retina', 'fcfd_fpn', None, str(tmp_path / 'fcfd.py')))
    alg = MODELS.build(cfg.model)
    assert type(alg.head_adapter).__name__ == 'CrossFamilyHeadAdapter' and alg.fcfd_neck.paths == ('st',)
    assert (type(alg.teacher).__name__, type(alg.student).__name__) == ('FCOS', 'RetinaNet')
    assert efficacy.SHARED_RUNS['fcos_retina'] == dict(teacher='fcos', no_kd='retinanet')
    assert efficacy.FAMILY['fcos_retina']['teacher'] == efficacy.FAMILY['fcos']['teacher']
    assert efficacy.FAMILY['fcos_retina']['student'] == efficacy.FAMILY['retinanet']['student']


def test_overhead_steps_are_successive_iterations_so_stage_paths_are_redrawn():
    """The stage switch draws its hybrid paths from the iteration: the benchmark's steps must be
    successive iterations (as FCFDProgressHook sets them), not iteration 0 again and again."""
    import overhead
    s_path, t_path = overhead.DEMO['frcnn']
    student, teacher = overhead.detector_cfg(s_path), overhead.detector_cfg(t_path)
    model = overhead.build('fcfd_stages_1path', student, teacher, 'frcnn')
    assert model.fcfd_stages.num_paths == 1
    step = overhead.train_step(model, overhead.make_batch(model, 64, 1, 4))
    draws = []
    for _ in range(3):
        step()
        draws.append(model.fcfd_stages.draw(model._progress[1]))
    assert model._progress == (0, 2)
    assert draws == [model.fcfd_stages.draw(i) for i in range(3)] and len({str(d) for d in draws}) > 1


@pytest.mark.parametrize('method, check', [
    ('fcfd_app', lambda fcfd, model: list(fcfd['neck']['paths']) == []),
    ('fcfd_st', lambda fcfd, model: list(fcfd['neck']['paths']) == ['st']),
    ('fcfd_cwd_app', lambda fcfd, model: fcfd['neck']['appearance_loss']['type'] == 'ChannelWiseDivergence'),
    ('fcfd_v1', lambda fcfd, model: fcfd['neck']['bridge_init'] is None),
    ('fcfd_cwd', lambda fcfd, model: set(model['distiller']['distill_losses']) ==
     {f'loss_cwd_fpn{i}' for i in range(5)}),
])
def test_efficacy_fcfd_variants_write_what_they_name_and_build(tmp_path, method, check):
    """The diagnosis variants change only what their name says, keep the rest of the shipped setting,
    and build (FCFD + MMRazor's CWD beside it: the CWD terms on every neck level)."""
    import efficacy
    from mmengine.config import Config
    from mmrazor.registry import MODELS
    shipped = Config.fromfile(efficacy.method_config('gfl', 'fcfd_fpn', None, str(tmp_path / 'shipped.py'))).model
    model = Config.fromfile(efficacy.method_config('gfl', method, None, str(tmp_path / f'{method}.py'))).model
    fcfd = model.fcfd.to_dict()
    assert check(fcfd, model)
    assert fcfd['head'] == shipped.fcfd.head.to_dict()
    kept = {k: v for k, v in shipped.fcfd.to_dict().get('neck', {}).items() if k != 'paths'}
    assert {k: v for k, v in fcfd.get('neck', {}).items() if k in kept} == kept
    built = MODELS.build(model)
    if method == 'fcfd_app':
        assert built.fcfd_neck.paths == () and len(built.fcfd_neck.bridges_ts) == 0
    if method == 'fcfd_v1':  # the earlier dense setting: the plain appearance MSE, the bridges' own init
        assert built.fcfd_neck.bridge_init is None and type(built.fcfd_neck.appearance_loss).__name__ == 'L2Loss'


def test_efficacy_data_options_point_every_loader_at_the_split():
    import efficacy
    opts = dict(o.split('=', 1) for o in efficacy.data_options('/d/bench', 'test'))
    assert {opts[f'{d}.dataset.data_root'] for d in ('train_dataloader', 'val_dataloader', 'test_dataloader')} \
        == {'/d/bench/'}
    assert opts['val_evaluator.ann_file'] == '/d/bench/annotations/instances_val.json'
    assert opts['test_dataloader.dataset.ann_file'] == 'annotations/instances_test.json'
    assert opts['test_dataloader.dataset.data_prefix.img'] == 'test/'
    assert opts['test_evaluator.ann_file'] == '/d/bench/annotations/instances_test.json'


def test_efficacy_results_merge_by_method_and_restart_on_other_settings(tmp_path):
    import json

    import efficacy
    path = str(tmp_path / 'efficacy_gfl.json')
    header = dict(family='gfl', iters=600, data_root='data/fcfd_bench', teacher_ckpt='t.pth')
    first = efficacy.merge_results(path, header, {'no_kd': {0: dict(val=0.1, test=0.2), 1: dict(val=0.3, test=0.4)},
                                                  'cwd': {0: dict(val=0.5, test=0.6)}})
    json.dump(first, open(path, 'w'))
    second = efficacy.merge_results(path, header, {'cwd': {0: dict(val=0.7, test=0.8), 2: dict(val=0.9, test=1.0)}})
    assert second['bbox_mAP'] == {'no_kd': [0.1, 0.3], 'cwd': [0.7, 0.9]}
    assert second['bbox_mAP_heldout'] == {'no_kd': [0.2, 0.4], 'cwd': [0.8, 1.0]}
    assert second['seeds'] == {'no_kd': [0, 1], 'cwd': [0, 2]}
    json.dump(second, open(path, 'w'))
    other = efficacy.merge_results(path, dict(header, iters=1200), {'cwd': {0: dict(val=0.1, test=0.1)}})
    assert set(other['runs']) == {'cwd'}


def test_efficacy_function_gap_reads_the_tools_table(tmp_path):
    """A finished probe (``function_gap.json`` of tools/function_gap.py) is read, not run again, and
    the gaps land beside the mAPs in the merged JSON."""
    import json

    import efficacy
    wd = tmp_path / 'fcfd_fpn_seed0'
    (wd / 'function_gap').mkdir(parents=True)
    table = {'metrics': {'student': {'coco/bbox_mAP': 0.4}, 'teacher': {'coco/bbox_mAP': 0.5},
                         'hybrid_st': {'coco/bbox_mAP': 0.45}, 'hybrid_ts': {'coco/bbox_mAP': 0.3}},
             'gaps': {'hybrid_st': {'reference': 'teacher', 'coco/bbox_mAP': -0.05},
                      'hybrid_ts': {'reference': 'student', 'coco/bbox_mAP': -0.1}}}
    (wd / 'function_gap' / 'function_gap.json').write_text(json.dumps(table))
    gap = efficacy.function_gap('gfl', 'fcfd_fpn', 'cfg.py', str(wd), 600, 't.pth', 'data', 200, 1, reuse=True)
    assert gap == dict(student=0.4, teacher=0.5, st=-0.05, ts=-0.1)
    merged = efficacy.merge_results(str(tmp_path / 'e.json'), dict(family='gfl'),
                                    {'fcfd_fpn': {0: dict(val=0.4, test=0.41)}}, {'fcfd_fpn': {0: gap}})
    assert merged['function_gap'] == {'fcfd_fpn': {'0': gap}}


def test_fault_checks_cost_measures_images_annotations_and_checkpoint_writes(tmp_path):
    import fault_checks_cost
    result = fault_checks_cost.main(['--images', '3', '--ann-images', '40', '--ckpt-mb', '1', '--workers', '1',
                                     '--out', str(tmp_path)])
    assert json.loads((tmp_path / 'fault_checks_cost.json').read_text()) == result
    assert 100 < result['jpeg_640x480_kb'] < 250  # COCO-like files
    assert result['jpeg_cpu_ms_per_image'] > 0 and result['check_data_images_per_s'] > 0
    assert result['coco_train2017_cpu_minutes'] == pytest.approx(118287 * result['jpeg_cpu_ms_per_image'] / 6e4)
    assert result['annotations']['boxes'] == round(40 * 860001 / 118287)
    assert set(result['checkpoints']) == {'1MB_LocalBackend_s', '1MB_AtomicLocalBackend_s'}


def test_report_matrix_gives_one_row_per_family_with_the_best_student_in_bold(tmp_path):
    import report
    runs = {'no_kd': {'0': dict(val=0.30, test=0.28), '1': dict(val=0.34, test=0.30)},
            'cwd': {'0': dict(val=0.50, test=0.45)}, 'fcfd_fpn': {'0': dict(val=0.60, test=0.40)}}
    gap = {'fcfd_fpn': {'0': dict(student=0.6, teacher=0.7, st=-0.02, ts=0.005)}}
    path = tmp_path / 'efficacy_gfl.json'
    path.write_text(json.dumps(dict(family='gfl', iters=1200, teacher_bbox_mAP=dict(val=0.7, test=0.6), runs=runs,
                                    function_gap=gap)))
    val = report.efficacy_matrix([str(path)], 'val')
    assert val[0] == ('| family | iterations | teacher | no KD | MMRazor CWD | FCFD as shipped | '
                      'FCFD function gap `st` / `ts` |')
    assert val[1] == '|---|---|---|---|---|---|---|'
    assert val[2] == ('| gfl | 1200 / 2400 | 0.700 | 0.320 +- 0.028 (2: 0.300 / 0.340) | 0.500 (1 seed) | '
                      '**0.600 (1 seed)** | -0.020 / +0.005 |')
    test = report.efficacy_matrix([str(path)], 'test')  # the held-out split: CWD is best there
    assert test[2] == ('| gfl | 1200 / 2400 | 0.600 | 0.290 +- 0.014 (2: 0.280 / 0.300) | **0.450 (1 seed)** | '
                       '0.400 (1 seed) | -0.020 / +0.005 |')
    # the step costs of overhead.py beside each row: FCFD's x floor (PKD's / CWD's), '-' where untimed
    timed = dict(family='gfl', methods={m: dict(x_floor=x) for m, x in
                                        dict(pkd=0.93, cwd=1.05, fcfd_fpn=2.01).items()})
    other = dict(family='fcos', methods={})
    (tmp_path / 'o.json').write_text(json.dumps(dict(results=[timed, other])))
    frcnn = tmp_path / 'efficacy_frcnn.json'
    frcnn.write_text(json.dumps(dict(family='frcnn', iters=600, runs={'cwd': runs['cwd']})))
    both = report.efficacy_matrix([str(path), str(frcnn)], 'val', [str(tmp_path / 'o.json')])
    assert both[0].endswith('| FCFD step, x floor (PKD / CWD) | FCFD function gap `st` / `ts` |')
    assert both[2].endswith('| 2.01 (0.93 / 1.05) | -0.020 / +0.005 |')
    assert both[3] == '| frcnn | 600 / 1200 | - | - | **0.500 (1 seed)** | - | - | - |'


@pytest.mark.parametrize('family', ['tood', 'vfnet', 'ddod', 'autoassign', 'foveabox', 'centernet_update', 'paa',
                                    'atss', 'fcos_retina'])
def test_overhead_real_pairs_of_the_later_dense_families_build_and_step(family):
    """``overhead.py --pair real --family F --methods student pkd cwd fcfd_fpn``: the pair's configs,
    narrowed (tests/adapters/families.shrink), build and run one step of FCFD and of PKD."""
    import overhead
    from mmengine.logging import MessageHub

    from tests.adapters.families import shrink
    if family == 'paa':
        pytest.importorskip('sklearn', reason="PAA's own loss step needs scikit-learn")
    MessageHub.get_current_instance().update_info('epoch', 0)
    s_path, t_path = overhead.REAL[family]
    student, teacher = (shrink(overhead.detector_cfg(p)) for p in (s_path, t_path))
    if family == 'ddod':  # on 64x64 inputs the coarsest level is smaller than the deformable conv's kernel
        student.bbox_head.use_dcn = teacher.bbox_head.use_dcn = False
    for method in ('fcfd_fpn', 'pkd'):
        model = overhead.build(method, student, teacher, family)
        overhead.train_step(model, overhead.make_batch(model, 64, 2, overhead.num_classes(student, family)))()


def test_overhead_times_every_method_at_the_given_size_without_batch_augmentation():
    """The large-scale-jitter configs pad every batch to 1024 x 1024 (``BatchFixedSizePad``): the
    benchmark drops that, so a step is timed at ``--size``."""
    import overhead
    student = overhead.detector_cfg(overhead.REAL['solo'][1])
    assert 'batch_augments' not in student['data_preprocessor']
    from mmdet.registry import MODELS
    model = MODELS.build(copy.deepcopy(student))
    batch = overhead.make_batch(model, 64, 2, overhead.num_classes(student, 'solo'))
    assert batch['inputs'].shape[-2:] == (64, 64)
    assert all('masks' in s.gt_instances for s in batch['data_samples'])  # SOLO's own loss trains on masks


def test_overhead_one_class_families_get_label_0():
    import overhead
    student = overhead.detector_cfg(overhead.REAL['crowddet'][0])
    assert overhead.num_classes(student, 'crowddet') == 1
    assert overhead.num_classes(overhead.detector_cfg(overhead.REAL['rpn'][0]), 'rpn') == 1  # objectness
    from mmdet.registry import MODELS
    model = MODELS.build(copy.deepcopy(student))
    batch = overhead.make_batch(model, 64, 2, 1)
    assert all((s.gt_instances.labels == 0).all() for s in batch['data_samples'])


def test_efficacy_runs_each_family_at_its_instrument_schedule(tmp_path, monkeypatch):
    """Without ``--iters`` every family trains at its own schedule (teacher twice as long) in its own
    directory and results file; another schedule goes to ``<family>_i<iters>``, so the two never mix."""
    import efficacy
    data = tmp_path / 'data'
    (data / 'annotations').mkdir(parents=True)
    (data / 'annotations' / 'instances_test.json').write_text('{}')  # the data counts as drawn
    calls = []

    def fake_train_and_test(cfg, wd, iters, seed, data_root, extra, threads, reuse):
        calls.append((osp.relpath(wd, tmp_path / 'w'), iters))
        return dict(val=0.5, test=0.4)

    monkeypatch.setattr(efficacy, 'train_and_test', fake_train_and_test)
    assert efficacy.INSTRUMENT_ITERS['atss'] != efficacy.INSTRUMENT_ITERS['frcnn']
    common = ['--data-root', str(data), '--work-dir', str(tmp_path / 'w'), '--out', str(tmp_path / 'out'),
              '--methods', 'no_kd', '--seeds', '0']
    efficacy.main(['--family', 'frcnn', 'atss', *common])
    expected = set()
    for family in ('frcnn', 'atss'):
        n = efficacy.INSTRUMENT_ITERS[family]
        expected |= {(osp.join(family, 'teacher'), 2 * n), (osp.join(family, 'no_kd_seed0'), n)}
        assert json.load(open(tmp_path / 'out' / f'efficacy_{family}.json'))['iters'] == n
    assert set(calls) == expected
    calls.clear()
    efficacy.main(['--family', 'atss', '--iters', '300', *common])
    assert set(calls) == {(osp.join('atss_i300', 'teacher'), 600), (osp.join('atss_i300', 'no_kd_seed0'), 300)}
    assert json.load(open(tmp_path / 'out' / 'efficacy_atss_i300.json'))['iters'] == 300
    assert efficacy.schedule_name('atss', efficacy.INSTRUMENT_ITERS['atss']) == 'atss'


def test_benchmark_set_tables_in_the_readme_are_reports_current_output():
    """benchmarks/README.md's two benchmark-set tables are what its own report.py command prints from
    the results files: regenerate them (the command above the tables) whenever a results file changes."""
    import re

    import report
    text = (REPO / 'benchmarks' / 'README.md').read_text()
    cmd = re.search(r'python benchmarks/report\.py --matrix val (\S+) \\\n\s+--overhead (\S+)', text)
    assert cmd, 'the README names the report.py command of its tables'

    def expand(arg):
        head, alts, tail = re.fullmatch(r'(.*)\{(.*)\}(.*)', arg).groups()
        return [str(REPO / f'{head}{a}{tail}') for a in alts.split(',')]
    files, overhead = expand(cmd.group(1)), expand(cmd.group(2))
    for label, split in (('Val split (settings were chosen here):', 'val'),
                         ('Held-out split (nothing was chosen on it):', 'test')):
        start = text.index('| family |', text.index(label))
        shown = text[start:text.index('\n\n', start)].splitlines()
        assert shown == report.efficacy_matrix(files, split, overhead)[:-1], split


def test_frcnn_fcfd_cwd_coco_config_is_the_setting_the_benchmark_measured(tmp_path):
    """configs/fcfd_cwd_frcnn_r101_r50_coco.py ships what ``efficacy.py --methods fcfd_scale_cwd`` trained
    on the Faster R-CNN demo pair: the same FPN switch point (scale-free bridges and appearance term,
    the official paths and output losses) and the same MMRazor CWD terms beside it."""
    import efficacy
    from mmengine.config import Config
    bench = Config.fromfile(efficacy.method_config('frcnn', 'fcfd_scale_cwd', None, str(tmp_path / 'm.py'))).model
    coco = Config.fromfile(str(REPO / 'configs' / 'fcfd_cwd_frcnn_r101_r50_coco.py')).model
    assert bench.fcfd.to_dict() == coco.fcfd.to_dict()
    assert bench.distiller.to_dict() == dict(coco.distiller.to_dict(), connectors={})
