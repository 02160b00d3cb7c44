"""FFT building blocks shared by the structured layers.

Everything here is written directly on top of ``torch.fft`` (real FFTs where
possible) and is differentiable through autograd.

Conventions
-----------
* A *circulant* matrix ``circ(c)`` has ``c`` as its **first column**:
  ``circ(c)[i, j] = c[(i - j) mod n]`` (the convention of
  ``scipy.linalg.circulant``), so ``circ(c) @ x`` is the circular convolution
  ``c (*) x``.
* An *f-circulant* matrix ``Z_f(v)`` (thesis Definition 2.2) is the circulant
  matrix whose entries above the diagonal are multiplied by ``f``:
  ``Z_f(v)[i, j] = v[i - j]`` if ``i >= j`` and ``f * v[n + i - j]`` otherwise.
  ``Z_1`` is circulant, ``Z_{-1}`` skew-circulant.
* The DCT is the orthonormal DCT-II (``scipy.fft.dct(norm="ortho")``) and the
  IDCT its inverse (orthonormal DCT-III).
"""

from __future__ import annotations

import contextlib
import math

import torch

__all__ = [
    "next_fast_len",
    "set_fft_num_threads",
    "get_fft_num_threads",
    "fft_threads",
    "circulant_matrix",
    "circular_conv",
    "dc_factor",
    "f_circulant_matrix",
    "f_circulant_matmul",
    "dct_ortho",
    "idct_ortho",
    "dct_matrix",
]


