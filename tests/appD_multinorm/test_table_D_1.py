"""Table D.1: volume of the ℓ2 ∩ ℓ∞ balls (Theorem D.1) against independent computations (log-gamma
volumes, Monte Carlo) and the thesis's printed exponents."""

import math

import numpy as np
import pytest
from scipy.special import gammaln

from toeplitznet.items.appD_multinorm import table_D_1
from toeplitznet.reference import thesis_cells


@pytest.mark.parametrize("d", [2, 3, 784, 3072, 150528])
def test_equal_volume_radius(d):
    r = table_D_1.l2_radius_equal_volume(d)
    log_vol_l2 = (d / 2) * math.log(math.pi) + d * math.log(r) - gammaln(d / 2 + 1)
    assert log_vol_l2 == pytest.approx(d * math.log(2), rel=1e-10)  # = log Vol([-1, 1]^d)


def test_thesis_exponents_match_recomputation():
    # exponents printed in the thesis (truncated) and our own closed form
    printed = {int(c.value): None for c in thesis_cells("table_D_1") if c.column == "Dim. (d)"}
    for c in thesis_cells("table_D_1"):
        if c.column == "Vol. of the intersection (bound) - exponent":
            d = next(int(x.value) for x in thesis_cells("table_D_1") if x.row == c.row and x.column == "Dim. (d)")
            printed[d] = c.value
    assert printed == {2: -0.183, 784: -7.344, 3072: -29.76, 150528: -1478.71}
    for d, value in printed.items():
        assert table_D_1.thesis_exponent(d) == pytest.approx(value, abs=0.01)
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


def test_study_cells_are_the_thesis_rows(tmp_path):
    import json

    from conftest import ROOT
    from toeplitznet.config import load_config
    from toeplitznet.studies.runner import run_from_cli

    cfg = load_config(ROOT / "config/config.yaml")
    run_from_cli("table_D_1", cfg, tmp_path)
    res = json.loads((tmp_path / "table_D_1.json").read_text())
    assert res["scale_independent"] and res["item"] == "table_D_1"
    ours = {(c["row"], c["column"]): c["value"] for c in res["cells"]}
    for c in thesis_cells("table_D_1"):
        if c.column == "Dim. (d)":
            assert ours[(c.row, c.column)] == c.value
        elif c.column.endswith("exponent"):
            assert ours[(c.row, c.column)] == pytest.approx(c.value, abs=0.01)
