"""Figure 5.1: |f(ω1, ω2)| of random kernels against an explicit sum, and PolyGrid's certified bound."""

import numpy as np
import pytest

from toeplitznet.items.ch5_bounds import fig_5_1
from toeplitznet.reference import thesis_cells


def test_trig_poly_modulus_against_explicit_sum():
    rng = np.random.default_rng(3)
    for s in (1, 3, 5):
        k = rng.standard_normal((s, s))
        w1, w2 = rng.uniform(0, 2 * np.pi, 4), rng.uniform(0, 2 * np.pi, 5)
        got = fig_5_1.trig_poly_modulus(k, w1, w2)
        d = s // 2
        for a, x in enumerate(w1):
            for b, y in enumerate(w2):
                f = sum(k[h1 + d, h2 + d] * np.exp(1j * (h1 * x + h2 * y))
                        for h1 in range(-d, d + 1) for h2 in range(-d, d + 1))
                assert got[a, b] == pytest.approx(abs(f), rel=1e-12)


def test_polygrid_certified_bound_holds():
    # Eq. 5.52 on many random kernels: fine-grid maximum ≤ (1 - 2d/S)^-1 × grid maximum
    rng = np.random.default_rng(4)
    fine = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    theta = 2 * np.pi * np.arange(10) / 10
    for _ in range(50):
        k = rng.standard_normal((3, 3))
        assert fig_5_1.trig_poly_modulus(k, fine, fine).max() <= \
            fig_5_1.trig_poly_modulus(k, theta, theta).max() / (1 - 0.2) + 1e-12


def test_settings_are_the_thesis_cells():
    cells = {(c.row, c.column): c.value for c in thesis_cells("fig_5_1")}
    assert cells == {("PolyGrid", "grid samples S for 3x3 kernel"): 10, ("PolyGrid", "alpha"): 0.2}
    assert fig_5_1.ITEM.scale_independent
