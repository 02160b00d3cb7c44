"""Reference ("IRAM") largest singular value of the true zero-padded strided convolution.

The thesis (Section 5.4.2) uses the Implicitly Restarted Arnoldi Method (Lehoucq &
Sorensen 1996, ARPACK) available in SciPy as ground truth.  Here
:func:`scipy.sparse.linalg.svds` (ARPACK backend, which runs the implicitly
restarted Lanczos/Arnoldi iteration on ``A^T A``) is applied to a matrix-free
:class:`scipy.sparse.linalg.LinearOperator` whose ``matvec`` is ``conv2d`` and whose
``rmatvec`` is the exact adjoint ``conv_transpose2d`` (with ``output_padding`` for
strides), all in float64 on the CPU.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ._utils import IntPair, check_kernel
from .power_method import conv_operator_shapes

__all__ = ["exact_spectral_norm", "conv_linear_operator"]


def conv_linear_operator(kernel: torch.Tensor, input_size: IntPair, padding=None, stride: IntPair = 1, *, dilation: IntPair = 1, groups: int = 1):
    """Matrix-free float64 :class:`~scipy.sparse.linalg.LinearOperator` of the convolution.

    Shape ``(cout * Ho * Wo, cin * H * W)``; vectors are flattened in PyTorch's
    ``(channel, row, column)`` order.
    """
    from scipy.sparse.linalg import LinearOperator

    check_kernel(kernel)
    info = conv_operator_shapes(kernel.shape, input_size, padding, stride, dilation, groups)
    w = kernel.detach().to(device="cpu", dtype=torch.float64)
    in_shape, out_shape = info["in_shape"], info["out_shape"]
    conv_kw = dict(stride=info["stride"], padding=info["padding"], dilation=info["dilation"], groups=groups)
    n_in, n_out = int(np.prod(in_shape)), int(np.prod(out_shape))

    def matvec(x):
        t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64)).reshape(1, *in_shape)
        with torch.no_grad():
            return F.conv2d(t, w, **conv_kw).reshape(-1).numpy()

    def rmatvec(y):
        t = torch.from_numpy(np.ascontiguousarray(y, dtype=np.float64)).reshape(1, *out_shape)
        with torch.no_grad():
            return F.conv_transpose2d(t, w, output_padding=info["output_padding"], **conv_kw).reshape(-1).numpy()

    def matmat(x):
        return np.stack([matvec(c) for c in np.asarray(x).T], axis=1)

    def rmatmat(y):
        return np.stack([rmatvec(c) for c in np.asarray(y).T], axis=1)

    return LinearOperator((n_out, n_in), matvec=matvec, rmatvec=rmatvec, matmat=matmat, rmatmat=rmatmat, dtype=np.float64)


def exact_spectral_norm(
    kernel: torch.Tensor,
    input_size: IntPair,
    padding=None,
    stride: IntPair = 1,
    tol: float = 1e-10,
    *,
    dilation: IntPair = 1,
    groups: int = 1,
    maxiter: int | None = None,
    seed: int = 0,
) -> float:
    """Largest singular value of the zero-padded strided convolution by ARPACK (``svds``).

    Parameters
    ----------
    kernel : torch.Tensor
        ``(cout, cin/groups, kh, kw)``; converted to float64 on the CPU.
    input_size : int or (int, int)
        Input spatial size ``n`` (or ``(H, W)``).
    padding : None, int, pair, "same" or "valid"
        Zero padding (``None``: ``k // 2``).
    stride : int or pair, default 1
    tol : float, default 1e-10
        ARPACK relative tolerance.
    dilation, groups, maxiter : keyword-only
        Passed to the convolution / to ARPACK.
    seed : int, keyword-only, default 0
        Seed of the (fixed) random start vector, so the result is deterministic.

    Returns
    -------
    float
        sigma_1 of the operator (the thesis's "IRAM" reference).  This is the
        numerically exact value (to ``tol``), not a bound; it is not
        differentiable.  Tiny operators (smallest dimension < 3, where ARPACK
        cannot be used) fall back to a dense SVD.
    """
    from scipy.sparse.linalg import svds

    op = conv_linear_operator(kernel, input_size, padding, stride, dilation=dilation, groups=groups)
    m, n = op.shape
    if min(m, n) < 3:
        dense = op.matmat(np.eye(n))
        return float(np.linalg.svd(dense, compute_uv=False)[0])
    v0 = np.random.default_rng(seed).standard_normal(min(m, n))
    s = svds(op, k=1, tol=tol, which="LM", v0=v0, maxiter=maxiter, return_singular_vectors=False, solver="arpack")
    return float(np.max(s))
