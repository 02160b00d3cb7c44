"""Chapter 5, Sections 5.1-5.4: LipBound, the spectral-norm bound of convolutions, and its rivals
(Figures 5.1, 5.2, Tables 5.1, 5.2). The library is :mod:`toeplitznet.bounds`."""
