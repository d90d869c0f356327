"""Bridge probe: fit fresh FCFD bridges between a frozen student and a frozen teacher.

The hybrid metrics (``FCFDValLoop``) of an FCFD checkpoint use the bridges trained with it. To
compare students trained without FCFD (no KD, FitNet, PKD, CWD...) on the same footing, the probe
re-initialises every bridge and trains only the bridges with FCFD's loss terms for a fixed number
of iterations; student and teacher stay frozen with their BN layers in eval mode, so none of their
parameters or running statistics changes. ``tools/function_gap.py --probe-iters N`` runs it.

Why not mmengine's train loop: it would train (and put in train mode) the whole algorithm, update
the BN statistics of both networks, and run the training hooks (checkpoints, teacher check); the
probe needs a short loop over bridge parameters only.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional

import torch
from mmengine.logging import print_log
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

#: the optimizer when the config names none: plain SGD as in the FCFD demo configs
DEFAULT_PROBE_OPTIMIZER = dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4)


def bridge_modules(algorithm) -> List[nn.Module]:
    """The bridges of an ``FCFDDistill`` (FPN and stage switch points, both directions)."""
    return [bridge for switch in algorithm.fcfd_switches() for bridge in switch.bridges()]


@torch.no_grad()
def reset_bridges(algorithm) -> int:
    """Re-initialise every bridge (its own ``init_weights``, else ``reset_parameters`` of its layers)
    and zero its BN statistics; drop the hybrids' ghost BN statistics, which described the old
    bridges' outputs (the hybrids then score with the main statistics); bridges that start from the
    receiver's statistics (``bridge_init``) start again on the next training pass; returns the number
    of bridges."""
    bridges = bridge_modules(algorithm)
    for switch in algorithm.fcfd_switches():
        switch.ghost_statistics.clear()
        if getattr(switch, 'bridges_started', None) is not None:
            switch.bridges_started.fill_(False)
    for bridge in bridges:
        for m in bridge.modules():
            if isinstance(m, _BatchNorm):
                m.reset_running_stats()
            if hasattr(m, 'reset_parameters'):
                m.reset_parameters()
        if hasattr(bridge, 'init_weights'):
            bridge.init_weights()
    return len(bridges)


def _fcfd_loss(losses: Dict[str, torch.Tensor]) -> torch.Tensor:
    """Sum of FCFD's terms (``distill.*loss*``); the student's own losses carry no gradient here."""
    terms = [v for k, v in losses.items() if k.startswith('distill.') and 'loss' in k]
    if not terms:
        raise RuntimeError(f'the FCFD loss pass returned no distill.* terms (got {sorted(losses)}); is '
                           f'distillation stopped (StopDistillHook) in this checkpoint?')
    return sum(t.sum() for t in terms)


def probe_bridges(algorithm, batches: Iterable, iters: int, optimizer: Optional[dict] = None,
                  max_grad_norm: Optional[float] = None, log_interval: int = 10, reset: bool = True) -> List[float]:
    """Train fresh bridges of ``algorithm`` (an ``FCFDDistill``) for ``iters`` iterations.

    Args:
        algorithm: the FCFD algorithm with the student and teacher to compare (both stay frozen).
        batches: training data batches as a dataloader yields them (cycled if shorter than ``iters``).
        iters: optimizer steps.
        optimizer: mmengine optimizer config without ``params`` (default :data:`DEFAULT_PROBE_OPTIMIZER`);
            constant learning rate (no scheduler: the probe is short).
        max_grad_norm: clip the bridges' gradient norm (L2) to this, ``None``: no clipping.
        log_interval: print the loss every this many iterations.
        reset: re-initialise the bridges first (fresh bridges); ``False`` continues from the current ones.

    Returns:
        the FCFD loss (sum of the ``distill.*`` terms) of every iteration.

    Afterwards the algorithm is in eval mode; student / teacher parameters, BN running statistics and
    ``requires_grad`` flags are as before.
    """
    from mmengine.optim import OPTIMIZERS
    if iters < 1:
        raise ValueError(f'probe iterations must be >= 1, got {iters}.')
    if reset:
        reset_bridges(algorithm)
    params = algorithm.fcfd_parameters()
    frozen = [p for net in (algorithm.student, algorithm.teacher) for p in net.parameters()]
    flags = [p.requires_grad for p in frozen]
    optim = OPTIMIZERS.build(dict(optimizer or DEFAULT_PROBE_OPTIMIZER, params=params))
    history: List[float] = []
    try:
        for p in frozen:
            p.requires_grad_(False)
        algorithm.train()
        algorithm.student.eval()  # eval-mode BN: running statistics stay as they are
        algorithm.teacher.eval()
        step, data_iter = 0, iter(batches)
        while step < iters:
            try:
                data_batch = next(data_iter)
            except StopIteration:
                data_iter = iter(batches)
                continue
            algorithm.set_progress(0, step)
            data = algorithm.data_preprocessor(data_batch, True)
            loss = _fcfd_loss(algorithm(**data, mode='loss'))
            optim.zero_grad(set_to_none=True)
            loss.backward()
            for p in algorithm.pop_unused_parameters():  # unsampled stage bridges: no step, as in training
                p.grad = None
            if max_grad_norm is not None:
                nn.utils.clip_grad_norm_([p for p in params if p.grad is not None], max_grad_norm)
            optim.step()
            history.append(float(loss.detach()))
            step += 1
            if step % log_interval == 0 or step == iters:
                print_log(f'bridge probe: iter {step}/{iters}, FCFD loss {history[-1]:.4f}', logger='current')
    finally:
        for p, flag in zip(frozen, flags):
            p.requires_grad_(flag)
        algorithm.eval()
    return history
