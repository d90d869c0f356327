"""FCFDProgressHook hands the runner's epoch and iteration to the algorithm; without it the stage
switch points warn once and use epoch 0, iteration 0."""
from types import SimpleNamespace

from fcfd_mm.engine import FCFDProgressHook
from tests.tiny_models import batch, build_fcfd


class Recorder:
    def __init__(self):
        self.calls = []

    def set_progress(self, epoch, iteration):
        self.calls.append((epoch, iteration))


def test_the_hook_sets_the_progress_before_each_iteration():
    model = Recorder()
    hook = FCFDProgressHook()
    for it in (0, 1, 7):
        hook.before_train_iter(SimpleNamespace(model=model, epoch=2, iter=it), batch_idx=it)
    assert model.calls == [(2, 0), (2, 1), (2, 7)]
    hook.before_train_iter(SimpleNamespace(model=object(), epoch=0, iter=0), batch_idx=0)  # no set_progress: left alone


def test_the_algorithm_reads_the_progress_it_was_given(monkeypatch):
    """One T->S path per step: the teacher->student bridges a step uses are those of the path drawn
    for the iteration the hook handed over."""
    import fcfd_mm.algorithms.fcfd_distill as fd
    alg = build_fcfd('frcnn', dict(neck=None, stages=dict(num_paths=1, mode='ts', seed=3)))
    data = batch(alg)
    messages = []
    monkeypatch.setattr(fd, 'print_log', lambda msg, **kw: messages.append(msg) if 'FCFDProgressHook' in msg else None)
    for _ in range(2):
        alg.loss(data['inputs'], data['data_samples'])
    assert len(messages) == 1 and "custom_hooks=[dict(type='FCFDProgressHook')]" in messages[0]
    st = alg.fcfd_stages
    switched = set()
    for it in range(8):
        FCFDProgressHook().before_train_iter(SimpleNamespace(model=alg, epoch=0, iter=it), batch_idx=it)
        alg.loss(data['inputs'], data['data_samples'])
        (k, direction), = st.draw(it)
        unused = {id(b) for b in st.unused_bridges}
        used = {int(i) for i, b in st.bridges_ts.items() if id(b) not in unused}
        assert direction == 'ts' and used == set(st.read(k)), it
        switched.add(k)
    assert len(switched) > 1 and len(messages) == 1
