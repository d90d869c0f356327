"""The benchmark scripts: the overhead benchmark's 'no waste' breakdown runs and adds up, and the
efficacy script writes the configs it claims (the overhead controls reach FCFDDistill)."""
import json
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


@pytest.mark.parametrize('family, key, value', [('frcnn', 'consistency_rois', 32), ('retinanet', 'levels', (1, 2, 3, 4))])
def test_efficacy_fast_method_config_carries_the_overhead_controls(tmp_path, family, key, value):
    from mmengine.config import Config

    import efficacy
    path = efficacy.method_config(family, 'fcfd_fpn_fast', 'teacher.pth', str(tmp_path / 'fast.py'))
    fcfd = Config.fromfile(path).model.fcfd
    got = fcfd.tail.get(key, fcfd.neck.get(key))
    assert tuple(got) == value if isinstance(value, tuple) else got == value
    assert Config.fromfile(path).model.teacher_ckpt == 'teacher.pth'
