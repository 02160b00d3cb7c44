"""Parameter counting."""

from __future__ import annotations

from torch import nn

__all__ = ["count_parameters"]


def count_parameters(model: nn.Module, trainable_only: bool = True, include_bn_stats: bool = False) -> int:
    """Number of scalar parameters of ``model``.

    Args:
        trainable_only: count only parameters with ``requires_grad`` (fixed
            buffers such as the scattering filters or fixed DC signs are never
            parameters anyway).
        include_bn_stats: also count the running mean and variance of every
            batch-norm layer (not ``num_batches_tracked``).  This is the
            convention that reproduces the thesis's Table 4.5 counts (see
            :mod:`toeplitznet.models.scattering`).
    """
    n = sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
    if include_bn_stats:
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._NormBase) and m.track_running_stats:
                n += m.running_mean.numel() + m.running_var.numel()
    return n
