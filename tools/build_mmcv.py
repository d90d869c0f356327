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

With ``FORCE_CUDA=1`` it also builds the CUDA ops. The CUDA toolkit is taken from ``CUDA_HOME``
(or ``CUDA_PATH``), else from NVIDIA's pip packages installed next to torch
(``pip install "cuda-toolkit[nvcc,cccl]==13.0.3"`` puts nvcc, the CUDA headers, CCCL and libcudart under
``site-packages/nvidia/cu13``), else from the ``nvcc`` on ``PATH`` or ``/usr/local/cuda``. A GPU-less machine
must name the target GPUs in ``TORCH_CUDA_ARCH_LIST`` (e.g. ``9.0`` for H100/H200). mmcv 2.1.0's CUDA
sources compile unchanged with CUDA 13.0 (deprecation warnings only); what the CUDA build needs is around
them: nvcc gets the same ``-std`` as g++, torch's extension builder is pointed at a pip-installed toolkit
(it only looks at ``CUDA_HOME``, the ``nvcc`` on ``PATH`` and ``/usr/local/cuda``), and ``-lcudart`` gets
the unversioned ``libcudart.so`` that NVIDIA's pip wheels lack.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

DEFAULT_FLAGS = '-DNDEBUG -g0 -O2'
CHECK_OPS = ('import torch; from mmcv.ops import nms, RoIAlign; '
             'b = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]]); '
             's = torch.tensor([0.9, 0.8]); '
             'assert nms(b, s, 0.5)[1].tolist() == [0]')
# With FORCE_CUDA=1 the wheel must hold the CUDA ops (a CPU-only mmcv answers 'not available'), and where
# torch sees a GPU the CUDA kernels themselves must run.
CHECK_CUDA_OPS = ('; from mmcv.ops import get_compiling_cuda_version as v; '
                  'assert v() != "not available", "mmcv was built without its CUDA ops"; '
                  'assert not torch.cuda.is_available() or nms(b.cuda(), s.cuda(), 0.5)[1].tolist() == [0]; '
                  "torch.cuda.is_available() and RoIAlign((2, 2))(torch.ones(1, 1, 4, 4, device='cuda'), "
                  "torch.tensor([[0., 0., 0., 3., 3.]], device='cuda'))")


class BuildError(RuntimeError):
    """A problem with the build inputs; the message names the fix."""


def log(msg: str) -> None:
    print(f'[build_mmcv] {msg}', flush=True)


def run(cmd: list[str], **kw) -> None:
    log(' '.join(cmd))
    subprocess.run(cmd, check=True, **kw)


def ops_work(cuda: bool = False) -> bool:
    """True when ``mmcv.ops`` imports and runs against the installed torch (and holds CUDA ops if ``cuda``)."""
    code = CHECK_OPS + (CHECK_CUDA_OPS if cuda else '')
    res = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
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


def set_cxx_standard(setup_py: str, std: str) -> str:
    """Point every ``-std=c++1x`` flag of mmcv's ``setup.py`` (g++ and nvcc alike) at ``std``.

    nvcc compiles the ``.cu`` files against the same torch headers, so it needs the same standard
    (nvcc >= 12 accepts ``-std=c++20``). Idempotent; raises when ``setup.py`` names no standard at all.
    """
    patched, n = re.subn(r'-std=c\+\+1[147]\b', f'-std={std}', setup_py)
    if n == 0 and f'-std={std}' not in setup_py:
        raise BuildError(f'mmcv setup.py sets no -std=c++1x flag to replace with -std={std}; '
                         'this script knows mmcv 2.0-2.1, pass --version 2.1.0')
    return patched


# Files a CUDA build of mmcv reads, relative to the toolkit root (any one of the alternatives will do), with
# the pip package that provides them. The cuBLAS / cuSPARSE / cuSOLVER headers are included by torch's
# ATen/cuda/CUDAContext.h; torch's CUDA wheels already depend on those packages.
TOOLKIT_PARTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (('bin/nvcc', ), 'nvidia-cuda-nvcc'),
    (('nvvm/bin/cicc', ), 'nvidia-nvvm'),
    (('include/crt/host_config.h', ), 'nvidia-cuda-crt'),
    (('include/cuda_runtime.h', ), 'nvidia-cuda-runtime'),
    (('lib64/libcudart.so*', 'lib/libcudart.so*'), 'nvidia-cuda-runtime'),
    (('include/cccl/cub/cub.cuh', 'include/cub/cub.cuh'), 'nvidia-cuda-cccl'),
    (('include/cublas_v2.h', ), 'nvidia-cublas'),
    (('include/cusparse.h', ), 'nvidia-cusparse'),
    (('include/cusolverDn.h', ), 'nvidia-cusolver'),
)
DEFAULT_CUDA_HOME = pathlib.Path('/usr/local/cuda')  # where torch itself looks last


