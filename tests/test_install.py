"""Installing fcfd-mm into a workspace that already has its stack changes none of it.

``setup.py`` declares version ranges (install_requires / extras), ``requirements/`` pins the verified
stack: every pin must fall in the declared range, and ``pip install .`` with pip's ordinary
dependency resolution into the verified environment (this test's interpreter; ``--dry-run``, so the
environment is left as it is) must install fcfd-mm alone.
"""
import json
import os
import runpy
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
#: what pip prints when it cannot reach the package index
OFFLINE = ('Failed to establish a new connection', 'Temporary failure in name resolution', 'NewConnectionError',
           'Network is unreachable', 'Could not fetch URL', 'ConnectTimeoutError', 'ProxyError')


def declared():
    """setup.py's ``INSTALL_REQUIRES`` and ``EXTRAS_REQUIRE`` (setup() itself does not run)."""
    ns = runpy.run_path(str(REPO / 'setup.py'), run_name='fcfd_setup')
    return ns['INSTALL_REQUIRES'], ns['EXTRAS_REQUIRE']


def pins(name):
    """``{package: version}`` of the ``==`` pins in requirements/NAME (following ``-r``)."""
    out = {}
    for line in (REPO / 'requirements' / name).read_text().splitlines():
        line = line.split('#')[0].strip()
        if line.startswith('-r'):
            out.update(pins(line[2:].strip()))
        elif line:
            req = Requirement(line)
            spec = [s for s in req.specifier if s.operator == '==']
            if spec:
                out[canonicalize_name(req.name)] = spec[0].version
    return out


def test_setup_declares_ranges_that_hold_the_pinned_stack():
    install, extras = declared()
    reqs = [Requirement(r) for r in install + [r for rs in extras.values() for r in rs]]
    assert not [str(r) for r in reqs if any(s.operator in ('==', '===') for s in r.specifier)]  # ranges, no pins
    ranged = {canonicalize_name(r.name): r for r in reqs}
    assert {'mmengine', 'mmdet', 'mmrazor', 'pycocotools', 'mmpretrain', 'tensorboard'} <= set(ranged)
    for name, version in {**pins('runtime.txt'), **pins('classification.txt'), **pins('tests.txt')}.items():
        if name in ranged:
            assert ranged[name].specifier.contains(version), f'requirements/: {name}=={version} not in {ranged[name]}'
    # mmdet 3.3.0 accepts mmengine>=0.7.1,<1.0.0: fcfd-mm asks no less and no more
    assert str(ranged['mmengine'].specifier) == str(Requirement('mmengine>=0.7.1,<1.0.0').specifier)


def dry_run(tmp_path, *pip_args, target='.[classification]', env=None):
    """``pip install --dry-run --report`` of a copy of the project (pip writes build metadata next
    to setup.py) into this interpreter's environment; returns (CompletedProcess, report or None)."""
    src = tmp_path / 'src'
    src.mkdir()
    for name in ('setup.py', 'README.md'):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / 'fcfd_mm', src / 'fcfd_mm', ignore=shutil.ignore_patterns('__pycache__'))
    report = tmp_path / 'report.json'
    res = subprocess.run([sys.executable, '-m', 'pip', 'install', '--dry-run', '--report', str(report),
                          '--no-build-isolation', '--disable-pip-version-check', *pip_args, target],
                         cwd=src, capture_output=True, text=True, timeout=600, env=env)
    return res, json.loads(report.read_text()) if res.returncode == 0 else None


def skip_if_offline(res):
    if res.returncode != 0 and any(s in res.stdout + res.stderr for s in OFFLINE):
        pytest.skip(f'pip cannot reach the package index: {(res.stdout + res.stderr).strip().splitlines()[-1]}')


def test_pip_install_into_the_verified_environment_changes_no_package(tmp_path):
    installed = {canonicalize_name(d.metadata['Name']): d.version for d in metadata.distributions()}
    install, extras = declared()
    for req in map(Requirement, install + extras['classification']):  # the test needs the verified stack
        if canonicalize_name(req.name) not in installed:
            pytest.skip(f'{req.name} is not installed: run tools/install.sh first')
    res, report = dry_run(tmp_path)
    skip_if_offline(res)
    assert res.returncode == 0, res.stdout + res.stderr
    to_install = {canonicalize_name(i['metadata']['name']): i for i in report['install']}
    assert list(to_install) == ['fcfd-mm'], {k: v['metadata']['version'] for k, v in to_install.items()}
    # pip resolved fcfd-mm's requirements: each one is met by the installed version
    requires = [Requirement(r) for r in to_install['fcfd-mm']['metadata']['requires_dist']]
    assert {'mmdet', 'mmengine', 'mmrazor', 'mmpretrain'} <= {canonicalize_name(r.name) for r in requires}
    for req in requires:
        if req.marker is None or req.marker.evaluate({'extra': 'classification'}):
            assert req.specifier.contains(installed[canonicalize_name(req.name)], prereleases=True), req


def test_the_dry_run_does_resolve_against_the_installed_packages(tmp_path):
    """The control: forbid the installed mmdet and leave pip no index: the same command must fail
    on mmdet, so the run above did check the installed packages against setup.py's ranges."""
    try:
        mmdet = metadata.version('mmdet')
    except metadata.PackageNotFoundError:
        pytest.skip('mmdet is not installed: run tools/install.sh first')
    constraints = tmp_path / 'constraints.txt'
    constraints.write_text(f'mmdet!={mmdet}\n')
    # no pip configuration either: its find-links could hold another mmdet
    res, _ = dry_run(tmp_path, '--no-index', '-c', str(constraints), env=dict(os.environ, PIP_CONFIG_FILE=os.devnull))
    assert res.returncode != 0 and 'mmdet' in res.stdout + res.stderr, res.stdout + res.stderr
