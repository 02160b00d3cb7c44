"""Low-rank layer ``W = U V^T`` (thesis Section 4.5.1, "Low-Rank networks",
after Yu et al. 2017)."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["LowRank"]


class LowRank(nn.Module):
    """Rank-``r`` linear layer ``y = U (V^T x) + b`` with ``U`` of shape
    ``(n_out, r)`` and ``V`` of shape ``(n_in, r)``.

    Parameters: ``r (n_in + n_out) + n_out``.  Initialisation:
    ``V ~ N(0, 1/n_in)``, ``U ~ N(0, 2/r)``, so every entry of ``U V^T`` has
    variance ``2/n_in`` (He initialisation of the product); bias
    ``N(0, bias_std^2)``.
    """

    def __init__(self, n_in: int, n_out: int | None = None, rank: int = 1, bias: bool = True, *, bias_std: float = 1e-2):
        super().__init__()
        self.n_in = int(n_in)
        self.n_out = self.n_in if n_out is None else int(n_out)
        self.rank = int(rank)
        if self.rank < 1:
            raise ValueError("rank must be >= 1")
        self.bias_std = float(bias_std)
        self.U = nn.Parameter(torch.empty(self.n_out, self.rank))
        self.V = nn.Parameter(torch.empty(self.n_in, self.rank))
        self.bias = nn.Parameter(torch.empty(self.n_out)) if bias else None
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        self.V.normal_(0.0, math.sqrt(1.0 / self.n_in), generator=generator)
        self.U.normal_(0.0, math.sqrt(2.0 / self.rank), generator=generator)
        if self.bias is not None:
            self.bias.normal_(0.0, self.bias_std, generator=generator) if self.bias_std > 0 else self.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = x @ self.V
        if self.bias is None:
            return z @ self.U.T
        return torch.addmm(self.bias, z.reshape(-1, self.rank), self.U.T).reshape(*x.shape[:-1], self.n_out)

    def dense_matrix(self) -> torch.Tensor:
        return self.U @ self.V.T

    def effective_bias(self) -> torch.Tensor:
        return self.U.new_zeros(self.n_out) if self.bias is None else self.bias

    def extra_repr(self) -> str:
        return f"n_in={self.n_in}, n_out={self.n_out}, rank={self.rank}, bias={self.bias is not None}"