@dataclass(frozen=True)
class CudaToolkit:
    home: pathlib.Path
    version: str  # major.minor, from cuda_runtime_api.h
    source: str  # how it was found, for the log
    skipped: tuple[str, ...] = field(default=())  # candidates looked at first and why they were not used


def missing_toolkit_parts(home: pathlib.Path) -> list[str]:
    """The pip packages whose files ``home`` lacks (empty: a complete toolkit for mmcv's CUDA build)."""
    missing: list[str] = []
    for patterns, package in TOOLKIT_PARTS:
        if not any(any(home.glob(p)) for p in patterns) and package not in missing:
            missing.append(package)
    return missing


def toolkit_version(home: pathlib.Path) -> str | None:
    """``major.minor`` of the toolkit at ``home`` from ``CUDART_VERSION`` (13000 -> '13.0'), None if unknown."""
    header = home / 'include' / 'cuda_runtime_api.h'
    if not header.is_file():
        return None
    m = re.search(r'^#define\s+CUDART_VERSION\s+(\d+)', header.read_text(errors='ignore'), flags=re.MULTILINE)
    return f'{int(m[1]) // 1000}.{int(m[1]) % 1000 // 10}' if m else None


def pip_toolkit_homes(site_dirs: Sequence[pathlib.Path], cuda_version: str) -> list[pathlib.Path]:
    """``<site-packages>/nvidia/cu<major>`` folders that hold an nvcc (the layout of NVIDIA's CUDA >= 13 wheels)."""
    major = cuda_version.split('.')[0]
    homes = [pathlib.Path(d) / 'nvidia' / f'cu{major}' for d in site_dirs]
    return [h for h in homes if (h / 'bin' / 'nvcc').is_file()]


def toolkit_pip_spec(torch_cuda: str, meta_version: str | None) -> str:
    """The pip requirement that installs the toolkit pieces mmcv's build needs, matching torch's CUDA.

    torch's CUDA wheels pin NVIDIA's ``cuda-toolkit`` meta package; the same version with the ``nvcc``
    (nvcc, crt, nvvm, cudart) and ``cccl`` (thrust, cub) extras adds the compiler.
    """
    return f'cuda-toolkit[nvcc,cccl]=={meta_version or torch_cuda + ".*"}'


def find_cuda_toolkit(environ: Mapping[str, str], site_dirs: Sequence[pathlib.Path], path_nvcc: str | None,
                      torch_cuda: str, meta_version: str | None = None,
                      default_home: pathlib.Path | None = None) -> CudaToolkit:
    """The CUDA toolkit to build with: ``CUDA_HOME`` / ``CUDA_PATH`` if set (and then nothing else), else the
    first complete one of NVIDIA's pip packages in ``site_dirs``, the ``nvcc`` on ``PATH``, ``default_home``
    (``/usr/local/cuda``).

    The pip packages come first because they were installed into this environment next to torch and match
    its CUDA by construction; a system nvcc may be another release. A toolkit whose major version differs
    from torch's CUDA is not used (torch refuses to build with it). Raises ``BuildError`` naming the fix.
    """
    major = torch_cuda.split('.')[0]
    explicit = environ.get('CUDA_HOME') or environ.get('CUDA_PATH')
    if explicit:
        candidates = [(pathlib.Path(explicit), 'CUDA_HOME' if environ.get('CUDA_HOME') else 'CUDA_PATH')]
    else:
        candidates = [(h, 'NVIDIA pip packages') for h in pip_toolkit_homes(site_dirs, torch_cuda)]
        if path_nvcc:
            # torch takes the folder above nvcc's; resolve links so /usr/bin/nvcc -> /opt/cuda/bin/nvcc works
            candidates.append((pathlib.Path(os.path.realpath(path_nvcc)).parent.parent, f'nvcc on PATH ({path_nvcc})'))
        default_home = default_home or DEFAULT_CUDA_HOME
        candidates.append((default_home, str(default_home)))
    problems: list[str] = []
    seen: set[str] = set()
    for home, source in candidates:
        if os.path.realpath(home) in seen:
            continue
        seen.add(os.path.realpath(home))
        if not home.is_dir():
            problems.append(f'{source}: {home} does not exist')
            continue
        missing = missing_toolkit_parts(home)
        version = toolkit_version(home)
        if missing:
            problems.append(f'{source}: {home} lacks {", ".join(missing)}')
        elif version is None or version.split('.')[0] != major:
            problems.append(f'{source}: {home} is CUDA {version}, torch is built with CUDA {torch_cuda}')
        else:
            return CudaToolkit(home, version, source, tuple(problems))
    pip = f'pip install "{toolkit_pip_spec(torch_cuda, meta_version)}" into this environment'
    if explicit:
        fix = (f'point {candidates[0][1]} at a full CUDA {torch_cuda} toolkit, or unset it and {pip} '
               '(found automatically)')
    else:
        fix = f'{pip} (found automatically, no CUDA_HOME needed), or set CUDA_HOME to a full CUDA {torch_cuda} toolkit'
    raise BuildError(f'FORCE_CUDA=1 needs a CUDA {major}.x toolkit (torch is built with CUDA {torch_cuda}); none '
                     'usable:\n  ' + '\n  '.join(problems) + f'\nFix: {fix}.')


