"""docs/watching_runs.md's TensorBoard snippet on the FCFD demo config: the event files hold every
FCFD loss term and the student's, the teacher's and the hybrid networks' metrics, with the values
MMEngine's LocalVisBackend wrote to scalars.json (an independent record of the same run)."""
import json
import re

import pytest

from tests.conftest import REPO, demo_data_options, run_tool

INSTALL = 'tensorboard is not installed: pip install -r requirements/tensorboard.txt'


def docs_snippet(text):
    """The config snippet of docs/watching_runs.md that contains ``text``."""
    blocks = re.findall(r'```python\n(.*?)```', (REPO / 'docs' / 'watching_runs.md').read_text(), re.S)
    return next(b for b in blocks if text in b)


@pytest.mark.slow
def test_a_demo_run_with_the_tensorboard_backend_writes_the_fcfd_terms(tiny_demo_data, tmp_path):
    pytest.importorskip('tensorboard', reason=INSTALL)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    cfg = tmp_path / 'fcfd_frcnn_demo_tensorboard.py'
    cfg.write_text(f"_base_ = '{REPO / 'configs' / 'demo' / 'fcfd_frcnn_demo.py'}'\n" +
                   docs_snippet('TensorboardVisBackend') + docs_snippet('log_metric_by_epoch=False'))
    work = tmp_path / 'work'
    run_tool(['python', 'tools/train.py', str(cfg), '--work-dir', str(work), '--no-teacher-check', '--cfg-options',
              'model.teacher_ckpt=None', 'train_cfg.max_iters=2',
              'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2', 'train_dataloader.batch_size=2',
              'default_hooks.logger.interval=1',
              *demo_data_options(tiny_demo_data)])
    (scalars_file,) = work.glob('*/vis_data/scalars.json')
    records = [json.loads(line) for line in scalars_file.read_text().splitlines()]
    events = EventAccumulator(str(scalars_file.parent))
    events.Reload()
    tags = set(events.Tags()['scalars'])

    train = [r for r in records if 'loss' in r]
    fcfd = {k for k in train[0] if k.startswith('distill.loss_fcfd_')}
    # the demo's FPN settings: appearance + (cls, reg) x paths (s, st, ts)
    assert fcfd == {'distill.loss_fcfd_app'} | {f'distill.loss_fcfd_{o}_{p}' for o in ('cls', 'reg')
                                                for p in ('s', 'st', 'ts')}
    assert [r['step'] for r in train] == [1, 2]
    for key in sorted(fcfd) + ['loss', 'student.loss_cls', 'lr']:
        logged = [(e.step, e.value) for e in events.Scalars(key)]
        assert logged == [(r['step'], pytest.approx(r[key], rel=1e-6, abs=1e-12)) for r in train], key

    (val,) = [r for r in records if 'coco/bbox_mAP' in r]  # one validation, after iteration 2
    assert val['step'] == 2  # log_metric_by_epoch=False: at the iteration, not at epoch 0
    metrics = ['coco/bbox_mAP', 'teacher.coco/bbox_mAP', 'hybrid_st.coco/bbox_mAP', 'hybrid_ts.coco/bbox_mAP']
    assert set(metrics) <= set(val) and set(metrics) <= tags
    for key in metrics:
        assert [(e.step, e.value) for e in events.Scalars(key)] == [(2, pytest.approx(val[key], abs=1e-6))], key


def test_the_wandb_snippet_builds_a_visualizer_config():
    """The W&B snippet is a valid config: LocalVisBackend kept, WandbVisBackend with init_kwargs."""
    from mmengine.config import Config
    cfg = Config.fromstring(docs_snippet('WandbVisBackend'), '.py')
    types = [b['type'] for b in cfg.visualizer.vis_backends]
    assert types == ['LocalVisBackend', 'WandbVisBackend'] and 'project' in cfg.visualizer.vis_backends[1].init_kwargs
