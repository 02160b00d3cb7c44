"""Scattering front end + structured head (thesis Section 4.5.4, Table 4.5;
ECAI Table 2): "2 depth scattering on the RGB images followed by a batch norm
and LDR or DC layer".

The fixed (non-trained) front end is kymatio's ``Scattering2D`` with ``J``
scales and ``L`` angles (second order); its output is flattened to
``C * K * (H / 2^J) * (W / 2^J)`` features with
``K = 1 + J L + L^2 J (J - 1) / 2`` (``81`` for ``J=2, L=8``), i.e. 15 552
features for 32x32 RGB and 3 969 for 28x28 grayscale.  A ``BatchNorm1d`` over
the flattened features follows, then the head.

Heads (``head=``):

* ``"dc"``: ``depth`` hidden DC layers of width ``n_features`` then a DC
  layer sliced to ``n_classes`` (:func:`~toeplitznet.models.mlp.build_stack`
  with ``family="dcnn"``).  "DC (1 layers)" of Table 4.5 is ``depth=1``,
  "DC (3 layers)" ``depth=3``.
* ``"ldr_sd"`` / ``"ldr_td"`` / ``"toeplitz_like"``: one ``N x N`` LDR layer
  (``N = n_features``) whose output is sliced to ``n_classes`` (the bias has
  length ``N``); ``rank`` sets ``r``.  (There is no room for a dense
  ``N x 10`` layer in the printed counts: 10 N alone exceeds 140K.)
* ``"dense"``: ``nn.Linear(n_features, n_classes)``.

Parameter counts (32x32 RGB, N = 15 552).  Five of the six printed Table 4.5 numbers are
reproduced when the batch-norm running mean and variance are counted (Toeplitz-like r = 1: 108 864 vs 110K)
(``count_parameters(model, include_bn_stats=True)``, 4N for the batch norm):

==================  =================  =====================  ========
head                trainable          + BN running stats      thesis
==================  =================  =====================  ========
DC, depth 1         6N + 20 = 93 332   8N + 20 = 124 436      124K
DC, depth 3         12N + 20           14N + 20 = 217 748     217K
LDR-SD, r = 1       7N = 108 864       9N = 139 968           140K
LDR-SD, r = 10      25N = 388 800      27N = 419 904          420K
Toeplitz-like r=1   5N = 77 760        7N = 108 864           110K
Toeplitz-like r=10  23N = 357 696      25N = 388 800          388K
==================  =================  =====================  ========

INVENTORY section 8 explains the DC rows differently (trainable BN 2N + two
full 3N DC layers = 8N = 124 416); ``trim_unused=False`` reproduces that
reading (same function, 2N - 20 parameters that never receive a gradient).
"""

from __future__ import annotations

import torch
from torch import nn

from .mlp import build_stack
from ..layers import LDR

__all__ = ["ScatteringNet", "scattering_feature_count"]

_LDR_HEADS = {
    "ldr_sd": "subdiagonal", "ldr-sd": "subdiagonal", "sd": "subdiagonal", "subdiagonal": "subdiagonal",
    "ldr_td": "tridiagonal", "ldr-td": "tridiagonal", "td": "tridiagonal", "tridiagonal": "tridiagonal",
    "toeplitz_like": "toeplitz", "toeplitz-like": "toeplitz", "toeplitz": "toeplitz", "ldr_toeplitz": "toeplitz",
}


def scattering_feature_count(input_shape=(3, 32, 32), J: int = 2, L: int = 8) -> int:
    """Number of flattened second-order scattering coefficients."""
    C, H, W = input_shape
    if H % (2**J) or W % (2**J):
        raise ValueError(f"input size {H}x{W} must be divisible by 2^J = {2**J}")
    K = 1 + J * L + (L * L * J * (J - 1)) // 2
    return C * K * (H // 2**J) * (W // 2**J)


class ScatteringNet(nn.Module):
    """Scattering (fixed) -> BatchNorm1d -> structured head.

    Args:
        head: ``"dc"``, ``"ldr_sd"``, ``"ldr_td"``, ``"toeplitz_like"`` or
            ``"dense"`` (see the module docstring).
        input_shape: ``(C, H, W)``; ``H`` and ``W`` divisible by ``2^J``.
        n_classes: number of logits.
        J, L: scattering scales and angles (max order 2).
        depth: number of hidden DC layers (``head="dc"``).
        rank: displacement rank (LDR heads).
        activation, slope, relu_every: activations between the hidden DC
            layers (default Leaky-ReLU, slope 0.3, after each layer).
        **head_kwargs: forwarded to the head layers (e.g. ``trim_unused``,
            ``n_factors``, ``bias_std`` for DC; ``solver`` for LDR).

    ``features(x)`` returns the (detached) flattened scattering coefficients
    and ``classify(f)`` applies batch norm + head to them, so that features
    can be precomputed once: ``model(x) == model.classify(model.features(x))``.
    """

    def __init__(
        self,
        head: str = "dc",
        input_shape=(3, 32, 32),
        n_classes: int = 10,
        J: int = 2,
        L: int = 8,
        depth: int = 1,
        rank: int = 1,
        activation: str | None = "leaky_relu",
        slope: float = 0.3,
        relu_every: int = 1,
        **head_kwargs,
    ):
        super().__init__()
        from kymatio.torch import Scattering2D  # lazy: optional dependency

        self.input_shape = tuple(int(s) for s in input_shape)
        C, H, W = self.input_shape
        self.n_features = scattering_feature_count(self.input_shape, J, L)
        self.J, self.L, self.n_classes = J, L, n_classes
        self.scattering = Scattering2D(J=J, shape=(H, W), L=L, max_order=2)
        self.bn = nn.BatchNorm1d(self.n_features)
        h = head.lower()
        self.head_name = h
        N = self.n_features
        if h == "dc":
            mods = build_stack("dcnn", N, n_classes, depth, None, activation, slope, relu_every, None,
                               "structured", True, **head_kwargs)
            self.head = nn.Sequential(*mods)
        elif h in _LDR_HEADS:
            self.head = nn.Sequential(LDR(N, n_classes, kind=_LDR_HEADS[h], rank=rank, **head_kwargs))
        elif h == "dense":
            self.head = nn.Sequential(nn.Linear(N, n_classes))
        else:
            raise ValueError(f"unknown head {head!r}")

    @torch.no_grad()
    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Flattened scattering coefficients, shape ``(B, n_features)``."""
        if x.dim() == 3:  # (B, H, W) grayscale
            x = x.unsqueeze(1)
        if tuple(x.shape[1:]) != self.input_shape:
            x = x.reshape(x.shape[0], *self.input_shape)
        return self.scattering(x.contiguous()).flatten(1)

    def classify(self, f: torch.Tensor) -> torch.Tensor:
        return self.head(self.bn(f))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.features(x))
