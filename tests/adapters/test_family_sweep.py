"""The family sweep (``tools/dev/family_sweep.py``): every detector family of mmdet 3.3's model zoo
distils with FCFD or is refused clearly, and docs/families.md is its current table.

Without the slow marker one family per adapter (and a refused one) runs; the slow tests run every
family and compare the whole table with docs/families.md (regenerate it with
``PYTHONPATH=. python tools/dev/family_sweep.py --write``).
"""
from __future__ import annotations

import pytest

from tools.dev.family_sweep import ADAPTER_ROWS, DOC, check_row, family_dirs, sweep, table

#: a fast subset run without the slow marker: one family per adapter, and a refused one
FAST = ('retinanet', 'atss', 'faster_rcnn', 'cascade_rcnn', 'fcos', 'gfl', 'rtmdet', 'yolox', 'detr')


@pytest.mark.parametrize('family', FAST)
def test_family_fast_subset(family):
    row = sweep(family)
    check_row(row)
    expected = 'refused' if family == 'detr' else 'distilled'
    assert row['status'] == expected, row


@pytest.mark.slow
@pytest.mark.parametrize('family', [f for f in family_dirs() if f not in FAST])
def test_family_distils_or_is_refused(family):
    check_row(sweep(family))


def test_the_adapter_table_lists_every_detection_adapter():
    from fcfd_mm.adapters import HEAD_ADAPTERS
    HEAD_ADAPTERS.import_from_location()
    documented = {row[0].strip('`') for row in ADAPTER_ROWS}
    assert documented == set(HEAD_ADAPTERS.module_dict) - {'ClassifierHeadAdapter'}


@pytest.mark.slow
def test_docs_families_table_is_current():
    assert DOC.read_text() == table(), ('docs/families.md is out of date; regenerate it: '
                                        'PYTHONPATH=. python tools/dev/family_sweep.py --write')
