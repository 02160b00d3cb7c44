"""ResNet-101 (He et al. 2016), the ImageNet network of thesis Section 5.5 (L6262), from torchvision.

The torchvision architecture with random initialisation (``weights=None``); inputs are in [0, 1] and are
standardised inside the model (:class:`~toeplitznet.models.normalize.InputNormalized`, ImageNet statistics by
default), so attack budgets and Lipschitz constants refer to pixels.
"""

from __future__ import annotations

from torch import nn

__all__ = ["resnet101"]


def resnet101(num_classes: int = 1000, normalize="imagenet") -> nn.Module:
    """torchvision ResNet-101 (``weights=None``; 44,549,160 parameters for 1000 classes), standardising its
    inputs with ``normalize`` (a dataset name, ``{"mean", "std"}``, or ``None`` for the bare network)."""
    from torchvision.models import resnet101 as tv_resnet101

    net = tv_resnet101(weights=None, num_classes=int(num_classes))
    if normalize is None:
        return net
    from .normalize import InputNormalized, normalization_stats

    return InputNormalized(net, *normalization_stats(normalize))