def cudart_link_target(home: pathlib.Path) -> pathlib.Path | None:
    """The versioned libcudart to expose as ``libcudart.so``, or None when the toolkit has one.

    torch links CUDA extensions with ``-lcudart``, which needs an unversioned ``libcudart.so``;
    NVIDIA's pip wheels ship only ``lib/libcudart.so.<major>``.
    """
    if any((home / lib / 'libcudart.so').exists() for lib in ('lib64', 'lib')):
        return None
    versioned = [p for lib in ('lib64', 'lib') for p in (home / lib).glob('libcudart.so.*')]
    return min(versioned, key=lambda p: len(p.name)) if versioned else None


def cuda_arch_list(environ: Mapping[str, str], capabilities: Sequence[tuple[int, int]]) -> str:
    """``TORCH_CUDA_ARCH_LIST`` if set, else the visible GPUs' compute capabilities (``'8.0;9.0+PTX'``, what
    torch itself would pick); with neither torch would fail, so raise naming the fix."""
    arch = environ.get('TORCH_CUDA_ARCH_LIST', '').strip()
    if arch and arch != 'native':
        return arch
    if capabilities:
        archs = sorted({f'{a}.{b}' for a, b in capabilities}, key=lambda s: tuple(int(x) for x in s.split('.')))
        return ';'.join(archs[:-1] + [archs[-1] + '+PTX'])
    raise BuildError('FORCE_CUDA=1 where torch sees no GPU: set TORCH_CUDA_ARCH_LIST to the GPUs the wheel is '
                     'for, e.g. TORCH_CUDA_ARCH_LIST="9.0" (H100/H200), "8.0" (A100), "8.0;8.6;8.9;9.0" '
                     '(each extra architecture adds compile time)')


def cuda_build_env(toolkit: CudaToolkit, link_dir: pathlib.Path, environ: Mapping[str, str]) -> dict[str, str]:
    """Environment for mmcv's setup.py: torch's cpp_extension reads ``CUDA_HOME``; nvcc goes first on
    ``PATH``; a folder holding a ``libcudart.so`` alias (see ``cudart_link_target``) joins ``LDFLAGS``."""
    env = {'CUDA_HOME': str(toolkit.home), 'PATH': f'{toolkit.home / "bin"}{os.pathsep}{environ.get("PATH", "")}'}
    target = cudart_link_target(toolkit.home)
    if target is not None:
        link_dir.mkdir(parents=True, exist_ok=True)
        alias = link_dir / 'libcudart.so'
        if alias.is_symlink() or alias.exists():
            alias.unlink()
        alias.symlink_to(target)
        env['LDFLAGS'] = f'{environ.get("LDFLAGS", "")} -L{link_dir}'.strip()
    return env


def cache_key(version: str, flags: str, force_cuda: str) -> str:
    import torch
    parts = [f'mmcv{version}', f'torch{torch.__version__}', f'py{sys.version_info[0]}{sys.version_info[1]}',
             f'cuda{torch.version.cuda if force_cuda == "1" else "none"}',
             os.environ.get('TORCH_CUDA_ARCH_LIST', '') if force_cuda == '1' else '', flags]
    return hashlib.sha1('|'.join(parts).encode()).hexdigest()[:16]


def build_wheel(version: str, std: str, flags: str, force_cuda: str, out_dir: pathlib.Path,
                toolkit: CudaToolkit | None = None) -> pathlib.Path:
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
        setup_py.write_text(set_cxx_standard(setup_py.read_text(), std))
        log(f'setup.py: C++ standard set to -std={std} (g++ and nvcc)')
        env = dict(os.environ, MMCV_WITH_OPS='1', FORCE_CUDA=force_cuda,
                   MAX_JOBS=os.environ.get('MAX_JOBS', str(os.cpu_count() or 1)),
                   CFLAGS=flags, CXXFLAGS=flags)
        if toolkit is not None:
            env.update(cuda_build_env(toolkit, tmp / 'cuda-link', os.environ))
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


def site_dirs() -> list[pathlib.Path]:
    """The import path's folders (site-packages of this environment first), where pip puts ``nvidia/``."""
    return [pathlib.Path(p) for p in sys.path if p and (pathlib.Path(p) / 'nvidia').is_dir()]


