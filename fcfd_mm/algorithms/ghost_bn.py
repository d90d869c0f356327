"""Separate ("ghost") BatchNorm running statistics for FCFD's stage hybrids (docs/method.md,
"Teacher and BatchNorm").

A hybrid pass runs a network on the *other* network's bridged features. With its BN layers in
training mode that pass would update the network's running statistics with statistics of bridged
inputs. :class:`GhostBNStatistics` keeps, per hybrid (``'st@2'``, ``'ts@3'``...), a copy of the
running statistics of every BN layer the hybrid's passes ran in training mode, and swaps it in
for the duration of the pass: the network's own ("main") statistics are never touched. At
validation the same copies let a hybrid be scored with the statistics its training tracked.

The copies are ordinary registered buffers of this module, so they move with ``.to()`` /
``.cuda()``, are saved by ``state_dict()`` and restored by ``load_state_dict()`` as
``<prefix>hybrids.<hybrid>.<layer>.{running_mean,running_var,num_batches_tracked}``, where
``<layer>`` is the BN layer's name in its network with ``/`` in place of ``.`` (module names cannot
hold dots). They are created on a hybrid's first training pass, from the main statistics of that
moment; loading a state dict creates the ones it holds (and drops the others), so a checkpoint
restores exactly what was saved. Checkpoints of fcfd-mm before the third renovation hold them
under ``<prefix>paths.``; they load too.
"""
from __future__ import annotations

import contextlib
from typing import Dict, Iterator, List, Tuple

from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from ..utils.state_dict import rename_state_keys

#: the per-layer buffers, in the order :meth:`GhostBNStatistics.statistics` returns them
BUFFERS = ('running_mean', 'running_var', 'num_batches_tracked')
#: ``(running_mean, running_var, num_batches_tracked)`` of one BN layer
Statistics = Tuple[Tensor, Tensor, Tensor]


class _LayerStatistics(nn.Module):
    """The three running-statistic buffers of one BN layer for one hybrid."""

    def __init__(self, mean: Tensor, var: Tensor, count: Tensor) -> None:
        super().__init__()
        for name, value in zip(BUFFERS, (mean, var, count)):
            self.register_buffer(name, value)

    def as_tuple(self) -> Statistics:
        return self.running_mean, self.running_var, self.num_batches_tracked

    def on_device_of(self, m: _BatchNorm) -> '_LayerStatistics':
        """Itself, moved to ``m``'s device if it is elsewhere (loaded from a CPU checkpoint into a
        model that is already on the GPU)."""
        return self if self.running_mean.device == m.running_mean.device else self.to(m.running_mean.device)


def _encode(layer: str) -> str:
    return layer.replace('.', '/')


def _decode(name: str) -> str:
    return name.replace('/', '.')


@contextlib.contextmanager
def _swapped(swaps: List[Tuple[_BatchNorm, _LayerStatistics]]) -> Iterator[None]:
    """BN layers run with the given statistics (updated in place when in training mode); their own
    buffers are put back afterwards, untouched."""
    saved = [(m, m.running_mean, m.running_var, m.num_batches_tracked) for m, _ in swaps]
    for m, ghost in swaps:
        m.running_mean, m.running_var, m.num_batches_tracked = ghost.as_tuple()
    try:
        yield
    finally:
        for m, mean, var, count in saved:
            m.running_mean, m.running_var, m.num_batches_tracked = mean, var, count


class GhostBNStatistics(nn.Module):
    """Per-hybrid BN running statistics: ``track`` during training passes, ``use`` when scoring."""

    #: submodules renamed since earlier checkpoints, old -> new
    RENAMED = {'paths': 'hybrids'}

    def __init__(self) -> None:
        super().__init__()
        self.hybrids = nn.ModuleDict()

    def _layers(self, hybrid: str) -> nn.ModuleDict:
        if hybrid not in self.hybrids:
            self.hybrids[hybrid] = nn.ModuleDict()
        return self.hybrids[hybrid]

    def track(self, model: nn.Module, hybrid: str) -> contextlib.AbstractContextManager:
        """Context for a training pass of ``hybrid`` through ``model`` (its receiving network).

        Every BN layer of ``model`` in training mode that tracks running statistics normalises with
        batch statistics as usual (outputs are unchanged) but updates ``hybrid``'s copy of its
        running statistics, created from its main ones on first use; the main ones stay as they are.
        """
        layers = self._layers(hybrid)
        swaps = []
        for name, m in model.named_modules():
            if isinstance(m, _BatchNorm) and m.training and m.track_running_stats and m.running_mean is not None:
                key = _encode(name)
                if key not in layers:
                    layers[key] = _LayerStatistics(m.running_mean.detach().clone(), m.running_var.detach().clone(),
                                                   m.num_batches_tracked.detach().clone())
                swaps.append((m, layers[key].on_device_of(m)))
        return _swapped(swaps)

    def use(self, model: nn.Module, hybrid: str) -> contextlib.AbstractContextManager:
        """Context for scoring ``hybrid`` on ``model`` (eval mode): every BN layer of ``model`` with a
        copy for ``hybrid`` normalises with it; the others (eval-mode during training, so the hybrid
        passes used their main statistics too) keep theirs. Nothing is created."""
        layers = self.hybrids[hybrid] if hybrid in self.hybrids else {}
        swaps = [(m, layers[_encode(name)].on_device_of(m)) for name, m in model.named_modules()
                 if isinstance(m, _BatchNorm) and m.running_mean is not None and _encode(name) in layers]
        return _swapped(swaps)

    def statistics(self) -> Dict[Tuple[str, str], Statistics]:
        """``{(hybrid, BN layer name): (running_mean, running_var, num_batches_tracked)}``, the live buffers."""
        return {(hybrid, _decode(key)): stats.as_tuple() for hybrid, layers in self.hybrids.items()
                for key, stats in layers.items()}

    def clear(self) -> None:
        """Drop every hybrid's statistics (e.g. after new bridges: they described the old ones' outputs)."""
        self.hybrids = nn.ModuleDict()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        # The copies exist only for the hybrids and layers training has run, so a fresh module has
        # none: create exactly the ones the state dict holds (placeholders that the ordinary loading
        # of the submodules below then fills) and drop any others.
        rename_state_keys(state_dict, prefix, self.RENAMED)
        head = prefix + 'hybrids.'
        found: Dict[Tuple[str, str], set] = {}
        for key in state_dict:
            if key.startswith(head):
                hybrid, _, rest = key[len(head):].partition('.')
                layer, _, buf = rest.rpartition('.')
                if hybrid and layer and buf in BUFFERS:
                    found.setdefault((hybrid, layer), set()).add(buf)
        self.clear()
        for (hybrid, layer), bufs in found.items():
            if bufs != set(BUFFERS):
                error_msgs.append(f'{head}{hybrid}.{layer}: has {sorted(bufs)}, needs all of {list(BUFFERS)}.')
                continue
            ref = [state_dict[f'{head}{hybrid}.{layer}.{b}'] for b in BUFFERS]
            self._layers(hybrid)[layer] = _LayerStatistics(*(t.detach().clone() for t in ref))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)
