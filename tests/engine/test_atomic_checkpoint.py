"""AtomicCheckpointHook and the local_atomic backend: a save killed half-way leaves no file under the
final name, the previous checkpoint stays and last_checkpoint points at a complete file (MMEngine's
CheckpointHook, under the same fault, loses both)."""
import io
import os
import signal
import subprocess
import sys
import textwrap

import pytest
import torch
from mmengine.fileio import LocalBackend, get_file_backend

from fcfd_mm.engine import AtomicCheckpointHook, AtomicLocalBackend, write_atomically
from fcfd_mm.utils.checkpoints import checkpoint_problem
from tests.conftest import REPO
from tests.tiny_models import toy_runner


def _parts(folder):
    return sorted(n for n in os.listdir(folder) if n.endswith('.part'))


def test_write_atomically_writes_all_or_nothing(tmp_path, monkeypatch):
    path = tmp_path / 'sub' / 'file.bin'
    write_atomically(b'complete', str(path))
    assert path.read_bytes() == b'complete' and _parts(path.parent) == []
    plain = tmp_path / 'plain.bin'
    LocalBackend().put(b'x', str(plain))
    assert path.stat().st_mode == plain.stat().st_mode  # the permissions of MMEngine's in-place write

    def disk_full(fd):  # the data went out, the flush to disk fails (ENOSPC, a quota, NFS)
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr('fcfd_mm.engine.atomic_checkpoint.os.fsync', disk_full)
    with pytest.raises(OSError, match='No space left'):
        write_atomically(b'x' * 10_000, str(path))
    assert path.read_bytes() == b'complete' and _parts(path.parent) == []  # old content, no temporary file


def test_the_backend_is_registered_and_writes_atomically(tmp_path):
    backend = get_file_backend(str(tmp_path), backend_args=dict(backend='local_atomic'))
    assert type(backend) is AtomicLocalBackend and isinstance(backend, LocalBackend)
    backend.put(b'abc', str(tmp_path / 'a.pth'))
    backend.put_text('iter_2.pth', str(tmp_path / 'last'))
    assert (tmp_path / 'a.pth').read_bytes() == b'abc' and (tmp_path / 'last').read_text() == 'iter_2.pth'
    assert _parts(tmp_path) == []


def _torch_save_dying_on_call(n):
    """``torch.save`` that, on its ``n``-th call, writes the first half of the file and raises, as a job
    killed during its save does."""
    real, calls = torch.save, []

    def save(obj, f, *args, **kwargs):
        calls.append(1)
        if len(calls) < n:
            return real(obj, f, *args, **kwargs)
        buffer = io.BytesIO()
        real(obj, buffer, *args, **kwargs)
        data = buffer.getvalue()
        if hasattr(f, 'write'):
            f.write(data[:len(data) // 2])
        else:
            with open(f, 'wb') as out:
                out.write(data[:len(data) // 2])
        raise KeyboardInterrupt('killed during torch.save')
    return save


@pytest.mark.parametrize('hook_type', ['AtomicCheckpointHook', 'CheckpointHook'])
def test_a_save_killed_half_way_keeps_the_last_complete_checkpoint(hook_type, tmp_path, monkeypatch):
    runner = toy_runner(tmp_path, max_iters=4, checkpoint=dict(type=hook_type, by_epoch=False, interval=2,
                                                               max_keep_ckpts=1))
    monkeypatch.setattr(torch, 'save', _torch_save_dying_on_call(2))  # iteration 2 saves, iteration 4 dies
    with pytest.raises(KeyboardInterrupt):
        runner.train()
    pointed = (tmp_path / 'last_checkpoint').read_text()
    assert not (tmp_path / 'iter_4.pth').exists()  # the save of iteration 4 wrote nothing under its name
    if hook_type == 'AtomicCheckpointHook':
        assert pointed == str(tmp_path / 'iter_2.pth') and checkpoint_problem(pointed) is None
        assert runner.message_hub.get_info('last_ckpt') == pointed  # what NonFiniteLossHook would report
        assert _parts(tmp_path) == []
    else:  # MMEngine's: the previous checkpoint is deleted before the save, last_checkpoint names it
        assert pointed == str(tmp_path / 'iter_2.pth') and not os.path.exists(pointed)


def test_the_hook_keeps_max_keep_ckpts_and_resumes_like_mmengines(tmp_path):
    runner = toy_runner(tmp_path, max_iters=6, checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False,
                                                               interval=2, max_keep_ckpts=2))
    runner.train()
    assert sorted(n for n in os.listdir(tmp_path) if n.endswith('.pth')) == ['iter_4.pth', 'iter_6.pth']
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'iter_6.pth')
    resumed = toy_runner(tmp_path, max_iters=8, resume=True, checkpoint=dict(
        type='AtomicCheckpointHook', by_epoch=False, interval=2, max_keep_ckpts=2))
    resumed.train()
    assert resumed.iter == 8
    assert sorted(n for n in os.listdir(tmp_path) if n.endswith('.pth')) == ['iter_6.pth', 'iter_8.pth']


def test_given_backend_args_are_kept_and_a_local_out_dir_gets_the_atomic_backend(tmp_path):
    hook = AtomicCheckpointHook(interval=1, backend_args=dict(backend='local'))
    runner = toy_runner(tmp_path)
    hook.before_train(runner)
    assert hook.backend_args == dict(backend='local')  # a given backend is kept
    hook = AtomicCheckpointHook(interval=1)
    hook.before_train(runner)
    assert hook.backend_args == dict(backend='local_atomic')


KILL = textwrap.dedent('''
    import builtins, importlib.util, os, signal
    from mmengine.fileio import get_file_backend
    # fcfd_mm.engine.atomic_checkpoint alone (registers local_atomic), not the whole package: a faster start
    spec = importlib.util.spec_from_file_location('atomic_checkpoint', {module!r})
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    real_open = builtins.open

    class DiesMidWrite:
        def __init__(self, f):
            self.f = f
        def write(self, data):  # half the bytes reach the disk, then the job is killed (SIGKILL: no cleanup)
            self.f.write(data[:len(data) // 2])
            self.f.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            self.f.close()
        def __getattr__(self, name):
            return getattr(self.f, name)

    def dying_open(path, mode='r', *args, **kwargs):
        f = real_open(path, mode, *args, **kwargs)
        return DiesMidWrite(f) if 'w' in mode and 'b' in mode else f
    builtins.open = dying_open
    get_file_backend({path!r}, backend_args=dict(backend={backend!r})).put(b'N' * 1_000_000, {path!r})
''')


@pytest.mark.parametrize('backend', ['local_atomic', 'local'])
def test_a_killed_process_leaves_no_partial_file_under_the_final_name(backend, tmp_path):
    path = tmp_path / 'iter_8.pth'
    module = str(REPO / 'fcfd_mm' / 'engine' / 'atomic_checkpoint.py')
    res = subprocess.run([sys.executable, '-c', KILL.format(module=module, path=str(path), backend=backend)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == -signal.SIGKILL, res.stderr[-2000:]
    if backend == 'local':  # MMEngine's LocalBackend writes in place: half a file under the final name
        assert path.stat().st_size == 500_000
        return
    assert not path.exists() and len(_parts(tmp_path)) == 1  # the killed write's temporary file

    class Logged:
        def __init__(self):
            self.lines = []
            self.logger = self

        def warning(self, msg):
            self.lines.append(msg)
    runner = Logged()
    AtomicCheckpointHook._remove_partial_files(runner, str(tmp_path))  # what the next start does
    assert _parts(tmp_path) == [] and 'cut off' in runner.lines[0]