def installed_version(dist: str) -> str | None:
    import importlib.metadata
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def set_cuda_target(torch) -> None:
    """Check torch is a CUDA build and export the target architectures as ``TORCH_CUDA_ARCH_LIST`` (so the
    cache key names them). Raises ``BuildError`` naming the fix."""
    if torch.version.cuda is None:
        raise BuildError(f'FORCE_CUDA=1 but torch {torch.__version__} is a CPU-only build: install a CUDA build '
                         'of torch (the pinned torch==2.14.1 from PyPI is one) or unset FORCE_CUDA')
    caps = [torch.cuda.get_device_capability(i) for i in range(torch.cuda.device_count())]
    os.environ['TORCH_CUDA_ARCH_LIST'] = cuda_arch_list(os.environ, caps)


def cuda_toolkit_here(torch) -> CudaToolkit:
    """The toolkit ``find_cuda_toolkit`` picks in this environment, logged."""
    toolkit = find_cuda_toolkit(os.environ, site_dirs(), shutil.which('nvcc'), torch.version.cuda,
                                installed_version('cuda-toolkit'))
    for skipped in toolkit.skipped:
        log(f'not using {skipped}')
    log(f'CUDA {toolkit.version} toolkit from {toolkit.source}: {toolkit.home}; '
        f'TORCH_CUDA_ARCH_LIST={os.environ["TORCH_CUDA_ARCH_LIST"]}')
    if toolkit.version != torch.version.cuda:
        log(f'note: toolkit CUDA {toolkit.version}, torch CUDA {torch.version.cuda} (same major version: works)')
    return toolkit


def install(version: str, force: bool, torch) -> int:
    """Install mmcv ``version``: keep a working one, else a cached wheel, else build one. Returns the exit code."""
    force_cuda = os.environ.get('FORCE_CUDA', '1' if torch.cuda.is_available() else '0')
    cuda = force_cuda == '1'
    if not force and installed_mmcv_version() == version and ops_work(cuda):
        log(f'mmcv {version} with working ops{" (CUDA)" if cuda else ""} is already installed; nothing to do '
            '(--force rebuilds).')
        return 0
    if cuda:
        set_cuda_target(torch)
    flags = os.environ.get('MMCV_CFLAGS', DEFAULT_FLAGS)
    cache_dir = pathlib.Path(os.environ.get('FCFD_MMCV_CACHE', pathlib.Path.home() / '.cache' / 'fcfd_mm' / 'wheels'))
    key_dir = cache_dir / cache_key(version, flags, force_cuda)
    # a wheel cached by an earlier build (under its key), else one carried in by hand (at the top of the cache)
    pattern = f'mmcv-{version}-*.whl'
    candidates = sorted(key_dir.glob(pattern)) + sorted(cache_dir.glob(pattern))
    for cached in candidates if not force else []:
        log(f'using cached wheel {cached}')
        install_wheel(cached)
        if ops_work(cuda):
            return 0
        log(f'cached wheel {cached} does not work with this torch{" (CUDA ops)" if cuda else ""}; skipping it')
        if cached.parent == key_dir:
            cached.unlink()

    toolkit = cuda_toolkit_here(torch) if cuda else None  # only a build needs the toolkit, not a cached wheel
    std = cxx_standard_for_torch()
    log(f'building mmcv {version} for torch {torch.__version__} with -std={std}, FORCE_CUDA={force_cuda}, '
        f'flags "{flags}" ({"with CUDA ops about an hour for one architecture" if cuda else "about 8 minutes"} '
        'on 2 CPU cores)')
    cached = build_wheel(version, std, flags, force_cuda, key_dir, toolkit)
    install_wheel(cached)
    if not ops_work(cuda):
        log('mmcv built but mmcv.ops does not work; see the error above.')
        return 1
    log(f'mmcv {version} installed and mmcv.ops works; wheel cached at {cached}')
    return 0


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--version', default='2.1.0', help='mmcv version (mmdet 3.3 and mmrazor 1.0 accept 2.0.0-2.1.0)')
    p.add_argument('--force', action='store_true', help='rebuild even if a working mmcv is installed or cached')
    return p.parse_args(argv)


def main() -> int:
    args = parse_args()
    try:
        import torch
    except ImportError:
        log('torch is not installed: install requirements/build.txt first (tools/install.sh does).')
        return 1
    try:
        import pkg_resources  # noqa: F401
    except ImportError:
        log('pkg_resources is missing (setuptools >= 82): pip install "setuptools<82" first.')
        return 1
    try:
        return install(args.version, args.force, torch)
    except BuildError as e:
        log(str(e))
        return 1


if __name__ == '__main__':
    sys.exit(main())
