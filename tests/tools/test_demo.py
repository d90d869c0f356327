"""tools/demo.py's table: a demo detector that detects nothing is reported as mAP 0 (no crash),
and a missing metric reads 'n/a'; the table is always printed."""
import json
import os

import pytest


def fake_runner(commands, test_metrics):
    """demo.run stand-in: records each command; tools/test.py "scores" ``test_metrics`` and
    tools/function_gap.py writes a table (student 0.5, teacher 0.7, st 0.6, ts 0.4)."""
    def run(cmd, log_file):
        from tools.function_gap import gap_table
        commands.append(cmd)
        out = cmd[cmd.index('--work-dir') + 1] if '--work-dir' in cmd else None
        if 'tools/test.py' in cmd or 'tools/function_gap.py' in cmd:
            os.makedirs(out, exist_ok=True)
        if 'tools/test.py' in cmd:
            with open(os.path.join(out, 'test_metrics.json'), 'w') as fh:
                json.dump(test_metrics, fh)
        if 'tools/function_gap.py' in cmd:
            table = gap_table({'coco/bbox_mAP': 0.5, 'teacher.coco/bbox_mAP': 0.7,
                               'hybrid_st.coco/bbox_mAP': 0.6, 'hybrid_ts.coco/bbox_mAP': 0.4})
            with open(os.path.join(out, 'function_gap.json'), 'w') as fh:
                json.dump(table, fh)
        return 0.0
    return run


def test_demo_prints_its_table_when_a_detector_detects_nothing(tmp_path, monkeypatch, capsys):
    import tools.demo as demo
    commands = []
    monkeypatch.setattr(demo, 'run', fake_runner(commands, {}))  # every tools/test.py run "detected nothing"
    demo.main(['--family', 'retinanet', '--teacher-iters', '120', '--student-iters', '60',
               '--work-dir', str(tmp_path)])
    out = capsys.readouterr().out
    lines = [ln.split() for ln in out.splitlines() if ln.startswith(('teacher', 'student'))]
    assert [ln[:2] for ln in lines] == [['teacher', '0.000'], ['student', '0.000'], ['student+FCFD', '0.000']]
    assert 'Function gap: n/a' in out  # no function-gap run for a student that detects nothing
    assert not any('tools/function_gap.py' in c for c in commands)
    saved = json.loads((tmp_path / 'retinanet' / 'demo_results.json').read_text())
    assert [r['value'] for r in saved] == [0.0, 0.0, 0.0]


def test_results_table_shows_missing_values_as_na():
    from tools.demo import results_table
    table = results_table([('teacher', 0.5, 0.1), ('student', None, 0.2)], 'x', 'top-1 %')
    assert 'n/a' in table.splitlines()[-1] and '0.500' in table.splitlines()[-2]


def test_a_short_teacher_schedule_relaxes_only_the_teacher_checks_bar(tmp_path, monkeypatch):
    import tools.demo as demo
    commands = []
    monkeypatch.setattr(demo, 'run', fake_runner(commands, {'coco/bbox_mAP': 0.5}))
    fcfd_train = lambda: [c for c in commands if 'tools/train.py' in c and demo.CONFIGS['frcnn'][2] in c]  # noqa: E731
    demo.main(['--teacher-iters', '120', '--student-iters', '6', '--work-dir', str(tmp_path / 'short')])
    assert 'custom_hooks.0.min_value=0' in fcfd_train()[-1]
    ckpt = tmp_path / 'teacher.pth'
    ckpt.write_bytes(b'')  # a teacher the user trained: checked as usual
    demo.main(['--teacher-ckpt', str(ckpt), '--student-iters', '6', '--work-dir', str(tmp_path / 'given')])
    assert 'custom_hooks.0.min_value=0' not in fcfd_train()[-1]


@pytest.mark.parametrize('family', ['frcnn', 'retinanet', 'classification'])
def test_the_demos_teacher_check_override_addresses_the_teacher_check_hook(family, repo_root):
    """``custom_hooks.0.min_value=0`` relaxes FCFDTeacherCheckHook's bar: the hook is first in every
    FCFD demo config's custom_hooks."""
    from mmengine.config import Config

    import tools.demo as demo
    hooks = Config.fromfile(str(repo_root / demo.CONFIGS[family][2])).custom_hooks
    assert hooks[0]['type'] == 'FCFDTeacherCheckHook' and 'min_value' in hooks[0]


def test_demo_prints_the_function_gap_table_of_the_fcfd_student(tmp_path, monkeypatch, capsys):
    import tools.demo as demo
    commands = []
    monkeypatch.setattr(demo, 'run', fake_runner(commands, {'coco/bbox_mAP': 0.5}))
    demo.main(['--teacher-iters', '12', '--student-iters', '6', '--work-dir', str(tmp_path)])
    gap_cmd = next(c for c in commands if 'tools/function_gap.py' in c)
    assert gap_cmd[gap_cmd.index('tools/function_gap.py') + 1] == demo.CONFIGS['frcnn'][2]
    assert gap_cmd[gap_cmd.index('--metric') + 1] == 'coco/bbox_mAP'
    out = capsys.readouterr().out
    rows = {ln.split()[0]: ln.split()[1:] for ln in out.split('Function gap of the student+FCFD run')[1].splitlines()
            if ln.startswith(('student', 'teacher', 'hybrid'))}
    assert rows['hybrid_st'][:3] == ['0.6000', '-0.1000', 'teacher']
    assert rows['hybrid_ts'][:3] == ['0.4000', '-0.1000', 'student']
