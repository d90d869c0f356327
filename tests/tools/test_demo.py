"""tools/demo.py: its table (a demo detector that detects nothing is reported as mAP 0, a missing
metric reads 'n/a'; the table is always printed) and each stage's progress display (a bar that
follows the stage's log; a failing stage prints the log's tail)."""
import json
import os
import sys

import pytest


def fake_runner(commands, test_metrics):
    """demo.run stand-in: records each command; tools/test.py "scores" ``test_metrics`` and
    tools/function_gap.py writes a table (student 0.5, teacher 0.7, st 0.6, ts 0.4)."""
    def run(cmd, log_file, **progress):
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


# ------------------------------------------------------------------ progress display
#: lines of a demo student's log (tools/train.py, logger interval 1, 4 iterations): mmengine's format
TRAIN_LOG = '\n'.join(
    f'12/06 12:30:0{i + 2} - mmengine - INFO - Iter(train) [{i}/4]  lr: 4.0000e-04  '
    f'eta: {eta}  time: {t}  data_time: 0.0312  grad_norm: 2.1043  loss: {loss}  student.loss_rpn_cls: 0.6931  '
    f'student.loss_cls: 1.3921  student.acc: 25.0000  distill.loss_fcfd_cls_st: 0.0712'
    for i, eta, t, loss in ((1, '0:00:09', '3.1024', '2.9921'), (2, '0:00:04', '1.9512', '2.8810'),
                            (3, '0:00:01', '1.5001', '2.7432')))
TRAIN_LOG = '12/06 12:30:01 - mmengine - INFO - Checkpoints will be saved to /tmp/work.\n' + TRAIN_LOG
#: an epoch-based (classification) training log, epoch 3 of 30, 40 iterations per epoch
EPOCH_LOG = ('12/06 12:31:00 - mmengine - INFO - Epoch(train)  [3][20/40]  lr: 5.0000e-02  eta: 0:12:30  '
             'time: 0.0400  data_time: 0.0010  loss: 1.5000  student.loss: 1.2000\n'
             '12/06 12:31:01 - mmengine - INFO - Epoch(val) [3][10/10]  eta: 0:00:00  time: 0.0100  data_time: 0.0010')


def test_stage_progress_reads_iterations_time_left_and_total_loss():
    from tools.demo import StageProgress
    stage = StageProgress(total=4, unit='iterations')
    moved = [stage.feed(line) for line in TRAIN_LOG.splitlines()]
    assert moved == [False, True, True, True]
    assert (stage.completed, stage.total, stage.eta, stage.loss) == (3.0, 4, '0:00:01', 2.7432)  # not loss_cls
    assert stage.fields() == dict(count='3/4 iterations', eta='left 0:00:01', loss='loss 2.7432')
    stage.finish()
    assert stage.fields() == dict(count='4/4 iterations', eta='left 0:00:00', loss='loss 2.7432')


def test_stage_progress_counts_epochs_and_ignores_validation_lines():
    from tools.demo import StageProgress
    stage = StageProgress(total=30, unit='epochs')
    assert [stage.feed(line) for line in EPOCH_LOG.splitlines()] == [True, False]
    assert stage.completed == 2.5 and stage.eta == '0:12:30' and stage.loss == 1.5  # 2 epochs + 20 / 40
    days = StageProgress(total=None, unit='iterations')
    days.feed('Iter(train) [  50/90000]  lr: 2.0000e-02  eta: 2 days, 3:04:05  time: 1.2  loss: nan  x.loss: 1.0')
    assert (days.completed, days.total, days.eta) == (50.0, 90000, '2 days, 3:04:05')
    assert days.loss != days.loss  # nan: shown as such, not as the other term's 1.0
    assert stage.fields()['count'] == '2/30 epochs'


def test_stage_progress_of_an_evaluation_counts_batches():
    from tools.demo import StageProgress
    stage = StageProgress(unit='batches')
    assert stage.fields() == dict(count='', eta='', loss='')  # nothing known yet: no count, no loss
    assert not stage.feed(TRAIN_LOG.splitlines()[1])
    assert stage.feed('12/06 12:14:02 - mmengine - INFO - Iter(test) [ 20/500]    eta: 0:03:10  time: 0.4  '
                      'data_time: 0.01')
    assert stage.fields() == dict(count='20/500 batches', eta='left 0:03:10', loss='')


