#!/usr/bin/env python
"""Markdown tables from the JSON files the benchmarks write (the tables in benchmarks/README.md).

    python benchmarks/report.py benchmarks/results/overhead_real_320_cpu.json \
                                benchmarks/results/efficacy_frcnn.json ...

Overhead files give a step-time table per family (seconds, x student, x floor, peak memory and
x PKD's peak when measured) and, where ``--parts`` was used, the 'no waste' breakdown. Efficacy
files give mean +- std of COCO bbox mAP per method and the gain over no KD; with ``--matrix val``
(or ``test``, the held-out split) the benchmark set's files give one table, a row per family, each
cell with its seeds' values; ``--overhead FILE ...`` adds each family's step cost beside its row.
"""
from __future__ import annotations

import argparse
import json
import statistics
from typing import Dict, List, Optional

LABELS = {'student': 'student alone', 'fitnet': 'FitNet-style L2 (3x3 conv + BN connectors)', 'pkd': 'MMRazor PKD',
          'cwd': 'MMRazor CWD', 'fcfd_fpn': 'FCFD, FPN (faithful defaults)',
          'fcfd_fpn_fast': 'FCFD, FPN, overhead controls (`fcfd_fpn_fast`)',
          'fcfd_stages': 'FCFD, backbone stages (2 paths/step)',
          'fcfd_stages_1path': 'FCFD, backbone stages, 1 path/step (`num_paths=1`)',
          'fcfd_stages_fpn': 'FCFD, backbone stages + FPN', 'no_kd': 'no KD'}


def overhead_tables(path: str) -> List[str]:
    with open(path) as fh:
        data = json.load(fh)
    lines = []
    for r in data['results']:
        m = r['methods']
        size = 'x'.join(map(str, r['size']))
        lines += [f"**{r['family']}**, {r['pair']} pair, {size}, batch {r['batch']}, median of {r['repeats']} steps, "
                  f"floor {r['floor_s']:.2f} s ({data['device']}, {data['threads']} threads)", '']
        peak = any('peak_rss_gb' in v or 'peak_gpu_gb' in v for v in m.values())
        head = '| method | s/step | x student | x floor |' + (' peak GiB | x PKD |' if peak else '')
        lines += [head, '|' + '---|' * (head.count('|') - 1)]
        pkd_peak = m.get('pkd', {}).get('peak_rss_gb', m.get('pkd', {}).get('peak_gpu_gb'))
        for name, v in m.items():
            if name == 'teacher_extract_feat':
                continue
            row = f"| {LABELS.get(name, name)} | {v['median_s']:.2f} | {v['x_student']:.2f} | {v['x_floor']:.2f} |"
            if peak:
                gb = v.get('peak_rss_gb', v.get('peak_gpu_gb'))
                row += f' {gb:.2f} |' if gb is not None else ' - |'
                row += f' {gb / pkd_peak:.2f} |' if gb is not None and pkd_peak else ' - |'
            lines.append(row)
        lines.append(f"| teacher `extract_feat` alone | {m['teacher_extract_feat']['median_s']:.2f} | | |"
                     + (' | |' if peak else ''))
        lines.append('')
        for name, v in m.items():
            if 'parts_s' in v:
                parts = ' + '.join(f'{k} {t:.2f}' for k, t in v['parts_s'].items())
                lines += [f"{LABELS.get(name, name)}: step {v['median_s']:.2f} s = **{v['x_sum_of_parts']:.2f} x** the "
                          f"sum of its parts timed alone ({parts} = {v['sum_of_parts_s']:.2f} s)", '']
    return lines


def efficacy_table(path: str) -> List[str]:
    with open(path) as fh:
        data = json.load(fh)
    res = data['bbox_mAP']
    base = statistics.mean(res['no_kd']) if 'no_kd' in res else None
    lines = [f"**{data['family']}** demo, {data['iters']} student iterations, seeds {data['seeds']}"
             + (f", options {data['cfg_options']}" if data.get('cfg_options') else ''), '',
             '| student trained with | bbox mAP (mean +- std) | runs | gain over no KD |', '|---|---|---|---|']
    for name, values in res.items():
        mean = statistics.mean(values)
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        gain = f'{mean - base:+.3f}' if base is not None else '-'
        lines.append(f'| {LABELS.get(name, name)} | {mean:.3f} +- {std:.3f} | {", ".join(f"{x:.3f}" for x in values)} '
                     f'| {gain} |')
    return lines + ['']


