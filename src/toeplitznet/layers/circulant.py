"""Circulant and diagonal-circulant (DC) layers.

Reference: thesis Chapter 4 (Definition of DCNNs, Section 4.4.1
initialisation, Proposition 4.2) and Appendix B.2.3 (non-square DC layers by
concatenation and slicing); ECAI 2020 "Understanding and training deep
diagonal circulant neural networks", Definition 2 and Section 5.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ._fft import circulant_matrix, circular_conv, dc_factor

__all__ = ["Circulant", "DiagonalCirculant"]


def _rademacher(*shape: int, generator=None) -> torch.Tensor:
    return torch.randint(0, 2, shape, generator=generator).float().mul_(2).sub_(1)


class Circulant(nn.Module):
    """A single circulant matrix ``y = circ(c) x (+ b)``, applied with real FFTs.

    ``circ(c)`` has ``c`` as first column (``scipy.linalg.circulant(c)``).
    With ``n_out < n`` the output is sliced to its first ``n_out``
    coordinates (used as a "circulant classifier head", see
    :func:`toeplitznet.models.structured_mlp`).
    Parameters: ``n`` (+ ``n_out`` bias).  Initialisation: ``c ~ N(0, 2/n)``
    (thesis Section 4.4.1), bias zero.
    """

    def __init__(self, n: int, bias: bool = False, n_out: int | None = None):
        super().__init__()
        self.n = int(n)
        self.n_out = self.n if n_out is None else int(n_out)
        if self.n_out > self.n:
            raise ValueError("Circulant only supports n_out <= n")
        self.weight = nn.Parameter(torch.randn(self.n) * math.sqrt(2.0 / self.n))
        self.bias = nn.Parameter(torch.zeros(self.n_out)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = circular_conv(x, self.weight)
        if self.n_out < self.n:
            y = y[..., : self.n_out]
        return y if self.bias is None else y + self.bias

    def dense_matrix(self) -> torch.Tensor:
        return circulant_matrix(self.weight)[: self.n_out]

    def effective_bias(self) -> torch.Tensor:
        return self.weight.new_zeros(self.n_out) if self.bias is None else self.bias

    def extra_repr(self) -> str:
        return f"n={self.n}, n_out={self.n_out}, bias={self.bias is not None}"


class DiagonalCirculant(nn.Module):
    r"""Diagonal-circulant (DC) layer ``y = D_m C_m ... D_1 C_1 x + b``.

    One *factor* is the product ``D C`` of a diagonal matrix ``D = diag(d)``
    and a circulant matrix ``C = circ(c)`` (first column ``c``); with the
    thesis's definition :math:`f_{D,C,b}(x) = \phi(DCx + b)` the circulant is
    applied first, then the diagonal.  ``order="cd"`` gives the other
    convention ``y = C_m D_m ... C_1 D_1 x + b`` (diagonal first).
    Every circulant product is an ``rfft``/``irfft`` pair, so a forward pass
    costs O(m n log n) instead of O(n^2); the single-factor square layer uses
    a fused autograd kernel whose FFTs and elementwise work run with
    :func:`~toeplitznet.layers.set_fft_num_threads` threads (1 by default:
    on a small CPU the thread synchronisation costs more than it saves).

    Non-square shapes (thesis Appendix B.2.3: "we use concatenation and
    slicing"):

    * ``n_out <= n_in``: the DC product is built at size ``n_in`` and its
      output is sliced to the first ``n_out`` coordinates.  With the thesis
      order (``"dc"``) only ``n_out`` entries of the last diagonal and of the
      bias can influence the output; by default (``trim_unused=True``) only
      those are allocated, so the layer has ``(2m-1) n_in + 2 n_out``
      parameters (``n_in + 2 n_out`` for one factor).  ``trim_unused=False``
      keeps full-length diagonal and bias vectors (the bias is added before
      slicing): the same function with ``(2m+1) n_in`` parameters, some of
      which never receive a gradient.
    * ``n_out > n_in`` and ``wide="pad"`` (default): the input is zero-padded
      to ``n_out`` and a square DC product of size ``n_out`` is applied
      (``3 n_out`` parameters for one factor; this is what reproduces the
      exact YouTube-8M counts of ECAI Table 4: 4 DC = 25 410).
    * ``n_out > n_in`` and ``wide="concat"``: ``k = ceil(n_out / n_in)``
      independent DC products of size ``n_in`` are concatenated and the
      result sliced to ``n_out`` (Appendix B: "a concatenation of 8 DC
      matrices" for 1024 -> 8192); ``2 k m n_in + n_out`` parameters.

    Parameter count for a square layer: ``2 m n + n`` (``3n`` for one factor:
    circulant + diagonal + bias).

    Initialisation (thesis Section 4.4.1): circulant entries
    ``c_i ~ N(0, 2/n)`` with ``n = n_in`` (the fan-in, also for zero-padded
    layers), diagonal entries uniform on ``{-1, +1}``, bias
    ``N(0, bias_std^2)`` with ``bias_std = 1e-2`` by default (the thesis only
    says "some small value"; Proposition 4.2 assumes 0).  With ``m > 1``
    factors inside one layer (no nonlinearity between them) the circulant
    variances are ``1/n_in`` (first factor), ``1/size`` (middle factors) and
    ``2/size`` (last factor), so that the product has the same gain as a
    single factor, ``E||y||^2 = 2 size/n_in ||x||^2`` (our extension; the
    thesis does not say).

    Note on the factor order: with ``"dc"`` a ReLU output (non-zero mean)
    enters the next circulant directly, so the zero frequency of ``c``
    carries ~1/pi of the energy and the per-layer gain has a chi-square(1)
    component; the covariance of Proposition 4.2 still holds in expectation
    but the gain of a deep network is much more heavy-tailed than with
    ``"cd"`` (median output norm at depth 20, n = 64: ~0.1 vs ~0.35 of the
    mean; see ``tests/test_layers.py``).

    ``learn_diag=False`` keeps the random signs fixed (a buffer), leaving
    ``(m + 1) n`` trainable parameters for a square layer.
    """

    def __init__(
        self,
        n_in: int,
        n_out: int | None = None,
        n_factors: int = 1,
        bias: bool = True,
        *,
        order: str = "dc",
        wide: str = "pad",
        trim_unused: bool = True,
        learn_diag: bool = True,
        bias_std: float = 1e-2,
    ):
        super().__init__()
        n_out = n_in if n_out is None else n_out
        if order not in ("dc", "cd"):
            raise ValueError("order must be 'dc' (y = D C x) or 'cd' (y = C D x)")
        if wide not in ("pad", "concat"):
            raise ValueError("wide must be 'pad' or 'concat'")
        if n_factors < 1:
            raise ValueError("n_factors must be >= 1")
        self.n_in, self.n_out, self.n_factors = int(n_in), int(n_out), int(n_factors)
        self.order, self.learn_diag, self.bias_std = order, learn_diag, float(bias_std)

        if self.n_out <= self.n_in:
            self.mode, self.size, self.blocks = "slice", self.n_in, 1
        elif wide == "pad":
            self.mode, self.size, self.blocks = "pad", self.n_out, 1
        else:
            self.mode, self.size = "concat", self.n_in
            self.blocks = -(-self.n_out // self.n_in)
        self.wide = wide
        # trimming only makes sense when the last operation is the diagonal
        # and the output is sliced
        self.trimmed = bool(trim_unused and order == "dc" and self.mode == "slice" and self.n_out < self.n_in)

        k, m, N = self.blocks, self.n_factors, self.size
        self.circ = nn.Parameter(torch.empty(k, m, N))
        n_full_diag = m - 1 if self.trimmed else m
        # ``diag`` holds the full-length diagonals (None for a trimmed single
        # factor); ``diag_out`` the trimmed last diagonal (None if untrimmed)
        diag = torch.empty(k, n_full_diag, N) if n_full_diag > 0 else None
        diag_out = torch.empty(self.n_out) if self.trimmed else None
        for name, t in (("diag", diag), ("diag_out", diag_out)):
            if learn_diag:
                self.register_parameter(name, None if t is None else nn.Parameter(t))
            else:
                self.register_buffer(name, t)
        # untrimmed sliced layer: full-length bias added before slicing
        self.full_bias = self.mode == "slice" and self.n_out < self.n_in and not trim_unused
        bias_len = self.size if self.full_bias else self.n_out
        self.bias = nn.Parameter(torch.empty(bias_len)) if bias else None
        self.reset_parameters()

    # ------------------------------------------------------------------ init
    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        m, N = self.n_factors, self.size
        for i in range(m):
            if m == 1:
                var = 2.0 / self.n_in
            elif i == 0:
                var = 1.0 / self.n_in
            elif i < m - 1:
                var = 1.0 / N
            else:
                var = 2.0 / N
            self.circ[:, i].normal_(0.0, math.sqrt(var), generator=generator)
        if self.diag is not None:
            self.diag.copy_(_rademacher(*self.diag.shape, generator=generator))
        if self.diag_out is not None:
            self.diag_out.copy_(_rademacher(self.n_out, generator=generator))
        if self.bias is not None:
            if self.bias_std > 0:
                self.bias.normal_(0.0, self.bias_std, generator=generator)
            else:
                self.bias.zero_()

    # --------------------------------------------------------------- forward
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        N, m = self.size, self.n_factors
        if x.shape[-1] != self.n_in:
            raise ValueError(f"expected last dim {self.n_in}, got {x.shape[-1]}")
        if self.mode == "pad":
            x = F.pad(x, (0, N - self.n_in))
        circ, diag = self.circ, self.diag
        if m == 1 and self.order == "dc" and self.blocks == 1 and not self.trimmed and self.n_out == N:
            # hot path (square / zero-padded single factor): fused FFT kernel
            return dc_factor(x, circ[0, 0], diag[0, 0], self.bias)
        if self.blocks == 1:
            circ = circ[0]
            diag = None if diag is None else diag[0]
        else:
            x = x.unsqueeze(-2)  # broadcast over the k blocks
        last = m - 1
        for i in range(m):
            c = circ[..., i, :]
            if self.order == "cd":
                x = circular_conv(x * diag[..., i, :], c)
            else:
                x = circular_conv(x, c)
                if i < last or not self.trimmed:
                    x = x * diag[..., i, :]
        if self.blocks > 1:
            x = x.flatten(-2)
        if self.full_bias and self.bias is not None:
            return (x + self.bias)[..., : self.n_out]
        if x.shape[-1] != self.n_out:
            x = x[..., : self.n_out]
        if self.trimmed:
            if self.bias is not None:
                return torch.addcmul(self.bias, x, self.diag_out)
            return x * self.diag_out
        return x if self.bias is None else x + self.bias

    # ------------------------------------------------------------ utilities
    def dense_matrix(self) -> torch.Tensor:
        """Equivalent dense ``(n_out, n_in)`` weight, built from explicit
        circulant/diagonal matrices (independent of the FFT path)."""
        N, m = self.size, self.n_factors
        blocks = []
        for b in range(self.blocks):
            W = torch.eye(N, dtype=self.circ.dtype, device=self.circ.device)
            for i in range(m):
                C = circulant_matrix(self.circ[b, i])
                if self.trimmed and i == m - 1:
                    D = None
                else:
                    D = torch.diag(self.diag[b, i])
                if self.order == "cd":
                    W = C @ D @ W
                else:
                    W = C @ W if D is None else D @ C @ W
            blocks.append(W[:, : self.n_in])
        W = torch.cat(blocks, dim=0)[: self.n_out]
        if self.trimmed:
            W = self.diag_out[:, None] * W
        return W

    def effective_bias(self) -> torch.Tensor:
        """Bias actually added to the output (length ``n_out``)."""
        if self.bias is None:
            return torch.zeros(self.n_out, dtype=self.circ.dtype, device=self.circ.device)
        return self.bias[: self.n_out]

    def extra_repr(self) -> str:
        return (
            f"n_in={self.n_in}, n_out={self.n_out}, n_factors={self.n_factors}, order={self.order!r}, "
            f"mode={self.mode!r}, blocks={self.blocks}, trimmed={self.trimmed}, bias={self.bias is not None}"
        )
