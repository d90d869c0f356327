"""tools/demo.py's table: a demo detector that detects nothing is reported as mAP 0 (no crash),
and a missing metric reads 'n/a'; the table is always printed."""
import json
import os


def test_demo_prints_its_table_when_a_detector_detects_nothing(tmp_path, monkeypatch, capsys):
    import tools.demo as demo

    def fake_run(cmd, log_file):  # no training; every tools/test.py run "detected nothing"
        if 'tools/test.py' in cmd:
            out = cmd[cmd.index('--work-dir') + 1]
            os.makedirs(out, exist_ok=True)
            with open(os.path.join(out, 'test_metrics.json'), 'w') as fh:
                json.dump({}, fh)
        return 0.0

    monkeypatch.setattr(demo, 'run', fake_run)
    demo.main(['--family', 'retinanet', '--teacher-iters', '120', '--student-iters', '60',
               '--work-dir', str(tmp_path)])
    out = capsys.readouterr().out
    lines = [ln.split() for ln in out.splitlines() if ln.startswith(('teacher', 'student'))]
    assert [ln[:2] for ln in lines] == [['teacher', '0.000'], ['student', '0.000'], ['student+FCFD', '0.000']]
    saved = json.loads((tmp_path / 'retinanet' / 'demo_results.json').read_text())
    assert [r['value'] for r in saved] == [0.0, 0.0, 0.0]


def test_results_table_shows_missing_values_as_na():
    from tools.demo import results_table
    table = results_table([('teacher', 0.5, 0.1), ('student', None, 0.2)], 'x', 'top-1 %')
    assert 'n/a' in table.splitlines()[-1] and '0.500' in table.splitlines()[-2]


def test_a_short_teacher_schedule_relaxes_only_the_teacher_checks_bar(tmp_path, monkeypatch):
    import tools.demo as demo
    commands = []

    def fake_run(cmd, log_file):
        commands.append(cmd)
        if 'tools/test.py' in cmd:
            out = cmd[cmd.index('--work-dir') + 1]
            os.makedirs(out, exist_ok=True)
            with open(os.path.join(out, 'test_metrics.json'), 'w') as fh:
                json.dump({'coco/bbox_mAP': 0.5}, fh)
        return 0.0

    monkeypatch.setattr(demo, 'run', fake_run)
    fcfd_train = lambda: [c for c in commands if 'tools/train.py' in c and demo.CONFIGS['frcnn'][2] in c]  # noqa: E731
    demo.main(['--teacher-iters', '120', '--student-iters', '6', '--work-dir', str(tmp_path / 'short')])
    assert 'model.teacher_check.min_value=0' in fcfd_train()[-1]
    ckpt = tmp_path / 'teacher.pth'
    ckpt.write_bytes(b'')  # a teacher the user trained: checked as usual
    demo.main(['--teacher-ckpt', str(ckpt), '--student-iters', '6', '--work-dir', str(tmp_path / 'given')])
    assert 'model.teacher_check.min_value=0' not in fcfd_train()[-1]