#: the columns of the cross-family table (``--matrix``): method key -> header
MATRIX_COLUMNS = {'no_kd': 'no KD', 'pkd': 'MMRazor PKD', 'cwd': 'MMRazor CWD', 'fcfd_fpn': 'FCFD as shipped',
                  'fcfd_v1': 'FCFD, earlier dense setting', 'fcfd_scale': 'FCFD, scale-free (Faster R-CNN option)',
                  'fcfd_scale_cwd': 'FCFD, scale-free, + CWD', 'fcfd_cwd': 'FCFD as shipped + CWD'}


def _cell(values: List[float]) -> str:
    """``mean +- std (n): seed values`` of one method's bbox mAP over its seeds."""
    if not values:
        return '-'
    if len(values) == 1:
        return f'{values[0]:.3f} (1 seed)'
    seeds = ' / '.join(f'{v:.3f}' for v in values)
    return f'{statistics.mean(values):.3f} +- {statistics.stdev(values):.3f} ({len(values)}: {seeds})'


def step_costs(paths: List[str]) -> Dict[str, Dict[str, float]]:
    """``{family: {method: x floor}}`` from ``overhead.py`` files (the first file that times a family wins)."""
    costs: Dict[str, Dict[str, float]] = {}
    for path in paths:
        with open(path) as fh:
            for r in json.load(fh)['results']:
                costs.setdefault(r['family'], {m: v['x_floor'] for m, v in r['methods'].items() if 'x_floor' in v})
    return costs


def efficacy_matrix(paths: List[str], split: str = 'val', overhead: Optional[List[str]] = None) -> List[str]:
    """One row per family (one ``efficacy_<family>.json`` each): its schedule (student / teacher
    iterations), the teacher and every method of :data:`MATRIX_COLUMNS` that some file has, as mean
    +- std over seeds (seed count: the seeds' values in seed order) of bbox mAP on ``split`` ('val' or
    'test', the held-out split); the best student of each row in bold. Beside each row: FCFD's step
    as a multiple of the floor, with PKD's and CWD's, from ``overhead`` files (``overhead.py``
    JSON; '-' for a family they do not time), and the function gap of FCFD's student (seed 0,
    ``st`` / ``ts``) where the file has it."""
    costs = step_costs(overhead or [])
    rows, present = [], set()
    for path in paths:
        with open(path) as fh:
            data = json.load(fh)
        runs = data.get('runs', {})
        present.update(m for m in MATRIX_COLUMNS if m in runs)
        iters = f"{data['iters']} / {2 * data['iters']}" if 'iters' in data else '-'
        gap = data.get('function_gap', {}).get('fcfd_fpn', {}).get('0')
        rows.append((data['family'], iters, data.get('teacher_bbox_mAP', {}).get(split),
                     {m: [runs[m][s][split] for s in sorted(runs[m], key=int)] for m in MATRIX_COLUMNS if m in runs},
                     gap))
    columns = [m for m in MATRIX_COLUMNS if m in present]
    extra = (['FCFD step, x floor (PKD / CWD)'] if overhead else []) + ['FCFD function gap `st` / `ts`']
    lines = ['| family | iterations | teacher | ' + ' | '.join([MATRIX_COLUMNS[m] for m in columns] + extra) + ' |',
             '|' + '---|' * (len(columns) + 3 + len(extra))]
    for family, iters, teacher, values, gap in rows:
        best = max((statistics.mean(v), m) for m, v in values.items() if v)[1] if values else None
        cells = [('**{}**' if m == best else '{}').format(_cell(values[m])) if m in values else '-' for m in columns]
        if overhead:
            c = costs.get(family, {})
            cells.append(f"{c['fcfd_fpn']:.2f} ({c['pkd']:.2f} / {c['cwd']:.2f})"
                         if {'fcfd_fpn', 'pkd', 'cwd'} <= set(c) else '-')
        cells.append(f"{gap['st']:+.3f} / {gap['ts']:+.3f}" if gap else '-')
        teacher_cell = '-' if teacher is None else f'{teacher:.3f}'
        lines.append(f'| {family} | {iters} | {teacher_cell} | ' + ' | '.join(cells) + ' |')
    return lines + ['']


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('files', nargs='+')
    p.add_argument('--matrix', choices=('val', 'test'), help='efficacy files: one cross-family table of bbox mAP on '
                   'this split (test: the held-out split) instead of one table per file')
    p.add_argument('--overhead', nargs='+', default=[], metavar='JSON',
                   help='with --matrix: overhead.py files whose x-floor step costs go beside each family')
    a = p.parse_args(argv)
    if a.matrix:
        print('\n'.join(efficacy_matrix(a.files, a.matrix, a.overhead)))
        return
    for path in a.files:
        with open(path) as fh:
            kind = 'overhead' if 'results' in json.load(fh) else 'efficacy'
        print('\n'.join(overhead_tables(path) if kind == 'overhead' else efficacy_table(path)))


if __name__ == '__main__':
    main()
