r"""Low displacement rank (LDR) layers of Thomas, Gu, Dao, Rudra & Ré (NeurIPS
2018), "Learning compressed transforms with low displacement rank" (the LDR
baselines of thesis Tables 4.1 and 4.5).

A matrix ``M`` (``N x N``) has displacement rank ``r`` with respect to the
operators ``(A, B)`` if the Sylvester displacement ``A M - M B = G H^T`` with
``G, H`` of shape ``(N, r)`` (thesis Definition 2.3).  The layer learns ``G``,
``H`` and (for ``"subdiagonal"`` and ``"tridiagonal"``) the operators.

Operator parametrisation
------------------------
Every operator is stored as (up to) three length-``N`` vectors describing a
*cyclic* tridiagonal matrix::

    A[i, i-1 mod N] = sub[i]      (sub[0]   is the top-right corner)
    A[i, i]         = diag[i]
    A[i, i+1 mod N] = sup[i]      (sup[N-1] is the bottom-left corner)

* ``kind="toeplitz"`` (Toeplitz-like, Sindhwani et al. 2015): fixed
  ``A = Z_1``, ``B = Z_{-1}``; ``2 r N`` parameters.
* ``kind="subdiagonal"`` (LDR-SD): ``A`` and ``B`` are learnable
  subdiagonal-plus-corner matrices (``sub`` only): ``N`` parameters each.
* ``kind="tridiagonal"`` (LDR-TD): learnable cyclic tridiagonal operators:
  ``3N`` parameters each.

Both learnable families are initialised at ``A = Z_1``, ``B = Z_{-1}`` (so an
LDR-SD/TD layer starts as a Toeplitz-like layer).  Thomas et al. use
subdiagonal / tridiagonal operators without corners (``N-1`` / ``3N-2``
parameters each, initialised at the nilpotent shift ``Z_0``); the two corner
entries are what makes the Sylvester equation uniquely solvable at
initialisation, and they change the parameter counts by 2 or 4 only.

Reconstruction of ``M`` from ``(A, B, G, H)``
--------------------------------------------
Telescoping ``sum_k A^k (A M - M B) B^{N-1-k} = A^N M - M B^N`` shows that if
``A^N = a I`` and ``B^N = b I`` with ``a != b`` then

.. math:: M = \frac{1}{a-b}\sum_{j=1}^r K(A, g_j)\, J\, K(B^T, h_j)^T,

with ``K(A, v) = [v, Av, ..., A^{N-1} v]`` and ``J`` the reversal (thesis
Theorem 2.3/2.4; for ``Z_1, Z_{-1}`` this is
``M = 1/2 sum_j Z_1(g_j) Z_{-1}(J h_j)``).

* A subdiagonal-plus-corner ``A`` with non-zero entries is similar to an
  ``a``-circulant shift: ``A = S Z_a S^{-1}`` with ``S = diag(s)``,
  ``s_i = prod_{m<=i, m>=1} sub[m]`` and ``a = prod_m sub[m]``; hence
  ``A^N = a I`` always and
  ``M = S_A [sum_j Z_a(S_A^{-1} g_j) Z_b(J S_B h_j)] S_B^{-1} / (a - b)``,
  which we apply with FFTs in O(r N log N) (``solver="fft"``, the default for
  ``"toeplitz"`` and ``"subdiagonal"``).  The displacement rank is exactly
  ``r`` for every learned operator with non-zero sub-diagonal entries and
  ``a != b``.  ``s`` and ``a`` are computed in log scale; they can still
  overflow if the operator entries drift far from magnitude 1 (products of
  ``N`` numbers), a limitation shared by every Krylov-based LDR layer.
* A general tridiagonal operator has no such property.  ``solver="krylov"``
  (default for ``"tridiagonal"``) builds the Krylov matrices explicitly
  (O(r N^2) memory, N sequential operator products) and uses the formula
  above with ``1/(a-b)`` replaced by ``1/2`` (its value at initialisation;
  for subdiagonal operators the true ``1/(a-b)`` is used, which makes
  ``"krylov"`` exact there too).  This follows the Krylov-product
  construction that Thomas et al. use instead of an exact inversion of the
  displacement operator; with general tridiagonal operators the result
  solves ``A M - M B = (A^N G H^T - G H^T B^N) / 2``: displacement rank
  exactly ``r`` at initialisation, at most ``2r`` once the operators move.
  ``solver="exact"`` solves the Sylvester equation exactly by diagonalising
  ``A`` and ``B`` (``torch.linalg.eig``, O(N^3) per forward pass,
  differentiable): displacement rank ``r`` for any operators
  without common eigenvalues, but only practical for ``N`` up to ~1000.

Non-square layers work at size ``N = max(n_in, n_out)``: the input is
zero-padded, the output sliced.  By default (``trim_unused=False``) the bias
has length ``N`` and is added before slicing (a square LDR layer whose output
is sliced, which is what reproduces the thesis's Table 4.5 counts).

Parameter count: ``2 r N`` (G, H) + ``{0, 2N, 6N}`` (operators) + bias.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

from ._fft import f_circulant_matmul, next_fast_len

__all__ = ["LDR"]

_KINDS = {"toeplitz": "toeplitz", "toeplitz_like": "toeplitz", "toeplitz-like": "toeplitz", "tl": "toeplitz",
          "subdiagonal": "subdiagonal", "sd": "subdiagonal", "ldr-sd": "subdiagonal", "ldr_sd": "subdiagonal",
          "tridiagonal": "tridiagonal", "td": "tridiagonal", "ldr-td": "tridiagonal", "ldr_td": "tridiagonal"}


def _cyclic_tridiag_dense(sub, diag, sup, N, dtype, device):
    A = torch.zeros(N, N, dtype=dtype, device=device)
    i = torch.arange(N, device=device)
    if sub is not None:
        A[i, (i - 1) % N] += sub
    if diag is not None:
        A[i, i] += diag
    if sup is not None:
        A[i, (i + 1) % N] += sup
    return A


class _TridiagKrylov(torch.autograd.Function):
    """Krylov iterates ``K[j, k] = T_j^k v_j`` (``k < N``) for ``R`` vectors
    ``v_j`` and cyclic tridiagonal operators ``T_j`` acting row-wise:
    ``(T v)_i = left_i v_{i-1} + mid_i v_i + right_i v_{i+1}`` (indices mod N).
    Output shape ``(R, N, N)``.

    Written as an autograd Function so that the N sequential steps run
    without building an N-node graph.  The backward pass runs the adjoint
    recurrence ``lam_k = dK_k + T^T lam_{k+1}`` and accumulates the
    coefficient gradients ``sum_k lam_{k+1} * (shifted K_k)`` on the fly
    (no N x R x N temporaries).
    """

    @staticmethod
    def forward(ctx, v0, left, mid, right):
        R, N = v0.shape
        K = v0.new_empty((R, N, N))
        K[:, 0] = v0
        v = v0
        for k in range(N - 1):
            nxt = left * torch.roll(v, 1, dims=-1)
            nxt.addcmul_(right, torch.roll(v, -1, dims=-1))
            nxt.addcmul_(mid, v)
            K[:, k + 1] = nxt
            v = nxt
        ctx.save_for_backward(K, left, mid, right)
        return K

    @staticmethod
    def backward(ctx, dK):
        K, left, mid, right = ctx.saved_tensors
        N = K.shape[1]
        lam = dK[:, N - 1].clone()
        d_left, d_mid, d_right = torch.zeros_like(left), torch.zeros_like(mid), torch.zeros_like(right)
        for k in range(N - 2, -1, -1):
            Kk = K[:, k]
            d_left.addcmul_(lam, torch.roll(Kk, 1, dims=-1))
            d_right.addcmul_(lam, torch.roll(Kk, -1, dims=-1))
            d_mid.addcmul_(lam, Kk)
            prev = torch.roll(left * lam, -1, dims=-1)
            prev.add_(torch.roll(right * lam, 1, dims=-1))
            prev.addcmul_(mid, lam)
            prev.add_(dK[:, k])
            lam = prev
        return lam, d_left, d_mid, d_right


class LDR(nn.Module):
    """Low displacement rank layer ``y = M x + b`` with ``A M - M B = G H^T``.

    See the module docstring for the operator families, the reconstruction
    algorithms and the parameter counts.  Initialisation: ``G`` and ``H``
    entries ``N(0, sigma^2)`` with ``sigma = (8/r)^(1/4) / sqrt(N)``, which
    gives the entries of the initial (Toeplitz-like) ``M`` variance ``2/N``
    (He); bias ``N(0, bias_std^2)``.
    """

    def __init__(
        self,
        n_in: int,
        n_out: int | None = None,
        kind: str = "toeplitz",
        rank: int = 1,
        bias: bool = True,
        *,
        solver: str | None = None,
        trim_unused: bool = False,
        bias_std: float = 1e-2,
    ):
        super().__init__()
        kind_key = kind.lower()
        if kind_key not in _KINDS:
            raise ValueError(f"unknown LDR kind {kind!r}; use toeplitz, subdiagonal or tridiagonal")
        self.kind = _KINDS[kind_key]
        self.n_in = int(n_in)
        self.n_out = self.n_in if n_out is None else int(n_out)
        self.size = N = max(self.n_in, self.n_out)
        self.rank = r = int(rank)
        if r < 1:
            raise ValueError("rank must be >= 1")
        default_solver = "krylov" if self.kind == "tridiagonal" else "fft"
        self.solver = solver or default_solver
        if self.solver not in ("fft", "krylov", "exact"):
            raise ValueError("solver must be 'fft', 'krylov' or 'exact'")
        if self.solver == "fft" and self.kind == "tridiagonal":
            raise ValueError("the FFT closed form needs subdiagonal operators; use 'krylov' or 'exact'")
        self.bias_std = float(bias_std)
        self.G = nn.Parameter(torch.empty(r, N))
        self.H = nn.Parameter(torch.empty(r, N))
        if self.kind == "toeplitz":
            self.register_buffer("A_sub", torch.ones(N))
            self.register_buffer("B_sub", torch.ones(N))
        else:
            self.A_sub = nn.Parameter(torch.empty(N))
            self.B_sub = nn.Parameter(torch.empty(N))
        if self.kind == "tridiagonal":
            self.A_diag = nn.Parameter(torch.empty(N))
            self.A_sup = nn.Parameter(torch.empty(N))
            self.B_diag = nn.Parameter(torch.empty(N))
            self.B_sup = nn.Parameter(torch.empty(N))
        else:
            self.A_diag = self.A_sup = self.B_diag = self.B_sup = None
        self.full_bias = not trim_unused
        self.bias = nn.Parameter(torch.empty(N if self.full_bias else self.n_out)) if bias else None
        self.reset_parameters()

    # ------------------------------------------------------------------ init
    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        N, r = self.size, self.rank
        sigma = (8.0 / r) ** 0.25 / math.sqrt(N)
        self.G.normal_(0.0, sigma, generator=generator)
        self.H.normal_(0.0, sigma, generator=generator)
        self.A_sub.fill_(1.0)  # Z_1
        self.B_sub.fill_(1.0)
        self.B_sub[0] = -1.0  # Z_{-1}
        for p in (self.A_diag, self.A_sup, self.B_diag, self.B_sup):
            if p is not None:
                p.zero_()
        if self.bias is not None:
            self.bias.normal_(0.0, self.bias_std, generator=generator) if self.bias_std > 0 else self.bias.zero_()

    # ------------------------------------------------------------- operators
    def operator_matrices(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Dense displacement operators ``(A, B)``."""
        N, dt, dev = self.size, self.G.dtype, self.G.device
        A = _cyclic_tridiag_dense(self.A_sub, self.A_diag, self.A_sup, N, dt, dev)
        B = _cyclic_tridiag_dense(self.B_sub, self.B_diag, self.B_sup, N, dt, dev)
        return A, B

    @staticmethod
    def _similarity(sub: torch.Tensor):
        """For ``A = (cyclic subdiagonal sub)``: ``s`` and ``a`` with
        ``A = diag(s) Z_a diag(s)^{-1}``; ``s`` is rescaled by a constant
        (which leaves ``M`` unchanged) to keep it near 1 in log scale."""
        w = sub[1:]
        logabs = torch.cumsum(torch.log(w.abs()), dim=0)
        sign = torch.cumprod(torch.sign(w), dim=0)
        logabs = torch.cat([logabs.new_zeros(1), logabs])
        sign = torch.cat([sign.new_ones(1), sign])
        a = sub[0] * sign[-1] * torch.exp(logabs[-1])
        s = sign * torch.exp(logabs - logabs.mean())
        return s, a

    def _apply_fft(self, x: torch.Tensor) -> torch.Tensor:
        """``M x`` (rows of ``x``) with the FFT closed form (subdiagonal operators)."""
        N = self.size
        L = next_fast_len(2 * N - 1)
        s_A, a = self._similarity(self.A_sub)
        s_B, b = self._similarity(self.B_sub)
        g = self.G / s_A  # S_A^{-1} g_j
        h = (self.H * s_B).flip(-1)  # J S_B h_j
        u = x / s_B  # S_B^{-1} x
        U = torch.fft.rfft(u, n=L).unsqueeze(-2)  # (..., 1, F)
        t = f_circulant_matmul(torch.fft.rfft(h, n=L), U, N, L, b)  # (..., r, N): Z_b(h_j) u
        T = torch.fft.rfft(t, n=L)
        w = (T * torch.fft.rfft(g, n=L)).sum(-2)  # sum_j Z_a(g_j) t_j, before folding
        z = torch.fft.irfft(w, n=L)
        hi = z[..., N : 2 * N]
        if hi.shape[-1] < N:
            hi = F.pad(hi, (0, N - hi.shape[-1]))
        z = z[..., :N] + a * hi
        return z * (s_A / (a - b))

    def _krylov_stack(self) -> torch.Tensor:
        """``K[j, k] = A^k g_j`` (``j < r``) and ``(B^T)^k h_{j-r}``
        (``j >= r``) for ``k < N``; shape ``(2r, N, N)``."""
        N, r = self.size, self.rank
        zeros = self.G.new_zeros(N)
        A_sub, A_diag, A_sup = self.A_sub, self.A_diag, self.A_sup
        B_sub, B_diag, B_sup = self.B_sub, self.B_diag, self.B_sup
        A_diag = zeros if A_diag is None else A_diag
        A_sup = zeros if A_sup is None else A_sup
        B_diag = zeros if B_diag is None else B_diag
        B_sup = zeros if B_sup is None else B_sup
        # (A v)_i   = sub_A[i] v_{i-1} + diag_A[i] v_i + sup_A[i] v_{i+1}
        # (B^T v)_i = sup_B[i-1] v_{i-1} + diag_B[i] v_i + sub_B[i+1] v_{i+1}
        left = torch.stack([A_sub, torch.roll(B_sup, 1)])
        mid = torch.stack([A_diag, B_diag])
        right = torch.stack([A_sup, torch.roll(B_sub, -1)])
        sel = torch.tensor([0] * r + [1] * r, device=self.G.device)
        left, mid, right = left[sel], mid[sel], right[sel]
        v0 = torch.cat([self.G, self.H], dim=0)
        return _TridiagKrylov.apply(v0, left, mid, right)

    def _exact_matrix(self) -> torch.Tensor:
        """Exact Sylvester solution by diagonalisation (O(N^3))."""
        A, B = self.operator_matrices()
        dt = torch.float64
        lam, VA = torch.linalg.eig(A.to(dt))
        mu, VB = torch.linalg.eig(B.to(dt))
        Gc = torch.linalg.solve(VA, self.G.T.to(VA.dtype))  # V_A^{-1} G
        Hc = self.H.to(VB.dtype) @ VB  # H^T V_B  (r, N)
        core = (Gc @ Hc) / (lam[:, None] - mu[None, :])
        M = VA @ core @ torch.linalg.inv(VB)
        return M.real.to(self.G.dtype)

    def full_matrix(self) -> torch.Tensor:
        """The ``N x N`` matrix ``M`` (before padding/slicing)."""
        N = self.size
        if self.solver == "fft":
            eye = torch.eye(N, dtype=self.G.dtype, device=self.G.device)
            return self._apply_fft(eye).T
        if self.solver == "exact":
            return self._exact_matrix()
        K = self._krylov_stack()  # (2r, k, N)
        r = self.rank
        KA, KB = K[:r], K[r:]
        # M = 1/(a-b) sum_j sum_k (A^k g_j) ((B^T)^{N-1-k} h_j)^T
        return self._krylov_scale() * torch.einsum("jkn,jkm->nm", KA, KB.flip(1))

    def _krylov_scale(self):
        """``1/(a-b)`` when ``A^N = aI, B^N = bI`` (subdiagonal operators),
        else ``1/2`` (its value at the ``Z_1, Z_{-1}`` initialisation)."""
        if self.kind == "tridiagonal":
            return 0.5
        _, a = self._similarity(self.A_sub)
        _, b = self._similarity(self.B_sub)
        return 1.0 / (a - b)

    # --------------------------------------------------------------- forward
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        N = self.size
        if self.n_in < N:
            x = F.pad(x, (0, N - self.n_in))
        if self.solver == "fft":
            y = self._apply_fft(x)
        elif self.solver == "exact":
            y = x @ self._exact_matrix().T
        else:
            K = self._krylov_stack()
            r = self.rank
            KA, KB = K[:r], K[r:]
            z = torch.einsum("jkm,...m->...jk", KB, x)  # h_j^T B^k x
            y = self._krylov_scale() * torch.einsum("jkn,...jk->...n", KA, z.flip(-1))
        if self.bias is not None and self.full_bias:
            y = y + self.bias
        if self.n_out < N:
            y = y[..., : self.n_out]
        if self.bias is not None and not self.full_bias:
            y = y + self.bias
        return y

    def dense_matrix(self) -> torch.Tensor:
        return self.full_matrix()[: self.n_out, : self.n_in]

    def effective_bias(self) -> torch.Tensor:
        if self.bias is None:
            return self.G.new_zeros(self.n_out)
        return self.bias[: self.n_out]

    # ------------------------------------------------------------ diagnostics
    @torch.no_grad()
    def displacement(self) -> torch.Tensor:
        """``A M - M B`` computed in float64 (for diagnostics/tests)."""
        m = copy.deepcopy(self).double()
        M = m.full_matrix()
        A, B = m.operator_matrices()
        return A @ M - M @ B

    @torch.no_grad()
    def displacement_rank(self, rtol: float = 1e-7) -> int:
        """Numerical rank of ``A M - M B``: singular values larger than
        ``rtol * (||A|| + ||B||) * ||M||`` (spectral norms, float64)."""
        m = copy.deepcopy(self).double()
        M = m.full_matrix()
        A, B = m.operator_matrices()
        R = A @ M - M @ B
        sv = torch.linalg.svdvals(R)
        scale = (torch.linalg.matrix_norm(A, 2) + torch.linalg.matrix_norm(B, 2)) * torch.linalg.matrix_norm(M, 2)
        return int((sv > rtol * scale).sum())

    def extra_repr(self) -> str:
        return (
            f"n_in={self.n_in}, n_out={self.n_out}, kind={self.kind!r}, rank={self.rank}, "
            f"solver={self.solver!r}, bias={self.bias is not None}"
        )
