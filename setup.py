"""fcfd-mm: Function-Consistent Feature Distillation for MMDetection / MMPretrain via MMRazor.

``install_requires`` declares the version ranges fcfd-mm works with, so that ``pip install`` into a
workspace that already has its own OpenMMLab stack keeps it (pip only installs what is missing or
out of range). The exact versions verified together are pinned in ``requirements/*.txt`` and
installed by ``tools/install.sh``.

Not declared, as in OpenMMLab's own packages: torch (install the build for your CUDA first) and
mmcv (compiled ops; PyPI has no mmcv 2.x wheel, so it is built against the installed torch, see
README). mmdet 3.3 checks ``mmcv>=2.0.0rc4,<2.2.0`` when it is imported, mmrazor 1.0.0 ``mmcv<=2.1.0``.
"""
import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(r"__version__ = '([^']+)'", (HERE / 'fcfd_mm' / 'version.py').read_text()).group(1)

#: what fcfd_mm imports, lowest versions believed to work up to the next major release
INSTALL_REQUIRES = [
    'mmengine>=0.7.1,<1.0.0',  # mmdet 3.3.0's own bounds (verified: 0.10.7)
    'mmdet>=3.0.0,<4.0.0',  # the mmdet 3.x API (verified: 3.3.0)
    'mmrazor>=1.0.0,<2.0.0',  # MMRazor 1.x (verified: 1.0.0, the only 1.x release)
    'pycocotools>=2.0,<3.0',  # COCO mAP of the detection demo and configs (verified: 2.0.11)
    'joblib',  # imported by mmrazor 1.0.0 without being declared there
]
EXTRAS_REQUIRE = {
    # the classification configs and fcfd_mm.models (verified: mmpretrain 1.2.0)
    'classification': ['mmpretrain>=1.0.0,<2.0.0'],
    # MMEngine's TensorboardVisBackend (docs/watching_runs.md); torch.utils.tensorboard needs >= 1.15
    'tensorboard': ['tensorboard>=1.15'],
    'tests': ['pytest', 'ruff', 'tensorboard>=1.15'],
}

if __name__ == '__main__':
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
        install_requires=INSTALL_REQUIRES,
        extras_require=EXTRAS_REQUIRE,
        classifiers=[
            'Programming Language :: Python :: 3',
            'Topic :: Scientific/Engineering :: Artificial Intelligence',
        ],
    )
