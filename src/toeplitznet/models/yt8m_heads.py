"""Dimension-reduction and classification blocks of the YouTube-8M frame-level models (thesis Appendix B.2.1,
Figure B.1, L7013-7034, L7163-7170; Chapter 4 Figure 4.7, L4940-4950).

* :class:`FCBlock` -- "FC 512": projection without bias -> batch norm -> ReLU6 (research note, author's
  ``make_fc``; thesis L7168: "batch normalization before each nonlinear activation"); ``compact=True`` replaces the
  projection by :func:`~.yt8m_compact.compact_linear` (one DC of size ``n_in`` sliced to ``n_out``, L7122-7123).
* :class:`MoE` -- mixture of experts (Jordan & Jacobs 1993; Abu-El-Haija et al. 2016; L7024-7030): for every
  class a softmax gate over ``M + 1`` experts, the last one a "dummy" expert that always predicts 0, and ``M``
  sigmoid experts; ``p_c = sum_{m<M} g_cm e_cm``.  Gates without bias, experts with bias (research note).
  ``compact=True``: the two maps are :func:`compact_linear` with ``diag="none"`` by default (the author's
  ``Circulant_MoeModel``; reproduces Table B.1's "Compact MoE" count, see :mod:`.yt8m_compact`).
* :class:`ContextGating` -- ``y = x * sigmoid(BN(x W))`` (Miech et al. 2017; L7030-7034), ``W`` of size
  ``dim x dim`` without bias when batch norm is on (the author's code: BN with scale and shift).

Layouts (our convention, the thesis is silent): the gate and expert outputs are class-major, ``[c, m]`` at index
``c * (M + 1) + m`` (resp. ``c * M + m``), as the starter code's reshape.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .yt8m_compact import compact_linear, projection

__all__ = ["FCBlock", "MoE", "ContextGating"]


def _check_dims(**dims: int) -> None:
    for name, v in dims.items():
        if int(v) != v or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")


class FCBlock(nn.Module):
    """``ReLU6(BN(P x))`` with ``P`` dense (``nn.Linear`` without bias) or compact (DC, no bias).

    Parameters: dense ``n_in * n_out + 2 n_out``; compact ``2 m n_in + 2 n_out`` with ``diag="learned"`` and
    ``order="cd"`` (Table B.2: m = 1, 3, 6 factors)."""

    def __init__(self, n_in: int, n_out: int = 512, *, compact: bool = False, n_factors: int = 1,
                 diag: str = "learned", order: str = "cd", init: str = "thesis"):
        super().__init__()
        _check_dims(n_in=n_in, n_out=n_out, n_factors=n_factors)
        self.n_in, self.n_out, self.compact = int(n_in), int(n_out), bool(compact)
        self.proj = projection(n_in, n_out, compact=compact, n_factors=n_factors, diag=diag, order=order, init=init,
                               dense_std=1.0 / math.sqrt(n_out) if init == "author" else None)
        self.bn = nn.BatchNorm1d(n_out)
        self.act = nn.ReLU6()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.proj(x)))


class MoE(nn.Module):
    """Mixture of ``mixtures`` logistic experts per class (+ the dummy expert); input ``[B, n_in]``, output
    probabilities ``[B, n_classes]``.

    Parameters (dense): gates ``n_in C (M+1)`` + experts ``n_in C M + C M``; at the thesis's sizes (C = 3862,
    M = 4) 17,811,544 for ``n_in = 512`` and 35,607,640 for ``n_in = 1024``.  Compact (``diag="none"``):
    ``n_in ceil(C(M+1)/n_in) + n_in ceil(CM/n_in) + CM`` = 50,776 for ``n_in = 512``.
    """

    def __init__(self, n_in: int, n_classes: int = 3862, mixtures: int = 4, *, compact: bool = False,
                 diag: str = "none", order: str = "cd", n_factors: int = 1, init: str = "thesis"):
        super().__init__()
        _check_dims(n_in=n_in, n_classes=n_classes, mixtures=mixtures, n_factors=n_factors)
        self.n_in, self.n_classes, self.mixtures, self.compact = int(n_in), int(n_classes), int(mixtures), compact
        n_gates, n_experts = n_classes * (mixtures + 1), n_classes * mixtures
        if compact:
            kw = dict(n_factors=n_factors, diag=diag, order=order, init=init)
            self.gates = compact_linear(n_in, n_gates, bias=False, init_std=1 / math.sqrt(n_gates), **kw)
            self.experts = compact_linear(n_in, n_experts, bias=True, init_std=1 / math.sqrt(n_experts),
                                          bias_init=1 / math.sqrt(n_experts) if init == "author" else None, **kw)
        else:
            if n_factors != 1:
                raise ValueError("n_factors only applies to compact=True")
            self.gates = nn.Linear(n_in, n_gates, bias=False)
            self.experts = nn.Linear(n_in, n_experts, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        C, M = self.n_classes, self.mixtures
        gates = torch.softmax(self.gates(x).unflatten(-1, (C, M + 1)), dim=-1)
        experts = torch.sigmoid(self.experts(x).unflatten(-1, (C, M)))
        return (gates[..., :M] * experts).sum(-1)


class ContextGating(nn.Module):
    """``x * sigmoid(BN(x W))`` (``batch_norm=True``, no bias) or ``x * sigmoid(x W + b)``.

    Parameters: ``dim^2 + 2 dim`` (3862 classes: 14,922,768) with batch norm."""

    def __init__(self, dim: int, batch_norm: bool = True):
        super().__init__()
        _check_dims(dim=dim)
        self.dim = int(dim)
        self.linear = nn.Linear(dim, dim, bias=not batch_norm)
        self.bn = nn.BatchNorm1d(dim) if batch_norm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = self.linear(x)
        if self.bn is not None:
            g = self.bn(g)
        return x * torch.sigmoid(g)