def next_fast_len(n: int) -> int:
    """Smallest 2^a 3^b 5^c integer >= n (sizes pocketfft/MKL handle fastest)."""
    if n <= 1:
        return 1
    best = 1 << (n - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            # smallest power of two making p35 * 2^k >= n
            q = -(-n // p35)
            cand = p35 * (1 << (q - 1).bit_length())
            if cand < best:
                best = cand
            p35 *= 3
        p5 *= 5
    return best


def circulant_matrix(c: torch.Tensor) -> torch.Tensor:
    """Dense ``circ(c)`` (first column ``c``), built by index gathering."""
    n = c.shape[-1]
    idx = (torch.arange(n, device=c.device)[:, None] - torch.arange(n, device=c.device)[None, :]) % n
    return c[..., idx]


# ----------------------------------------------------------- FFT threading
# On small shared CPUs, multi-threaded MKL FFT calls can stall for a whole
# scheduler time slice when GNU OpenMP worker threads busy-wait (default
# OMP_WAIT_POLICY): we measured 20-30 ms for a 128 x 2048 rfft that takes
# 0.15 ms single-threaded.  The FFTs of the circulant products (forward and
# backward) therefore run with at most ``_FFT_THREADS`` intra-op threads; the
# rest of the network keeps torch's setting.
_FFT_THREADS: int | None = 1


def set_fft_num_threads(n: int | None) -> None:
    """Max intra-op threads for the CPU FFTs of :func:`circular_conv`
    (``None``: leave torch's global setting untouched).  Default 1."""
    global _FFT_THREADS
    if n is not None and n < 1:
        raise ValueError("n must be >= 1 or None")
    _FFT_THREADS = n


def get_fft_num_threads() -> int | None:
    """Threads used by the layers' FFTs (set by :func:`set_fft_num_threads`; ``None``: torch's default)."""
    return _FFT_THREADS


@contextlib.contextmanager
def fft_threads(device: torch.device):
    """Temporarily cap torch's intra-op threads for CPU FFTs."""
    limit = _FFT_THREADS
    if limit is None or device.type != "cpu":
        yield
        return
    prev = torch.get_num_threads()
    if prev <= limit:
        yield
        return
    torch.set_num_threads(limit)
    try:
        yield
    finally:
        torch.set_num_threads(prev)


def _sum_to(t: torch.Tensor, shape) -> torch.Tensor:
    """Sum a broadcast gradient back to ``shape``."""
    while t.dim() > len(shape):
        t = t.sum(0)
    for i, s in enumerate(shape):
        if s == 1 and t.shape[i] != 1:
            t = t.sum(i, keepdim=True)
    return t


class _CircConv(torch.autograd.Function):
    """``y = irfft(rfft(x) * rfft(c))`` (circular convolution along the last
    axis, ``c`` broadcast against ``x``) with a hand-written backward so that
    every FFT, forward and backward, runs under :func:`fft_threads`:

    * ``dL/dx = irfft(G * conj(C))`` (circular correlation with ``c``),
    * ``dL/dc = irfft(sum_batch G * conj(X))``.

    ``forward`` also returns the spectra (non-differentiable) so that the
    function supports ``torch.func`` transforms (``generate_vmap_rule``).
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(x, c):
        n = x.shape[-1]
        with fft_threads(x.device):
            X = torch.fft.rfft(x)
            C = torch.fft.rfft(c)
            y = torch.fft.irfft(X * C, n=n)
        return y, X, C

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, c = inputs
        _, X, C = output
        ctx.mark_non_differentiable(X, C)
        ctx.save_for_backward(X, C)
        ctx.n, ctx.c_shape = x.shape[-1], tuple(c.shape)

    @staticmethod
    def backward(ctx, g, _gX=None, _gC=None):
        X, C = ctx.saved_tensors
        n = ctx.n
        gx = gc = None
        with fft_threads(g.device):
            G = torch.fft.rfft(g)
            if ctx.needs_input_grad[0]:
                gx = torch.fft.irfft(G * C.conj(), n=n)
            if ctx.needs_input_grad[1]:
                gc = torch.fft.irfft(_sum_to(G * X.conj(), ctx.c_shape[:-1] + (G.shape[-1],)), n=n)
        return gx, gc


class _DCFused(torch.autograd.Function):
    """One diagonal-circulant factor with bias, ``y = d * (c (*) x) + b``,
    forward and backward each in a single :func:`fft_threads` block (the hot
    path of square DC layers).  ``b`` may be None."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x, c, d, b):
        n = x.shape[-1]
        with fft_threads(x.device):
            X = torch.fft.rfft(x)
            C = torch.fft.rfft(c)
            z = torch.fft.irfft(X * C, n=n)
            y = torch.addcmul(b, z, d) if b is not None else z * d
        return y, X, C, z

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, c, d, b = inputs
        _, X, C, z = output
        ctx.mark_non_differentiable(X, C, z)
        ctx.save_for_backward(X, C, z, d)
        ctx.n, ctx.has_b = x.shape[-1], b is not None

    @staticmethod
    def backward(ctx, g, _gX=None, _gC=None, _gz=None):
        X, C, z, d = ctx.saved_tensors
        n = ctx.n
        gx = gc = gd = gb = None
        with fft_threads(g.device):
            lead = tuple(range(g.dim() - 1))
            if ctx.needs_input_grad[2]:
                gd = (g * z).sum(lead) if lead else g * z
            if ctx.has_b and ctx.needs_input_grad[3]:
                gb = g.sum(lead) if lead else g
            if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
                G = torch.fft.rfft(g * d)
                if ctx.needs_input_grad[0]:
                    gx = torch.fft.irfft(G * C.conj(), n=n)
                if ctx.needs_input_grad[1]:
                    GX = G * X.conj()
                    gc = torch.fft.irfft(GX.sum(lead) if lead else GX, n=n)
        return gx, gc, gd, gb


def dc_factor(x: torch.Tensor, c: torch.Tensor, d: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
    """``d * circ(c) x + b`` along the last axis (1-D ``c``, ``d``, ``b``)."""
    return _DCFused.apply(x, c, d, b)[0]


def circular_conv(x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """``circ(c) @ x`` along the last axis (``c`` broadcast against ``x``),
    with real FFTs: O(n log n).  See :class:`_CircConv`."""
    if c.shape[-1] != x.shape[-1]:
        raise ValueError("x and c must have the same last dimension")
    return _CircConv.apply(x, c)[0]


def f_circulant_matrix(v: torch.Tensor, f) -> torch.Tensor:
    """Dense ``Z_f(v)`` for a 1-D ``v`` (and a scalar or 0-d tensor ``f``)."""
    n = v.shape[-1]
    i = torch.arange(n, device=v.device)
    diff = i[:, None] - i[None, :]
    full = v[diff % n]
    upper = diff < 0
    return torch.where(upper, full * f, full)


def f_circulant_matmul(v_hat: torch.Tensor, x_hat: torch.Tensor, n: int, L: int, f) -> torch.Tensor:
    """Apply ``Z_f(v)`` given the length-``L`` real FFTs of ``v`` and ``x``.

    Uses the linear convolution ``w = v * x`` (``L >= 2n - 1`` so it is not
    aliased): ``(Z_f(v) x)_i = w_i + f * w_{i+n}``.
    """
    w = torch.fft.irfft(v_hat * x_hat, n=L)
    hi = w[..., n : 2 * n]
    if hi.shape[-1] < n:  # L == 2n - 1
        hi = torch.nn.functional.pad(hi, (0, n - hi.shape[-1]))
    return w[..., :n] + f * hi


# --------------------------------------------------------------------- DCT ---
def _dct_twiddle(n: int, device, dtype) -> torch.Tensor:
    k = torch.arange(n, device=device, dtype=dtype)
    scale = torch.full((n,), math.sqrt(2.0 / n), device=device, dtype=dtype)
    scale[0] = math.sqrt(1.0 / n)
    return torch.polar(scale, -math.pi * k / (2 * n))


def dct_ortho(x: torch.Tensor) -> torch.Tensor:
    """Orthonormal DCT-II along the last axis in O(n log n) (Makhoul's method).

    Reorders ``x`` as (even samples ascending, odd samples descending), takes
    one length-n complex FFT and rotates each coefficient by ``exp(-i pi k/2n)``.
    """
    n = x.shape[-1]
    v = torch.cat([x[..., ::2], x[..., 1::2].flip(-1)], dim=-1)
    V = torch.fft.fft(v)
    tw = _dct_twiddle(n, x.device, x.dtype)
    return (V * tw).real


def idct_ortho(X: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`dct_ortho` (orthonormal DCT-III) in O(n log n)."""
    n = X.shape[-1]
    k = torch.arange(n, device=X.device, dtype=X.dtype)
    scale = torch.full((n,), math.sqrt(n / 2.0), device=X.device, dtype=X.dtype)
    scale[0] = math.sqrt(float(n))
    Y = X * scale  # undo the orthonormal scaling -> plain cosine sums
    # W_k = Y_k - i Y_{n-k} (Y_n := 0);  V_k = exp(i pi k / 2n) W_k;  v = ifft(V)
    Y_rev = torch.cat([torch.zeros_like(Y[..., :1]), Y[..., 1:].flip(-1)], dim=-1)
    half = n // 2 + 1
    W = torch.complex(Y[..., :half], -Y_rev[..., :half])
    V = W * torch.polar(torch.ones_like(k[:half]), math.pi * k[:half] / (2 * n))
    v = torch.fft.irfft(V, n=n)
    x = torch.empty_like(v)
    n_even = (n + 1) // 2
    x[..., ::2] = v[..., :n_even]
    x[..., 1::2] = v[..., n_even:].flip(-1)
    return x


def dct_matrix(n: int, dtype=torch.float64, device=None) -> torch.Tensor:
    """Dense orthonormal DCT-II matrix ``C`` with ``dct_ortho(x) == C @ x``."""
    k = torch.arange(n, dtype=dtype, device=device)[:, None]
    j = torch.arange(n, dtype=dtype, device=device)[None, :]
    C = torch.cos(math.pi * k * (2 * j + 1) / (2 * n)) * math.sqrt(2.0 / n)
    C[0] *= 1 / math.sqrt(2.0)
    return C
