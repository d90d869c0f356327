#!/usr/bin/env python
"""Build and install mmcv (with compiled ops) against the torch installed in this environment.

Why by hand: PyPI has only an sdist for mmcv 2.x, its ``setup.py`` hard-codes ``-std=c++17``
while torch >= 2.14 headers require C++20, it silently skips the ops when built in pip's
isolated environment, and pip's wheel cache is keyed on the sdist alone, so a wheel built for
another torch is reused and fails at import (``undefined symbol: _ZN2at4_ops...``).

This script downloads the sdist from the package index, sets the C++ standard that the
installed torch's headers ask for, builds with ``--no-build-isolation --no-cache-dir``, caches
the wheel under a key that includes the torch version, installs it and checks ``mmcv.ops`` (on the GPU
too when building with ``FORCE_CUDA=1`` where torch sees one). A wheel built elsewhere can be carried
in at the top of the cache directory (``$FCFD_MMCV_CACHE/mmcv-<version>-*.whl``); it is used when
it passes the same check.

Usage: ``python tools/build_mmcv.py [--version 2.1.0] [--force]``
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

DEFAULT_FLAGS = '-DNDEBUG -g0 -O2'
CHECK_OPS = ('import torch; from mmcv.ops import nms, RoIAlign; '
             'b = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]]); '
             's = torch.tensor([0.9, 0.8]); '
             'assert nms(b, s, 0.5)[1].tolist() == [0]')
# the same ops on the GPU: a wheel built without FORCE_CUDA imports and runs on the CPU but lacks these
CHECK_CUDA_OPS = ('; assert nms(b.cuda(), s.cuda(), 0.5)[1].tolist() == [0]; '
                  "RoIAlign((2, 2))(torch.ones(1, 1, 4, 4, device='cuda'), torch.tensor([[0., 0., 0., 3., 3.]], "
                  "device='cuda'))")


def log(msg: str) -> None:
    print(f'[build_mmcv] {msg}', flush=True)


def run(cmd: list[str], **kw) -> None:
    log(' '.join(cmd))
    subprocess.run(cmd, check=True, **kw)


def ops_work(cuda: bool = False) -> bool:
    """True when ``mmcv.ops`` imports and runs against the installed torch (with ``cuda``: also on the GPU)."""
    res = subprocess.run([sys.executable, '-c', CHECK_OPS + (CHECK_CUDA_OPS if cuda else '')],
                         capture_output=True, text=True)
    if res.returncode != 0 and res.stderr:
        log('mmcv.ops check failed: ' + res.stderr.strip().splitlines()[-1])
    return res.returncode == 0


def installed_mmcv_version() -> str | None:
    res = subprocess.run([sys.executable, '-c', 'import importlib.metadata as m; print(m.version("mmcv"))'],
                         capture_output=True, text=True)
    return res.stdout.strip() if res.returncode == 0 else None


def cxx_standard_for_torch() -> str:
    """The C++ standard torch's headers demand, read from their ``#error`` guard.

    torch >= 2.14: ``ATen/ATen.h`` says ``C++20 or later compatible compiler is required``.
    Older torch asks for C++17, which is also mmcv 2.1.0's own setting.
    """
    import torch
    include = pathlib.Path(torch.__file__).parent / 'include'
    found = [17]
    for header in (include / 'ATen' / 'ATen.h', include / 'torch' / 'csrc' / 'api' / 'include' / 'torch' / 'all.h'):
        if header.is_file():
            found += [int(v) for v in re.findall(r'C\+\+(\d\d) or later compatible compiler is required',
                                                 header.read_text(errors='ignore'))]
    return f'c++{max(found)}'


def cache_key(version: str, flags: str, force_cuda: str) -> str:
    import torch
    parts = [f'mmcv{version}', f'torch{torch.__version__}', f'py{sys.version_info[0]}{sys.version_info[1]}',
             f'cuda{torch.version.cuda if force_cuda == "1" else "none"}',
             os.environ.get('TORCH_CUDA_ARCH_LIST', '') if force_cuda == '1' else '', flags]
    return hashlib.sha1('|'.join(parts).encode()).hexdigest()[:16]


def build_wheel(version: str, std: str, flags: str, force_cuda: str, out_dir: pathlib.Path) -> pathlib.Path:
    """Build the mmcv wheel from its sdist and copy it into ``out_dir``; returns the wheel path."""
    with tempfile.TemporaryDirectory(prefix='mmcv-build-') as tmp:
        tmp = pathlib.Path(tmp)
        # --no-build-isolation: metadata generation imports torch and pkg_resources.
        run([sys.executable, '-m', 'pip', 'download', '--no-deps', '--no-binary', ':all:',
             '--no-build-isolation', '--no-cache-dir', '-d', str(tmp), f'mmcv=={version}'])
        sdist = next(tmp.glob(f'mmcv-{version}.tar.gz'))
        with tarfile.open(sdist) as tar:
            tar.extractall(tmp, filter='data')
        src = tmp / f'mmcv-{version}'
        setup_py = src / 'setup.py'
        text = setup_py.read_text()
        patched, n = re.subn(r"-std=c\+\+1[147]", f'-std={std}', text)
        log(f'setup.py: {n} C++ standard flag(s) set to -std={std}')
        setup_py.write_text(patched)
        env = dict(os.environ, MMCV_WITH_OPS='1', FORCE_CUDA=force_cuda,
                   MAX_JOBS=os.environ.get('MAX_JOBS', str(os.cpu_count() or 1)),
                   CFLAGS=flags, CXXFLAGS=flags)
        run([sys.executable, '-m', 'pip', 'wheel', '--no-build-isolation', '--no-deps', '--no-cache-dir',
             '-w', str(tmp / 'dist'), str(src)], env=env)
        wheel = next((tmp / 'dist').glob('mmcv-*.whl'))
        out_dir.mkdir(parents=True, exist_ok=True)
        out = out_dir / wheel.name
        shutil.copy(wheel, out)
    return out


def install_wheel(wheel: pathlib.Path) -> None:
    # mmengine pinned here so mmcv's own dependency on it does not pull another release.
    run([sys.executable, '-m', 'pip', 'install', '--force-reinstall', '--no-deps', str(wheel)])
    deps = ['addict', 'mmengine==0.10.7', 'numpy', 'packaging', 'Pillow', 'pyyaml', 'yapf']
    if importlib.util.find_spec('cv2') is None:  # any OpenCV build serves mmcv (e.g. opencv-python-headless)
        deps.append('opencv-python')
    run([sys.executable, '-m', 'pip', 'install', *deps])


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--version', default='2.1.0', help='mmcv version (mmdet 3.3 and mmrazor 1.0 accept 2.0.0-2.1.0)')
    p.add_argument('--force', action='store_true', help='rebuild even if a working mmcv is installed or cached')
    return p.parse_args(argv)


def main() -> int:
    args = parse_args()
    try:
        import torch  # noqa: F401
    except ImportError:
        log('torch is not installed: install requirements/build.txt first (tools/install.sh does).')
        return 1
    try:
        import pkg_resources  # noqa: F401
    except ImportError:
        log('pkg_resources is missing (setuptools >= 82): pip install "setuptools<82" first.')
        return 1
    flags = os.environ.get('MMCV_CFLAGS', DEFAULT_FLAGS)
    force_cuda = os.environ.get('FORCE_CUDA', '1' if torch.cuda.is_available() else '0')
    cuda = force_cuda == '1' and torch.cuda.is_available()  # then the ops must also run on the GPU
    if not args.force and installed_mmcv_version() == args.version and ops_work(cuda):
        log(f'mmcv {args.version} with working ops is already installed; nothing to do (--force rebuilds).')
        return 0

    cache_dir = pathlib.Path(os.environ.get('FCFD_MMCV_CACHE', pathlib.Path.home() / '.cache' / 'fcfd_mm' / 'wheels'))
    key_dir = cache_dir / cache_key(args.version, flags, force_cuda)
    # a wheel cached by an earlier build (under its key), else one carried in by hand (at the top of the cache)
    pattern = f'mmcv-{args.version}-*.whl'
    candidates = sorted(key_dir.glob(pattern)) + sorted(cache_dir.glob(pattern))
    for cached in candidates if not args.force else []:
        log(f'using cached wheel {cached}')
        install_wheel(cached)
        if ops_work(cuda):
            return 0
        log(f'cached wheel {cached} does not work with this torch{" on the GPU" if cuda else ""}; skipping it')
        if cached.parent == key_dir:
            cached.unlink()

    std = cxx_standard_for_torch()
    log(f'building mmcv {args.version} for torch {torch.__version__} with -std={std}, FORCE_CUDA={force_cuda}, '
        f'flags "{flags}" (about 8 minutes on 2 CPU cores)')
    cached = build_wheel(args.version, std, flags, force_cuda, key_dir)
    install_wheel(cached)
    if not ops_work(cuda):
        log('mmcv built but mmcv.ops does not work; see the error above.')
        return 1
    log(f'mmcv {args.version} installed and mmcv.ops works; wheel cached at {cached}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
