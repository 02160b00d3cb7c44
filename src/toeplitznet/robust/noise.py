"""Noise injection on the input image: the randomised networks of thesis Appendix C (L7825-7945) and the
noise-injection defences (NI, RAT) of Appendix D (L8310-8451).

:class:`NoisyInput` draws fresh noise at every forward pass, in training *and* in evaluation (the defence is
the randomness), and adds it to the image before the wrapped model (which standardises its input itself).
Noise is stated by its standard deviation ``sd`` in the units of the model's input (pixels in [0, 1] here):

* ``gaussian``: N(0, sd²);
* ``laplace``: Laplace(0, b) with scale ``b = sd / √2`` (the variance of Laplace(0, b) is 2b²);
* ``uniform``: U[-a, a] with ``a = √3 · sd`` (the variance of U[-a, a] is a²/3); :func:`uniform_sd` converts a
  half-width.

The thesis states Appendix C's sds on its [-1, 1] input scale: :func:`sd_on_unit_scale` converts them (a
[-1, 1] image is ``2x - 1`` of a [0, 1] one, so an sd of s there is s / 2 here). No clipping to [0, 1] after
the noise (the thesis adds it to the network's input; ``clip=True`` is an option).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["NoisyInput", "sample_noise", "sd_on_unit_scale", "uniform_sd", "DISTRIBUTIONS"]

DISTRIBUTIONS = ("gaussian", "laplace", "uniform")


def sd_on_unit_scale(sd: float, scale: str = "pm1") -> float:
    """The sd on [0, 1] pixels of an sd stated on the ``scale`` (``"pm1"``: [-1, 1], the thesis's Appendix C;
    ``"unit"``: [0, 1], unchanged)."""
    if scale == "pm1":
        return float(sd) / 2.0
    if scale == "unit":
        return float(sd)
    raise ValueError(f"scale must be 'pm1' or 'unit', got {scale!r}")


def uniform_sd(half_width: float) -> float:
    """The sd of U[-half_width, half_width] (``half_width / √3``)."""
    return float(half_width) / math.sqrt(3.0)


def sample_noise(like: Tensor, dist: str, sd: float, generator: torch.Generator | None = None) -> Tensor:
    """A draw of zero-mean noise of standard deviation ``sd`` with the shape, dtype and device of ``like``."""
    if dist not in DISTRIBUTIONS:
        raise ValueError(f"noise distribution must be one of {DISTRIBUTIONS}, got {dist!r}")
    sd = float(sd)
    if sd < 0:
        raise ValueError(f"noise sd must be >= 0, got {sd}")
    if dist == "gaussian":
        return torch.randn(like.shape, dtype=like.dtype, device=like.device, generator=generator) * sd
    u = torch.rand(like.shape, dtype=like.dtype, device=like.device, generator=generator)
    if dist == "uniform":
        return (2 * u - 1) * (math.sqrt(3.0) * sd)
    # Laplace by inversion: u in [0, 1) -> v in (-1/2, 1/2]; -b sign(v) log(1 - 2|v|)
    v = 0.5 - u
    b = sd / math.sqrt(2.0)
    return -b * torch.sign(v) * torch.log1p(-2 * v.abs()).clamp_min(-80.0)


class NoisyInput(nn.Module):
    """``model(x + noise)`` with fresh noise at every call, in train and eval mode (Appendix C's randomised
    network; Appendix D's noise injection). ``active = False`` switches the noise off (e.g. to measure what the
    noise costs). ``model`` stays reachable as ``.model``; its Lipschitz constant is that of ``model``
    (a translation does not change it)."""

    def __init__(self, model: nn.Module, dist: str, sd: float, clip: bool = False):
        super().__init__()
        if dist not in DISTRIBUTIONS:
            raise ValueError(f"noise distribution must be one of {DISTRIBUTIONS}, got {dist!r}")
        if float(sd) < 0:
            raise ValueError(f"noise sd must be >= 0, got {sd}")
        self.model, self.dist, self.sd, self.clip, self.active = model, dist, float(sd), bool(clip), True

    def forward(self, x: Tensor) -> Tensor:
        if self.active and self.sd > 0:
            x = x + sample_noise(x, self.dist, self.sd)
            if self.clip:
                x = x.clamp(0.0, 1.0)
        return self.model(x)

    def extra_repr(self) -> str:
        return f"dist={self.dist}, sd={self.sd:g}, clip={self.clip}, active={self.active}"
