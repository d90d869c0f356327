"""Is a checkpoint file complete, and which is the newest complete checkpoint in a work dir?

Read by ``ResumeCheckHook`` (before ``--resume`` loads anything) and by ``tools/train.py`` (an explicit
``--resume PATH`` that does not exist). A checkpoint written by ``torch.save`` is a zip archive whose
directory is written last and which stores a CRC-32 of every record; ``torch.load`` checks neither
the CRCs nor, until it reaches it, the end of the file, so a copy cut short fails deep inside torch
("PytorchStreamReader failed reading zip archive") and a damaged byte can load silently.
"""
from __future__ import annotations

import os
import re
import zipfile
from typing import Iterable, List, Optional, Tuple

#: MMEngine's ``CheckpointHook`` file names (``filename_tmpl`` ``epoch_{}.pth`` / ``iter_{}.pth``)
STEP_NAME = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


def checkpoint_problem(path: str) -> Optional[str]:
    """What is wrong with the checkpoint file ``path`` (one sentence), or None when it is complete:
    it exists and, when it is a zip archive (``torch.save``'s format), its directory is present and
    every record matches its CRC-32. Reads the whole file once (about 1 GB/s from the page cache);
    a legacy non-zip file is not looked into (None)."""
    if not os.path.isfile(path):
        return 'the file does not exist'
    size = os.path.getsize(path)
    if size == 0:
        return 'the file is empty (0 bytes): its write was cut off before any data'
    with open(path, 'rb') as f:
        is_zip = f.read(2) == b'PK'
    if not is_zip:
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        return (f'the file is cut short or damaged ({size:,} bytes): the zip directory that torch.save writes '
                f'last is missing or unreadable ({exc}), as a copy or a save cut off half-way leaves it')
    if damaged is not None:
        return f'the file is damaged ({size:,} bytes): its record {damaged!r} does not match its CRC-32'
    return None


def step_of(path: str) -> Optional[Tuple[str, int]]:
    """``('iter', 8)`` for ``.../iter_8.pth``, ``('epoch', 3)`` for ``epoch_3.pth``, else None."""
    m = STEP_NAME.match(os.path.basename(path))
    return (m.group(1), int(m.group(2))) if m else None


def training_checkpoints(folders: Iterable[str]) -> List[str]:
    """The ``epoch_N.pth`` / ``iter_N.pth`` files in ``folders`` (not recursive; each folder once),
    newest first: highest N, then latest modification time."""
    found = set()
    for folder in dict.fromkeys(os.path.abspath(f) for f in folders if f and os.path.isdir(f)):
        found.update(os.path.join(folder, n) for n in os.listdir(folder) if STEP_NAME.match(n))
    return sorted(found, key=lambda p: (step_of(p)[1], os.path.getmtime(p)), reverse=True)


def newest_complete_checkpoint(folders: Iterable[str], exclude: Iterable[str] = ()) -> Optional[str]:
    """The newest of :func:`training_checkpoints` that :func:`checkpoint_problem` finds complete,
    skipping the paths in ``exclude``; None when there is none. Checks the candidates newest first
    and stops at the first complete one."""
    skip = {os.path.abspath(p) for p in exclude}
    for path in training_checkpoints(folders):
        if os.path.abspath(path) not in skip and checkpoint_problem(path) is None:
            return path
    return None


def resume_advice(folders: Iterable[str], exclude: Iterable[str] = ()) -> str:
    """The sentence that ends every resume error: the newest complete checkpoint and the exact
    ``--resume PATH`` to use, or that there is none to resume from."""
    folders = [f for f in folders if f]
    newest = newest_complete_checkpoint(folders, exclude)
    where = ' or '.join(dict.fromkeys(folders)) or 'the work dir'
    if newest is None:
        return (f'No complete checkpoint is in {where}: start the run again without --resume (a new --work-dir '
                f'keeps the old files), or give the path of a complete checkpoint with --resume PATH.')
    kind, step = step_of(newest)
    unit = 'iteration' if kind == 'iter' else 'epoch'
    return (f'The newest complete checkpoint in {where} is {newest} ({unit} {step}); resume from it with\n'
            f'    --resume {newest}')
