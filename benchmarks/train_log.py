#!/usr/bin/env python
"""Summarise a training run from MMEngine's scalar log: are the losses finite, how fast was it.

    python benchmarks/train_log.py WORK_DIR [--skip 5] [--out summary.json] [--terms 100]

Reads ``WORK_DIR/<timestamp>/vis_data/scalars.json`` of the latest run (one JSON line per logged
iteration, written by MMEngine's ``LocalVisBackend``) and reports the iterations logged, the
last iteration, every loss key's last value, whether every logged loss is finite, and the median
seconds per iteration (``time``) after the first ``--skip`` logged lines (warm-up). Exits 1 when
a loss is not finite or nothing was logged. ``--terms N`` also gives the mean of every loss term
over windows of N iterations (``terms``: ``{first iteration of the window: {key: mean}}``): how the
distillation terms compare with the detector's own losses as training goes on.
"""
from __future__ import annotations

import argparse
import glob
import json
import math
import os.path as osp
import statistics
import sys


def latest_scalars(work_dir: str) -> str:
    found = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not found:
        raise FileNotFoundError(f'no */vis_data/scalars.json under {work_dir}: did the run log anything '
                                f'(default_hooks.logger.interval <= train_cfg.max_iters)?')
    return found[-1]


def summarize(work_dir: str, skip: int = 5) -> dict:
    """``{'iters_logged', 'last_iter', 'losses': {key: last value}, 'all_finite', 'non_finite',
    's_per_iter'}`` of the latest run in ``work_dir`` (training lines only)."""
    path = latest_scalars(work_dir)
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    rows = [r for r in rows if 'loss' in r]  # validation lines carry metrics, not losses
    non_finite = sorted({f"{k}@{r.get('iter')}" for r in rows for k, v in r.items()
                         if 'loss' in k and isinstance(v, (int, float)) and not math.isfinite(v)})
    times = [r['time'] for r in rows[skip:] if 'time' in r] or [r['time'] for r in rows if 'time' in r]
    return dict(scalars=path, iters_logged=len(rows), last_iter=rows[-1].get('iter') if rows else None,
                losses={k: v for k, v in (rows[-1] if rows else {}).items() if 'loss' in k},
                all_finite=bool(rows) and not non_finite, non_finite=non_finite,
                s_per_iter=statistics.median(times) if times else None)


def term_means(work_dir: str, window: int) -> dict:
    """``{window start: {loss key: mean over the logged iterations in [start, start + window)}}`` of the
    latest run in ``work_dir`` (training lines only; iterations are 1-based as logged)."""
    if window < 1:
        raise ValueError(f'--terms needs a window of at least 1 iteration, got {window}')
    with open(latest_scalars(work_dir)) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    sums: dict = {}
    for r in rows:
        if 'loss' not in r or 'iter' not in r:
            continue
        start = (int(r['iter']) - 1) // window * window
        for k, v in r.items():
            if 'loss' in k and isinstance(v, (int, float)):
                total, n = sums.setdefault(start, {}).get(k, (0.0, 0))
                sums[start][k] = (total + v, n + 1)
    return {start: {k: total / n for k, (total, n) in keys.items()} for start, keys in sorted(sums.items())}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('work_dir')
    p.add_argument('--skip', type=int, default=5, help='logged lines left out of s/iter (warm-up)')
    p.add_argument('--out', help='also write the summary to this JSON file')
    p.add_argument('--terms', type=int, metavar='N', help='also the mean of every loss term per N iterations')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    summary = summarize(args.work_dir, args.skip)
    if args.terms:
        summary['terms'] = term_means(args.work_dir, args.terms)
    text = json.dumps(summary, indent=1)
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text + '\n')
    if not summary['all_finite']:
        print(f"train_log: non-finite or no losses in {summary['scalars']}: {summary['non_finite'][:10]}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
