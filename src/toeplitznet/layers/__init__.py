"""Structured linear layers (thesis Chapters 2-4).

Every layer is an ``nn.Module`` mapping ``(..., n_in) -> (..., n_out)`` with a
``dense_matrix()`` method returning the equivalent dense ``(n_out, n_in)``
weight and an ``effective_bias()`` method, so that
``layer(x) == x @ layer.dense_matrix().T + layer.effective_bias()``.

=====================  =========================================  ==========================
layer                  structure                                  parameters (square, n)
=====================  =========================================  ==========================
``DiagonalCirculant``  ``D_m C_m ... D_1 C_1 x + b`` (FFT)        ``(2m + 1) n``
``Circulant``          ``circ(c) x`` (FFT)                        ``n`` (+ ``n`` bias)
``Toeplitz``           ``T x + b`` (circulant embedding, FFT)     ``3n - 1``
``DiagonalToeplitz``   ``D T x + b`` (DTNN block)                 ``4n - 1``
``LowRank``            ``U V^T x + b``                            ``2 r n + n``
``ACDC``               ``C^-1 D C A x + b`` (DCT via FFT)         ``3n``
``LDR``                ``A M - M B = G H^T`` (Thomas et al.)      ``2 r n + {0, 2n, 6n} + n``
=====================  =========================================  ==========================
"""

from ._fft import dct_ortho, get_fft_num_threads, idct_ortho, next_fast_len, set_fft_num_threads
from .acdc import ACDC
from .circulant import Circulant, DiagonalCirculant
from .ldr import LDR
from .lowrank import LowRank
from .toeplitz import DiagonalToeplitz, Toeplitz

__all__ = [
    "ACDC",
    "Circulant",
    "DiagonalCirculant",
    "DiagonalToeplitz",
    "LDR",
    "LowRank",
    "Toeplitz",
    "dct_ortho",
    "get_fft_num_threads",
    "idct_ortho",
    "next_fast_len",
    "set_fft_num_threads",
]
