"""Independent reference of the Chapter 5 tests: the dense matrix of a convolution, built entry by entry."""

import numpy as np


def dense_conv_matrix(kernel: np.ndarray, n: int, padding: int) -> np.ndarray:
    """Matrix of x -> conv2d(x, kernel) (cross-correlation, zero padding, stride 1), built entry by entry."""
    cout, cin, kh, kw = kernel.shape
    m = n + 2 * padding - kh + 1
    mat = np.zeros((cout * m * m, cin * n * n))
    for o in range(cout):
        for y in range(m):
            for x in range(m):
                row = (o * m + y) * m + x
                for c in range(cin):
                    for a in range(kh):
                        for b in range(kw):
                            iy, ix = y + a - padding, x + b - padding
                            if 0 <= iy < n and 0 <= ix < n:
                                mat[row, (c * n + iy) * n + ix] += kernel[o, c, a, b]
    return mat


def dense_sigma1(kernel, n, padding):
    return float(np.linalg.svd(dense_conv_matrix(np.asarray(kernel, float), n, padding), compute_uv=False)[0])
