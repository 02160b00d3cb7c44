"""Toeplitz and diagonal-Toeplitz layers (thesis Section 4.5.1, "Toeplitz
networks" and "DTNNs").

A Toeplitz matrix ``T`` of shape ``(n_out, n_in)`` is stored as the vector
``t`` of its ``n_in + n_out - 1`` diagonals: ``T[i, j] = t[i - j + n_in - 1]``
(``t[0]`` is the top-right corner, ``t[n_in - 1]`` the main diagonal,
``t[-1]`` the bottom-left corner).  The product ``T x`` is computed by
embedding ``T`` in a circulant matrix of size ``L >= n_in + n_out - 1`` (``L``
rounded up to a 2^a 3^b 5^c length) and using real FFTs: O(L log L).
"""

from __future__ import annotations

import math

import torch
from torch import nn

import torch.nn.functional as F

from ._fft import circular_conv, next_fast_len

__all__ = ["Toeplitz", "DiagonalToeplitz", "toeplitz_matrix", "toeplitz_matmul"]


def toeplitz_matrix(t: torch.Tensor, n_in: int, n_out: int) -> torch.Tensor:
    """Dense ``(n_out, n_in)`` Toeplitz matrix with ``T[i, j] = t[i - j + n_in - 1]``."""
    i = torch.arange(n_out, device=t.device)[:, None]
    j = torch.arange(n_in, device=t.device)[None, :]
    return t[i - j + n_in - 1]


def toeplitz_matmul(x: torch.Tensor, t: torch.Tensor, n_in: int, n_out: int) -> torch.Tensor:
    """``x @ T.T`` for the Toeplitz matrix defined by ``t``, via circulant embedding."""
    L = next_fast_len(n_in + n_out - 1)
    # kernel k with k[m mod L] = t[m + n_in - 1] for m in [-(n_in-1), n_out-1]
    k = torch.cat([t[n_in - 1 :], t.new_zeros(L - (n_in + n_out - 1)), t[: n_in - 1]])
    y = circular_conv(F.pad(x, (0, L - n_in)), k)
    return y[..., :n_out]


def _n_diagonals(n_in: int, n_out: int, slice_square: bool) -> int:
    """Stored diagonals: ``n_in + n_out - 1``, or ``2 n_in - 1`` for a square matrix sliced to ``n_out`` rows."""
    return 2 * n_in - 1 if slice_square else n_in + n_out - 1


class _ToeplitzBase(nn.Module):
    """What :class:`Toeplitz` and :class:`DiagonalToeplitz` share: sizes, the stored diagonals ``weight``
    (``slice_square`` semantics), their initialisation with the bias, and the diagonals actually used."""

    def __init__(self, n_in: int, n_out: int | None, bias_std: float, slice_square: bool):
        super().__init__()
        self.n_in = int(n_in)
        self.n_out = self.n_in if n_out is None else int(n_out)
        self.bias_std = float(bias_std)
        self.slice_square = bool(slice_square and self.n_out < self.n_in)

    def _new_diagonals(self) -> nn.Parameter:
        return nn.Parameter(torch.empty(_n_diagonals(self.n_in, self.n_out, self.slice_square)))

    @torch.no_grad()
    def _reset_diagonals_and_bias(self, generator: torch.Generator | None) -> None:
        self.weight.normal_(0.0, math.sqrt(2.0 / self.n_in), generator=generator)
        if self.bias is not None:
            self.bias.normal_(0.0, self.bias_std, generator=generator) if self.bias_std > 0 else self.bias.zero_()

    def used_diagonals(self) -> torch.Tensor:
        """The ``n_in + n_out - 1`` diagonals that define the output (all of ``weight`` unless sliced)."""
        return self.weight[: self.n_in + self.n_out - 1]

    def effective_bias(self) -> torch.Tensor:
        return self.weight.new_zeros(self.n_out) if self.bias is None else self.bias

    def extra_repr(self) -> str:
        return (f"n_in={self.n_in}, n_out={self.n_out}, bias={self.bias is not None}"
                + (", slice_square=True" if self.slice_square else ""))


