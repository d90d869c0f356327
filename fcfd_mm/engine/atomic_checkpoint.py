"""Checkpoints that cannot be half-written: ``AtomicCheckpointHook`` and the ``local_atomic`` file backend.

MMEngine 0.10 writes a checkpoint in place (``LocalBackend.put``: ``open(filename, 'wb')``), and its
``CheckpointHook`` deletes the oldest checkpoint it keeps (``max_keep_ckpts``) *before* it writes the
new one. A job killed (or a disk that fills) during the write therefore leaves a partial file under
the final name and, with ``max_keep_ckpts``, no complete checkpoint at all while ``last_checkpoint``
points at the deleted one.
"""
from __future__ import annotations

import os
import os.path as osp
import re
import secrets
from typing import List, Union

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook
from mmengine.registry import HOOKS

#: the name under which the backend is registered with ``mmengine.fileio.register_backend``
BACKEND = 'local_atomic'
#: the temporary files of :func:`write_atomically`: ``.<name>.<random>.part`` beside the final file
PART = re.compile(r'^\..+\.[A-Za-z0-9_]+\.part$')


def write_atomically(data: Union[bytes, str], path: str) -> None:
    """Write ``data`` to a temporary file in ``path``'s folder, flush it to disk, then rename it to
    ``path`` (``os.replace``, atomic on POSIX and Windows): ``path`` is either absent, its old
    content, or all of ``data``, whenever the process dies. The temporary file is removed when the
    write raises; a killed process leaves it behind (``.<name>.<random>.part``, removed by
    :class:`AtomicCheckpointHook` at the next start)."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{osp.basename(path)}.{secrets.token_hex(4)}.part')
    # created as open(path, 'wb') creates (mode 0o666 less the umask; tempfile.mkstemp would make it 0o600)
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        with open(tmp, 'wb') as f:
            f.write(data.encode('utf-8') if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())  # the data is on disk before the name points at it (power loss too)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


@register_backend(BACKEND)
class AtomicLocalBackend(LocalBackend):
    """MMEngine's ``LocalBackend`` whose ``put`` / ``put_text`` write through :func:`write_atomically`.
    Select it with ``backend_args=dict(backend='local_atomic')`` (what :class:`AtomicCheckpointHook`
    does for a local ``out_dir``)."""

    def put(self, obj: bytes, filepath) -> None:
        write_atomically(obj, str(filepath))

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        write_atomically(obj.encode(encoding), str(filepath))


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """MMEngine's ``CheckpointHook`` (same arguments) whose checkpoints cannot be half-written.

    * Each checkpoint (and ``best_*`` checkpoint) of a local ``out_dir`` is written to a temporary
      file in the same folder, flushed to disk and renamed (the ``local_atomic`` backend, used when
      ``backend_args`` is not set). A killed write leaves no file under the final name.
    * ``last_checkpoint`` is written the same way, after the checkpoint it names is complete.
    * With ``max_keep_ckpts``, the oldest checkpoint is deleted only once the new one is complete
      (MMEngine deletes it first), so for a moment ``max_keep_ckpts + 1`` files exist.
    * A save that raises (disk full, ``NonFiniteLossHook`` refusing non-finite weights) leaves
      ``last_ckpt`` / ``keep_ckpt_ids`` in the message hub as they were before it.
    * Temporary files left by a killed save (``.iter_8.pth.<random>.part``) are removed at the next
      start, with a log line.

    Written by hand because MMEngine's ``CheckpointHook`` deletes before it writes and writes
    ``last_checkpoint`` in place in one method (``_save_checkpoint_with_step``), which this hook
    replaces with the same steps in a safe order. Remote ``out_dir`` (``s3://``...) and a given
    ``backend_args`` / ``file_client_args`` keep MMEngine's writes.
    """

    def before_train(self, runner) -> None:
        out_dir = self.out_dir or runner.work_dir
        if self.backend_args is None and self.file_client_args is None and '://' not in str(out_dir):
            self.backend_args = dict(backend=BACKEND)
        super().before_train(runner)
        if is_main_process() and self.backend_args == dict(backend=BACKEND):
            self._remove_partial_files(runner, str(self.out_dir))

    @staticmethod
    def _remove_partial_files(runner, folder: str) -> None:
        if not osp.isdir(folder):
            return
        for name in sorted(n for n in os.listdir(folder) if PART.match(n) and '.pth.' in n):
            os.remove(osp.join(folder, name))
            runner.logger.warning(f'Removed {osp.join(folder, name)}: a checkpoint whose save was cut off '
                                  f'(the complete checkpoints are untouched).')

    def _steps_to_delete(self, runner, step: int) -> List[int]:
        """MMEngine's ``max_keep_ckpts`` bookkeeping (``keep_ckpt_ids``, also in the message hub so
        that a resumed run deletes the same files); returns the steps whose files go once ``step``'s
        checkpoint is written instead of deleting them here."""
        if self.max_keep_ckpts <= 0 or (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            return []
        dropped = [self.keep_ckpt_ids.popleft()] if len(self.keep_ckpt_ids) == self.max_keep_ckpts else []
        self.keep_ckpt_ids.append(step)
        runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        return dropped

    def _save_checkpoint_with_step(self, runner, step, meta):
        hub = runner.message_hub
        keeps = self.max_keep_ckpts > 0  # CheckpointHook has keep_ckpt_ids only then
        before = dict(last_ckpt=hub.get_info('last_ckpt'), hook_last_ckpt=self.last_ckpt,
                      keep_ckpt_ids=list(self.keep_ckpt_ids) if keeps else None)
        dropped = self._steps_to_delete(runner, step)
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        hub.update_info('last_ckpt', self.last_ckpt)  # before the save: the checkpoint's message hub names itself
        try:
            runner.save_checkpoint(self.out_dir, ckpt_filename, self.file_client_args,
                                   save_optimizer=self.save_optimizer, save_param_scheduler=self.save_param_scheduler,
                                   meta=meta, by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        except BaseException:
            self.last_ckpt = before['hook_last_ckpt']
            if keeps:
                self.keep_ckpt_ids.clear()
                self.keep_ckpt_ids.extend(before['keep_ckpt_ids'])
                hub.update_info('keep_ckpt_ids', before['keep_ckpt_ids'])
            if before['last_ckpt'] is None:
                hub.runtime_info.pop('last_ckpt', None)
            else:
                hub.update_info('last_ckpt', before['last_ckpt'])
            raise
        if not is_main_process():  # MMEngine saves on rank 0 only
            return
        write_atomically(str(self.last_ckpt), osp.join(runner.work_dir, 'last_checkpoint'))
        for old in dropped:
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # checkpoints saved by DeepSpeed are folders
                self.file_backend.rmtree(path)
