"""The FCFD bridge: maps one network's feature into the other network's feature space (docs/method.md, "Bridges")."""
from __future__ import annotations

from typing import Dict, Optional

import torch
from mmcv.cnn import ConvModule
from mmengine.model.weight_init import constant_init
from mmrazor.models.architectures.connectors.base_connector import BaseConnector
from mmrazor.registry import MODELS
from torch import nn

#: output-resolution / input-resolution -> (conv type, kernel, stride, padding, bias)
_RESOLUTION_MODES = {
    1.0: (dict(type='Conv2d'), 3, 1, 1, False),    # conv3x3, no bias (BN follows)
    0.5: (dict(type='Conv2d'), 3, 2, 1, True),     # conv3x3 stride 2, with bias (official code)
    2.0: (dict(type='deconv'), 4, 2, 1, True),     # ConvTranspose2d k4 s2 p1, with bias
}


@MODELS.register_module()
class FCFDBridge(BaseConnector):
    """Conv + BN (+ LeakyReLU(0.1)) bridge between teacher and student features.

    Input ``(B, in_channels, H, W)``; output ``(B, out_channels, H * scale, W * scale)``.

    Args:
        in_channels: channels of the sending network's feature.
        out_channels: channels of the receiving network's feature.
        scale: output / input resolution: 1 (conv3x3), 0.5 (conv3x3 stride 2) or 2
            (transposed conv k4 s2). Other ratios are not supported by FCFD.
        activation: ``None`` (detection, and pre-ReLU receivers) or ``'leaky_relu'``
            (LeakyReLU(0.1), for receivers whose stages take post-ReLU inputs).
        norm_cfg: normalisation after the conv; BN as in the official code.

    Initialisation follows the official code, whose init loop touches ``nn.Conv2d`` and BN only:
    ``nn.Conv2d`` weights Kaiming-normal (fan_out, relu), BN weight 1 and bias 0; the conv biases
    (stride-2 and transposed bridges) and the whole ``nn.ConvTranspose2d`` (2x up) keep PyTorch's
    default init (uniform, ``reset_parameters``). Built on mmcv's ConvModule, whose own init
    (Kaiming with zero bias, the LeakyReLU gain when a LeakyReLU is attached, transposed convs
    included) is undone: the global RNG is rewound to where the conv was built, so a transposed
    bridge equals an ``nn.ConvTranspose2d`` built from the same RNG state.
    """

    def __init__(self, in_channels: int, out_channels: int, scale: float = 1.0,
                 activation: Optional[str] = None, norm_cfg: Optional[Dict] = dict(type='BN'),
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        if float(scale) not in _RESOLUTION_MODES:
            raise ValueError(f'FCFDBridge: resolution ratio {scale} (receiver / sender) is not supported; '
                             f'FCFD bridges support {sorted(_RESOLUTION_MODES)} (same size, 2x down, 2x up). '
                             'Pick switch points whose feature sizes match or differ by a factor of 2.')
        if activation not in (None, 'leaky_relu'):
            raise ValueError(f"FCFDBridge: activation must be None or 'leaky_relu', got {activation!r}")
        conv_cfg, kernel, stride, padding, bias = _RESOLUTION_MODES[float(scale)]
        self.in_channels, self.out_channels, self.scale = in_channels, out_channels, float(scale)
        act_cfg = dict(type='LeakyReLU', negative_slope=0.1) if activation == 'leaky_relu' else None
        rng = torch.get_rng_state()
        self.block = ConvModule(in_channels, out_channels, kernel, stride=stride, padding=padding, bias=bias,
                                conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        torch.set_rng_state(rng)  # redo the conv's init from the RNG state it was built with
        self._official_init()

    def _official_init(self) -> None:
        conv = self.block.conv
        conv.reset_parameters()  # PyTorch's default init of weight and bias
        if isinstance(conv, nn.Conv2d):  # the official loop: nn.Conv2d weights only (not ConvTranspose2d)
            nn.init.kaiming_normal_(conv.weight, mode='fan_out', nonlinearity='relu')
        if self.block.with_norm:
            constant_init(self.block.norm, 1, bias=0)

    def init_weights(self) -> None:
        if self.init_cfg is None:
            self._official_init()
        else:
            super().init_weights()

    @torch.no_grad()
    def match_statistics(self, feature: torch.Tensor, target: torch.Tensor) -> None:
        """Data-dependent start: set the BN's affine parameters so that this bridge's output on
        ``feature`` has the per-channel mean and standard deviation of ``target`` (the receiving
        network's own feature at this switch point, ``(B, out_channels, H', W')``), as Glow's ActNorm
        starts. Bridges then hand the receiver features in its own scale from the first step, whatever
        that scale is (a BN-normalised bridge output starts at unit scale). Under DDP the statistics
        are averaged over the ranks, so every rank starts alike."""
        norm = self.block.norm if self.block.with_norm else None
        if norm is None or not norm.affine:
            raise ValueError('FCFDBridge.match_statistics needs a bridge with an affine norm layer (BN).')
        dims = (0, 2, 3)
        stats = torch.stack([target.float().mean(dims), target.float().std(dims)])
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.all_reduce(stats)
            stats /= torch.distributed.get_world_size()
        norm.weight.copy_(stats[1].clamp(min=1e-3).to(norm.weight.dtype))
        norm.bias.copy_(stats[0].to(norm.bias.dtype))

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        if feature.dim() != 4 or feature.shape[1] != self.in_channels:
            raise ValueError(f'FCFDBridge({self.in_channels}->{self.out_channels}) got a feature of shape '
                             f'{tuple(feature.shape)}: expected (B, {self.in_channels}, H, W). Set the bridge '
                             f'in_channels to the sending network\'s channels at this switch point.')
        return self.block(feature)
