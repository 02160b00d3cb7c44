"""Wide ResNet (Zagoruyko & Komodakis, BMVC 2016), the CIFAR network of thesis Section 5.5 (WRN-28-10, L6248).

Layout, as in the author's PyTorch code (``neuralnet_v1:neuralnet/pytorch/models/wide_resnet_model.py``):
``conv3x3(3, 16)`` then three stages of ``n = (depth - 4) / 6`` pre-activation wide basic blocks of widths
``16k, 32k, 64k`` (first block of a stage with stride ``1, 2, 2``), a final BN-ReLU, global average pooling
and a linear head. A block (:class:`WideBasic`) computes

    ``branch(x) = conv2(act(bn2(dropout(conv1(act(bn1(x)))))))``,  ``out = branch(x) + shortcut(x)``

with ``shortcut`` the identity, or a 1x1 convolution (with the block's stride) when the shape changes. As in the
author's code the stride is on ``conv2`` and the shortcut reads the raw block input ``x`` (Zagoruyko's reference
puts the stride on ``conv1`` and feeds the 1x1 shortcut with ``act(bn1(x))``; parameter counts are identical).

Deviations from the author's code (documented in ``docs/lipreg.md``): convolutions have no bias by default
(``bias=False``: the standard WRN, 36,479,194 parameters for WRN-28-10 on 10 classes; the author's ``bias=True``
gives 36,489,290); every BN uses PyTorch's default momentum 0.1 (the author's final BN had ``momentum=0.9``, a
TensorFlow-convention slip that makes the running statistics follow mostly the last batch). Initialisation as the
author's ``conv_init``: Xavier-uniform convolutions with gain sqrt(2), zero conv biases, BN ``gamma = 1, beta = 0``;
the linear head keeps PyTorch's default. Inputs are in [0, 1]; ``normalize`` standardises them inside the model.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["WideBasic", "WideResNet", "wide_resnet"]


NORMS = ("batch", "none")


def _norm(norm: str, channels: int) -> nn.Module:
    if norm not in NORMS:
        raise ValueError(f"Wide ResNet norm must be one of {NORMS}, got {norm!r}")
    return nn.BatchNorm2d(channels) if norm == "batch" else nn.Identity()


class WideBasic(nn.Module):
    """Pre-activation wide basic block: ``conv2(act(bn2(dropout(conv1(act(bn1(x))))))) + shortcut(x)``.

    ``shortcut`` is :class:`torch.nn.Identity` when ``in_planes == planes`` and ``stride == 1``, else a 1x1
    convolution with the block's stride. ``leaky_slope = 0`` is a ReLU. ``norm="none"``: the batch norms are
    :class:`torch.nn.Identity` (see :class:`WideResNet`).
    """

    def __init__(self, in_planes: int, planes: int, stride: int = 1, dropout: float = 0.0,
                 leaky_slope: float = 0.0, bias: bool = False, norm: str = "batch"):
        super().__init__()
        self.leaky_slope = float(leaky_slope)
        self.bn1 = _norm(norm, in_planes)
        self.conv1 = nn.Conv2d(in_planes, planes, 3, padding=1, bias=bias)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.bn2 = _norm(norm, planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=bias)
        if stride != 1 or in_planes != planes:
            self.shortcut: nn.Module = nn.Conv2d(in_planes, planes, 1, stride=stride, bias=bias)
        else:
            self.shortcut = nn.Identity()

    def _act(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x, self.leaky_slope) if self.leaky_slope else F.relu(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.dropout(self.conv1(self._act(self.bn1(x))))
        out = self.conv2(self._act(self.bn2(out)))
        return out + self.shortcut(x)


class WideResNet(nn.Module):
    """WRN-``depth``-``widen`` for 32x32 inputs (any size works: the pooling is global); see the module doc.

    ``norm="batch"`` (default, the thesis's network) or ``"none"``: without batch norms (not in the thesis), the
    product of layer bounds is a usable certificate under the Lipschitz regulariser, whereas a batch norm
    rescales by the running std of its input and undoes what the regulariser does to the conv before it
    (docs/lipreg.md); the model is then harder to train (no normalisation, use conv biases: ``bias=True``).
    """

    def __init__(self, depth: int = 28, widen: int = 10, num_classes: int = 10, dropout: float = 0.0,
                 leaky_slope: float = 0.0, bias: bool = False, in_channels: int = 3, norm: str = "batch"):
        super().__init__()
        if depth < 10 or (depth - 4) % 6:
            raise ValueError(f"Wide ResNet depth must be 6n + 4 with n >= 1, got {depth}")
        if widen < 1:
            raise ValueError(f"widen must be >= 1, got {widen}")
        n = (depth - 4) // 6
        widths = [16, 16 * widen, 32 * widen, 64 * widen]
        self.depth, self.widen, self.leaky_slope, self.norm = int(depth), int(widen), float(leaky_slope), norm
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=bias)
        in_planes = widths[0]
        for stage, stride in zip((1, 2, 3), (1, 2, 2)):
            blocks = []
            for b in range(n):
                blocks.append(WideBasic(in_planes, widths[stage], stride if b == 0 else 1, dropout, leaky_slope, bias,
                                        norm))
                in_planes = widths[stage]
            setattr(self, f"layer{stage}", nn.Sequential(*blocks))
        self.bn = _norm(norm, in_planes)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(in_planes, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight, gain=math.sqrt(2.0))
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layer3(self.layer2(self.layer1(self.conv1(x))))
        out = self.bn(out)
        out = F.leaky_relu(out, self.leaky_slope) if self.leaky_slope else F.relu(out)
        return self.linear(self.pool(out).flatten(1))


def wide_resnet(depth: int = 28, widen: int = 10, num_classes: int = 10, dropout: float = 0.0,
                leaky_slope: float = 0.0, normalize=None, *, bias: bool = False, in_channels: int = 3,
                norm: str = "batch") -> nn.Module:
    """WRN-``depth``-``widen`` (thesis Section 5.5: depth 28, widen 10, L6248); see :mod:`.wide_resnet`.

    ``normalize`` (a dataset name or ``{"mean", "std"}``) wraps the network in
    :class:`~toeplitznet.models.normalize.InputNormalized` (inputs in [0, 1]); ``None`` (the author's CIFAR
    setting: no mean/std normalisation) returns the bare :class:`WideResNet`.
    """
    net = WideResNet(depth, widen, num_classes, dropout, leaky_slope, bias, in_channels, norm)
    if normalize is None:
        return net
    from .normalize import InputNormalized, normalization_stats

    return InputNormalized(net, *normalization_stats(normalize))