class Toeplitz(_ToeplitzBase):
    """General Toeplitz layer ``y = T x + b``.

    Parameters: ``n_in + n_out - 1`` (Toeplitz) ``+ n_out`` (bias); for a
    square layer ``3n - 1`` (INVENTORY section 8: 40 layers of 3072 ->
    368 600).  Initialisation: ``t ~ N(0, 2/n_in)`` (each row has ``n_in``
    i.i.d. entries, the analogue of the thesis's DC initialisation), bias
    ``N(0, bias_std^2)``.

    ``slice_square=True`` (only meaningful for ``n_out < n_in``) stores the
    ``2 n_in - 1`` diagonals of the square ``n_in x n_in`` Toeplitz matrix and
    keeps its first ``n_out`` rows, as a sliced DC layer does: the same
    function, but the ``n_in - n_out`` diagonals below row ``n_out`` are
    parameters that never receive a gradient.  This is the counting that
    reproduces the weight counts of the thesis's Figure 4.5 Toeplitz and DTNN
    networks (e.g. 2 layers on 3072 inputs: ``2 (3n - 1) + (2n - 1) + 10 =
    24 583``, the "24K" of its data).
    """

    def __init__(self, n_in: int, n_out: int | None = None, bias: bool = True, *, bias_std: float = 1e-2,
                 slice_square: bool = False):
        super().__init__(n_in, n_out, bias_std, slice_square)
        self.weight = self._new_diagonals()
        self.bias = nn.Parameter(torch.empty(self.n_out)) if bias else None
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        self._reset_diagonals_and_bias(generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = toeplitz_matmul(x, self.used_diagonals(), self.n_in, self.n_out)
        return y if self.bias is None else y + self.bias

    def dense_matrix(self) -> torch.Tensor:
        return toeplitz_matrix(self.used_diagonals(), self.n_in, self.n_out)


class DiagonalToeplitz(_ToeplitzBase):
    """DTNN block ``y = D T x + b``: a DC layer whose circulant is replaced by
    a Toeplitz matrix (thesis Section 4.5.1, "DTNNs").

    As in the thesis's DC layer ``D C x``, the Toeplitz matrix is applied
    first and the diagonal ``D = diag(d)`` (length ``n_out``) second.
    Parameters: ``n_out`` (diagonal) + ``n_in + n_out - 1`` (Toeplitz) +
    ``n_out`` (bias); ``4n - 1`` when square (INVENTORY section 8: 30 layers
    of 3072 -> 368 610).  Initialisation: ``d`` uniform on ``{-1, +1}``,
    ``t ~ N(0, 2/n_in)``, bias ``N(0, bias_std^2)``.  ``slice_square``: as in
    :class:`Toeplitz` (the diagonal and the bias keep ``n_out`` entries).
    """

    def __init__(self, n_in: int, n_out: int | None = None, bias: bool = True, *, bias_std: float = 1e-2,
                 slice_square: bool = False):
        super().__init__(n_in, n_out, bias_std, slice_square)
        self.diag = nn.Parameter(torch.empty(self.n_out))
        self.weight = self._new_diagonals()
        self.bias = nn.Parameter(torch.empty(self.n_out)) if bias else None
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        self.diag.copy_(torch.randint(0, 2, (self.n_out,), generator=generator).float() * 2 - 1)
        self._reset_diagonals_and_bias(generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = toeplitz_matmul(x, self.used_diagonals(), self.n_in, self.n_out)
        if self.bias is None:
            return y * self.diag
        return torch.addcmul(self.bias, y, self.diag)

    def dense_matrix(self) -> torch.Tensor:
        return self.diag[:, None] * toeplitz_matrix(self.used_diagonals(), self.n_in, self.n_out)
