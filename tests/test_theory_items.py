"""Figure 5.1 and Table D.1 against independent computations."""
import math

import numpy as np
import pytest
from scipy.special import gammaln

from toeplitznet.studies import fig_5_1, table_D_1


@pytest.mark.parametrize("d", [2, 3, 784, 3072, 150528])
def test_equal_volume_radius(d):
    r = table_D_1.l2_radius_equal_volume(d)
    log_vol_l2 = (d / 2) * math.log(math.pi) + d * math.log(r) - gammaln(d / 2 + 1)
    assert log_vol_l2 == pytest.approx(d * math.log(2), rel=1e-10)  # = log Vol([-1, 1]^d)


def test_thesis_exponents_match_recomputation():
    # exponents printed in the thesis (truncated) and our own closed form
    for d, printed in [(2, -0.183), (784, -7.344), (3072, -29.76), (150528, -1478.71)]:
        assert table_D_1.thesis_exponent(d) == pytest.approx(printed, abs=0.01)
    assert table_D_1.hoeffding_exponent(784) == pytest.approx(2 * table_D_1.thesis_exponent(784))


def test_exact_ratio_2d_by_monte_carlo():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(2_000_000, 2))
    r = 2 / math.sqrt(math.pi)
    mc = np.mean((x ** 2).sum(1) <= r * r)  # std ≈ 2e-4
    assert table_D_1.exact_ratio_2d() == pytest.approx(mc, abs=1.5e-3)
    # ... and the thesis's printed "bound" at d = 2 is below the true ratio: it is not a bound there
    assert math.exp(table_D_1.thesis_exponent(2)) < table_D_1.exact_ratio_2d()


def test_bound_holds_where_it_applies_small_d():
    # d = 60: r2² < d/3, Hoeffding applies; Monte Carlo ratio must be below the bound
    d = 60
    r2sq = table_D_1.l2_radius_equal_volume(d) ** 2
    assert r2sq < d / 3
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(400_000, d))
    mc = np.mean((x ** 2).sum(1) <= r2sq)
    assert mc <= math.exp(table_D_1.hoeffding_exponent(d)) <= math.exp(table_D_1.thesis_exponent(d))


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
