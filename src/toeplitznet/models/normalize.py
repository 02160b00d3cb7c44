"""Input standardisation as the first layer of a model.

Inputs stay in pixel space ([0, 1]) and the model standardises them per channel, so that an attack's
perturbation budget, a certified radius or a Lipschitz constant all refer to the pixels, and a checkpoint
carries its own normalisation.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["Standardize", "InputNormalized", "normalization_stats"]


class Standardize(nn.Module):
    """``(x - mean[c]) / std[c]`` per channel ``c``, for images ``(N, C, H, W)`` or flattened ``(N, C*H*W)``
    inputs (channel-major, as ``x.flatten(1)`` of an image).  ``mean``/``std`` are buffers, not parameters."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        super().__init__()
        mean_t = torch.as_tensor(list(mean), dtype=torch.float32)
        std_t = torch.as_tensor(list(std), dtype=torch.float32)
        if mean_t.ndim != 1 or mean_t.shape != std_t.shape or mean_t.numel() == 0:
            raise ValueError(f"mean and std need the same length >= 1, got {list(mean)} and {list(std)}")
        if bool((std_t <= 0).any()):
            raise ValueError(f"std must be positive, got {list(std)}")
        self.register_buffer("mean", mean_t)
        self.register_buffer("std", std_t)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.mean.numel()
        v = x.reshape(x.shape[0], c, -1)
        return ((v - self.mean[None, :, None]) / self.std[None, :, None]).reshape(x.shape)

    def extra_repr(self) -> str:
        return f"mean={[round(v, 4) for v in self.mean.tolist()]}, std={[round(v, 4) for v in self.std.tolist()]}"


class InputNormalized(nn.Module):
    """``net(Standardize(mean, std)(x))``; ``net`` stays reachable as ``.net``."""

    def __init__(self, net: nn.Module, mean: Sequence[float], std: Sequence[float]):
        super().__init__()
        self.normalize = Standardize(mean, std)
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.normalize(x))


def normalization_stats(spec) -> tuple[list[float], list[float]]:
    """``(mean, std)`` of a ``normalize`` spec: a dataset name (its training-set statistics,
    :data:`toeplitznet.data.MEAN` / ``STD``) or ``{"mean": [...], "std": [...]}``."""
    if isinstance(spec, str):
        from ..data import MEAN, STD

        if spec not in MEAN:
            raise ValueError(f"normalize: unknown dataset {spec!r}; choose from {sorted(MEAN)} or give "
                             "{'mean': [...], 'std': [...]}")
        return list(MEAN[spec]), list(STD[spec])
    if isinstance(spec, dict) and set(spec) == {"mean", "std"}:
        return list(spec["mean"]), list(spec["std"])
    raise ValueError(f"normalize must be a dataset name or {{'mean': [...], 'std': [...]}}, got {spec!r}")
