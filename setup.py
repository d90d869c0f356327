"""fcfd-mm: Function-Consistent Feature Distillation for MMDetection / MMPretrain via MMRazor.

mmcv (compiled ops) is not listed in install_requires: PyPI has no wheel for it and it has to be
built against the installed torch; ``tools/install.sh`` does that (see README).
"""
import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(r"__version__ = '([^']+)'", (HERE / 'fcfd_mm' / 'version.py').read_text()).group(1)


def read_requirements(name: str) -> list:
    lines = (HERE / 'requirements' / name).read_text().splitlines()
    return [ln.split('#')[0].strip() for ln in lines if ln.split('#')[0].strip()]


setup(
    name='fcfd-mm',
    version=VERSION,
    description='Function-Consistent Feature Distillation (FCFD, ICLR 2023) for MMDetection and MMPretrain, '
                'as MMRazor components',
    long_description=(HERE / 'README.md').read_text() if (HERE / 'README.md').exists() else '',
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.8',
    packages=find_packages(include=['fcfd_mm', 'fcfd_mm.*']),
    install_requires=read_requirements('runtime.txt'),
    extras_require={'classification': read_requirements('classification.txt'), 'tests': read_requirements('tests.txt')},
    classifiers=[
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
)