def test_log_follower_hands_out_whole_lines_only(tmp_path):
    from tools.demo import LogFollower
    log = tmp_path / 'x.log'
    follower = LogFollower(str(log))
    assert follower.new_lines() == []  # not created yet
    log.write_text('one\ntw')
    assert follower.new_lines() == ['one']
    with open(log, 'a') as f:
        f.write('o\rthree\n\nfour')
    assert follower.new_lines() == ['two', 'three']
    assert follower.rest() == ['four']


def recording_console():
    import io

    from rich.console import Console
    return Console(file=io.StringIO(), record=True, width=160, color_system=None)


def test_run_drives_the_bar_from_the_stages_log(tmp_path):
    """A stage that writes the recorded log line by line: the bar ends at 4/4 iterations with the
    last logged total loss and time left; the log's path is shown before the stage runs."""
    from tools.demo import run
    lines = TRAIN_LOG.splitlines() + [
        '12/06 12:30:06 - mmengine - INFO - Iter(train) [4/4]  lr: 4.0000e-04  eta: 0:00:00  '
        'time: 1.4000  data_time: 0.0280  grad_norm: 1.8000  loss: 2.6543  student.loss_cls: 1.2001']
    script = tmp_path / 'stage.py'
    script.write_text(f'import time\nfor line in {lines!r}:\n    print(line, flush=True)\n    time.sleep(0.1)\n')
    console = recording_console()
    log = tmp_path / 'stage.log'
    run([sys.executable, str(script)], str(log), label='student', total=4, poll=0.05, console=console)
    out = console.export_text()
    assert out.index(f'log: {log}') < out.index('student')
    bar = [ln for ln in out.splitlines() if ln.startswith('[demo] student')][-1]
    assert '4/4 iterations left 0:00:00 loss 2.6543' in bar, bar
    assert log.read_text().splitlines() == lines


def test_a_failing_stage_prints_the_tail_of_its_log(tmp_path):
    from tools.demo import TAIL_LINES, run
    console = recording_console()
    log = tmp_path / 'fail.log'
    cmd = [sys.executable, '-c', 'import sys\nfor i in range(50): print(f"line {i}")\nsys.exit("boom: no data")']
    with pytest.raises(SystemExit) as exc:
        run(cmd, str(log), label='teacher', total=10, poll=0.05, console=console)
    assert str(log) in str(exc.value) and 'failed (1)' in str(exc.value)
    out = console.export_text().splitlines()
    start = out.index(f'--- last {TAIL_LINES} lines of {log}')
    assert out[start + 1:start + TAIL_LINES + 1] == [f'line {i}' for i in range(50 - TAIL_LINES + 1, 50)] + \
        ['boom: no data']


@pytest.mark.slow
def test_the_bar_follows_a_real_training_run(tiny_demo_data, tmp_path, monkeypatch):
    """tools/train.py on the demo student, 3 iterations, logged at each: the bar ends at 3/3 with
    the total loss of the last iteration that MMEngine wrote to scalars.json."""
    from tests.conftest import demo_data_options
    from tools.demo import run
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    console, work = recording_console(), tmp_path / 'work'
    run([sys.executable, 'tools/train.py', 'configs/demo/faster-rcnn_demo_student.py', '--work-dir', str(work),
         '--cfg-options', 'train_cfg.max_iters=3', 'train_cfg.val_interval=4', 'default_hooks.checkpoint.interval=3',
         'train_dataloader.batch_size=2', 'default_hooks.logger.interval=1', *demo_data_options(tiny_demo_data)],
        str(tmp_path / 'student.log'), label='student', total=3, poll=0.2, console=console)
    (scalars,) = work.glob('*/vis_data/scalars.json')
    last = [r for r in map(json.loads, scalars.read_text().splitlines()) if 'loss' in r][-1]
    assert last['step'] == 3
    bar = [ln for ln in console.export_text().splitlines() if ln.startswith('[demo] student')][-1]
    assert f'3/3 iterations left 0:00:00 loss {last["loss"]:.4f}' in bar, bar
