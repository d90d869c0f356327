"""The classification neck of the staged backbones: ReLU, then global average pooling."""
from __future__ import annotations

from typing import Tuple, Union

import torch.nn.functional as F
from mmpretrain.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class ReLUGlobalAveragePooling(nn.Module):
    """``GAP(ReLU(x))`` of the last backbone feature.

    The staged backbones end at position N, which for the pre-ReLU nets (WRN, VGG, MobileNetV2,
    ShuffleNetV1) is taken before the final ReLU; RepDistiller's classifiers all compute
    ReLU -> global average pool -> FC after it, so with this neck and a ``LinearClsHead`` an
    ``ImageClassifier`` reproduces their logits (for the post-ReLU nets the ReLU is a no-op).

    Input: a tuple of ``(B, C_i, H_i, W_i)`` features (only the last is used) or one tensor.
    Output: a 1-tuple ``((B, C),)`` with ``C`` the last feature's channels. The input is not
    modified (the ReLU is not in place: FCFD reuses the backbone features).
    """

    def init_weights(self) -> None:
        pass

    def forward(self, inputs: Union[Tensor, Tuple[Tensor, ...]]) -> Tuple[Tensor]:
        if isinstance(inputs, (tuple, list)):
            if not inputs:
                raise ValueError('ReLUGlobalAveragePooling: got an empty tuple of features.')
            x = inputs[-1]
        elif isinstance(inputs, Tensor):
            x = inputs
        else:
            raise TypeError(f'ReLUGlobalAveragePooling: inputs must be a tensor or a tuple of tensors, '
                            f'got {type(inputs).__name__}.')
        if x.dim() != 4:
            raise ValueError(f'ReLUGlobalAveragePooling: expected a (B, C, H, W) feature, got shape '
                             f'{tuple(x.shape)}.')
        return (F.adaptive_avg_pool2d(F.relu(x), 1).flatten(1),)
