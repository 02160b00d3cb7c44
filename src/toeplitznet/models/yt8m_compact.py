"""Compact (diagonal-circulant) replacements of the dense maps of the YouTube-8M models (thesis Appendix B.2.3,
L7094-7123; Chapter 4 Table 4.4).

:func:`compact_linear` builds an ``n_in -> n_out`` map from the existing
:class:`~toeplitznet.layers.DiagonalCirculant` layer with ``wide="concat"``: for ``n_out > n_in``,
``ceil(n_out / n_in)`` independent DC products of size ``n_in`` are concatenated and sliced (L7119-7122: "a
concatenation of 8 DC matrices" for 1024 -> 8192); for ``n_out <= n_in`` one DC product of size ``n_in`` is sliced
(L7122-7123: 8192 -> 512).

The diagonals, ``diag=``:

* ``"learned"`` -- the thesis's approach (Eq. B.3, both D and C trained).
* ``"fixed"`` -- Cheng et al. (2015), Figure B.5 (L7258-7266): random {-1, +1} signs kept fixed (a buffer, so
  :func:`~toeplitznet.models.count_parameters` counts only the circulant vectors).
* ``"none"`` -- circulant blocks only (D = identity, a fixed buffer of ones).  This is the author's "MoE with DC"
  (research note: ``Circulant_MoeModel`` has circulant blocks without any D); the thesis does not say so, but only
  this choice reproduces Table B.1's "Compact MoE" count (12M, CR 72.0).

Factor order, ``order=``: the author's Appendix B layer computes ``C (D x)`` per factor (diagonal first; research
note, ``utils_layer.py``), i.e. ``order="cd"``, the default here.  It reproduces the thesis's counts: every entry
of D and C influences the sliced output, ``2 m n_in`` parameters per block.  ``order="dc"`` is Eq. B.3 read
literally (``prod D C``); sliced to ``n_out < n_in`` its last diagonal only needs ``n_out`` entries, which the
layer trims (``trim_unused``), so the same shape has ``(2m-1) n_in + n_out`` parameters (8704 instead of 16384
for one 8192 -> 512 factor).

Initialisation, ``init=``: ``"thesis"`` keeps the layer's default (thesis Section 4.4.1: ``c ~ N(0, 2/n_in)``,
D = +-1; the thesis says nothing specific for Appendix B); ``"author"`` draws c *and* a learned d from
``N(0, std^2)`` with ``std = 1/sqrt(n_out)`` unless ``init_std`` is given (the author's code: 1/sqrt(512) for the
FC layer, 1/sqrt(8192) for the DBoF projection).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..layers import DiagonalCirculant

__all__ = ["DIAG_MODES", "CirculantBlocks", "compact_linear", "projection"]

DIAG_MODES = ("learned", "fixed", "none")


class CirculantBlocks(DiagonalCirculant):
    """:class:`~toeplitznet.layers.DiagonalCirculant` with every diagonal fixed to ones (``diag="none"``): a
    concatenation of sliced circulant matrices.  Only the initialisation differs from the parent class."""

    def __init__(self, n_in: int, n_out: int, n_factors: int = 1, bias: bool = False, **kw):
        super().__init__(n_in, n_out, n_factors, bias, learn_diag=False, **kw)

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        super().reset_parameters(generator)
        for buf in (self.diag, self.diag_out):
            if buf is not None:
                buf.fill_(1.0)


def compact_linear(
    n_in: int,
    n_out: int,
    *,
    n_factors: int = 1,
    diag: str = "learned",
    order: str = "cd",
    bias: bool = False,
    init: str = "thesis",
    init_std: float | None = None,
    bias_init: float | None = None,
) -> DiagonalCirculant:
    """A DC map ``n_in -> n_out`` (see the module docstring).  ``bias_init`` (with ``bias=True``) sets the bias to
    a constant (the author's compact MoE experts: ``1/sqrt(n_out)``); default: the layer's ``N(0, 0.01^2)``."""
    if diag not in DIAG_MODES:
        raise ValueError(f"diag must be one of {DIAG_MODES}, got {diag!r}")
    if init not in ("thesis", "author"):
        raise ValueError(f"init must be 'thesis' or 'author', got {init!r}")
    if n_in < 1 or n_out < 1:
        raise ValueError(f"n_in and n_out must be >= 1, got {n_in}, {n_out}")
    kw = dict(order=order, wide="concat")
    if diag == "none":
        layer: DiagonalCirculant = CirculantBlocks(n_in, n_out, n_factors, bias, **kw)
    else:
        layer = DiagonalCirculant(n_in, n_out, n_factors, bias, learn_diag=diag == "learned", **kw)
    if init == "author":
        std = 1.0 / math.sqrt(n_out) if init_std is None else float(init_std)
        with torch.no_grad():
            layer.circ.normal_(0.0, std)
            if diag == "learned":
                for p in (layer.diag, layer.diag_out):
                    if p is not None:
                        p.normal_(0.0, std)
    if bias and bias_init is not None:
        with torch.no_grad():
            layer.bias.fill_(float(bias_init))
    return layer


def projection(n_in: int, n_out: int, *, compact: bool, n_factors: int = 1, diag: str = "learned",
               order: str = "cd", init: str = "thesis", dense_std: float | None = None) -> nn.Module:
    """The bias-free projection ahead of a batch norm (DBoF, FC block): :func:`compact_linear` when ``compact``,
    else ``nn.Linear(n_in, n_out, bias=False)`` with weights ``N(0, dense_std^2)`` when ``dense_std`` is given
    (torch's default initialisation otherwise)."""
    if compact:
        return compact_linear(n_in, n_out, n_factors=n_factors, diag=diag, order=order, init=init)
    if n_factors != 1 or diag != "learned":
        raise ValueError("n_factors and diag only apply to compact=True")
    lin = nn.Linear(n_in, n_out, bias=False)
    if dense_std is not None:
        nn.init.normal_(lin.weight, 0.0, float(dense_std))
    return lin
