"""ACDC layer of Moczulski, Denil, Appleyard & de Freitas (ICLR 2016), "ACDC:
a structured efficient linear layer" (the baseline of thesis Section 4.5.1,
Figures 4.3 and 4.4)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ._fft import dct_matrix, dct_ortho, idct_ortho

__all__ = ["ACDC"]


class ACDC(nn.Module):
    r"""ACDC layer ``y = C^{-1} D C A x + b``.

    Moczulski et al. write the layer for row vectors as :math:`y = x A C D
    C^{-1}`; for column vectors this is: multiply by the diagonal ``A``,
    take the orthonormal DCT-II ``C`` (:func:`~toeplitznet.layers._fft.dct_ortho`,
    O(n log n) through one FFT), multiply by the diagonal ``D`` and apply the
    inverse DCT.  Non-square shapes: the transform is built at size
    ``N = max(n_in, n_out)``, the input (after ``A``) is zero-padded to ``N``
    and the output sliced to ``n_out``.

    Parameters: ``n_in`` (A) + ``N`` (D) + ``n_out`` (bias): ``3n`` when square.
    The bias is added in the output domain (Moczulski et al. attach it to
    ``D``; their riffle permutations between stacked layers are not
    reproduced here).

    Initialisation:

    * ``init="moczulski"`` (default): ``A, D ~ N(1, sigma^2)`` with
      ``sigma = 0.061`` (the paper's ImageNet setting "N(1, 0.061)", read as a
      standard deviation): the layer starts close to the identity.
    * ``init="thesis"``: the analogue of the thesis's DC initialisation
      (Section 4.4.1): ``A`` uniform on ``{-1, +1}`` and ``D ~ N(0, 2)``, so
      that ``E||y||^2 = 2 ||x||^2`` (the spectrum of a circulant initialised
      with ``N(0, 2/n)`` entries has that variance).
    """

    def __init__(
        self,
        n_in: int,
        n_out: int | None = None,
        bias: bool = True,
        *,
        init: str = "moczulski",
        sigma: float = 0.061,
        bias_std: float = 1e-2,
    ):
        super().__init__()
        self.n_in = int(n_in)
        self.n_out = self.n_in if n_out is None else int(n_out)
        self.size = max(self.n_in, self.n_out)
        if init not in ("moczulski", "thesis"):
            raise ValueError("init must be 'moczulski' or 'thesis'")
        self.init, self.sigma, self.bias_std = init, float(sigma), float(bias_std)
        self.A = nn.Parameter(torch.empty(self.n_in))
        self.D = nn.Parameter(torch.empty(self.size))
        self.bias = nn.Parameter(torch.empty(self.n_out)) if bias else None
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        if self.init == "moczulski":
            self.A.normal_(1.0, self.sigma, generator=generator)
            self.D.normal_(1.0, self.sigma, generator=generator)
        else:
            self.A.copy_(torch.randint(0, 2, (self.n_in,), generator=generator).float() * 2 - 1)
            self.D.normal_(0.0, math.sqrt(2.0), generator=generator)
        if self.bias is not None:
            self.bias.normal_(0.0, self.bias_std, generator=generator) if self.bias_std > 0 else self.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = x * self.A
        if self.size > self.n_in:
            z = F.pad(z, (0, self.size - self.n_in))
        y = idct_ortho(dct_ortho(z) * self.D)
        if self.size > self.n_out:
            y = y[..., : self.n_out]
        return y if self.bias is None else y + self.bias

    def dense_matrix(self) -> torch.Tensor:
        C = dct_matrix(self.size, dtype=self.D.dtype, device=self.D.device)
        W = C.T @ (self.D[:, None] * C)
        return W[: self.n_out, : self.n_in] * self.A[None, :]

    def effective_bias(self) -> torch.Tensor:
        return self.D.new_zeros(self.n_out) if self.bias is None else self.bias

    def extra_repr(self) -> str:
        return f"n_in={self.n_in}, n_out={self.n_out}, init={self.init!r}, bias={self.bias is not None}"
