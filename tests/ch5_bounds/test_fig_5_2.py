"""Figure 5.2: the gap Γ(n) = LipBound − σ1(M(n)). Core functions against independent computations (dense
SVDs, a fine grid, finite differences) on tiny inputs, and the prose cells' labels against the thesis."""

import math

import numpy as np
import pytest

from dense_conv import dense_sigma1
from toeplitznet.items.ch5_bounds import fig_5_2
from toeplitznet.reference import thesis_cells


def test_shape_parsing_and_labels():
    assert fig_5_2.parse_shape("1x6x3x3") == (1, 6, 3, 3)
    assert fig_5_2.shape_label((1, 6, 3, 3)) == "6x3x3"
    with pytest.raises(ValueError):
        fig_5_2.parse_shape("6x3x3")
    k1 = fig_5_2.draw_kernel((1, 3, 3, 3), 0, 2)
    assert np.array_equal(k1, fig_5_2.draw_kernel((1, 3, 3, 3), 0, 2))
    assert not np.array_equal(k1, fig_5_2.draw_kernel((1, 3, 3, 3), 0, 3))
    assert fig_5_2.input_sizes({"n_min": 6, "n_max": 20, "n_step": 6}) == [6, 12, 18]


@pytest.mark.parametrize("shape", [(1, 2, 3, 3), (1, 1, 5, 5)])
def test_gamma_matches_dense_svd(shape):
    kernel = fig_5_2.draw_kernel(shape, 0, 7)
    lb = fig_5_2.lipbound_values(kernel, 64)
    sizes = [3, 4, 5, 6]
    curve = fig_5_2.gamma_curve(kernel, sizes, lb["sup"], 1e-12)
    dense = [dense_sigma1(kernel, n, shape[-1] // 2) for n in sizes]
    assert curve["sigma1"] == pytest.approx(dense, rel=1e-9)
    assert curve["gamma"] == pytest.approx([lb["sup"] - s for s in dense], abs=1e-8)
    # Theorem 5.5 (with the true supremum): Γ(n) >= 0, and Γ is non-increasing in n (nested sections)
    assert min(curve["gamma"]) > 0 and curve["non_increasing"]
    assert all(b >= a - 1e-12 for a, b in zip(dense, dense[1:]))


def test_supremum_refinement_against_fine_grid():
    kernel = fig_5_2.draw_kernel((1, 3, 5, 5), 0, 1)
    lb = fig_5_2.lipbound_values(kernel, 32)
    # brute force on a fine grid, directly from the definition of f_j (Eq. 5.50, up to a phase)
    w = np.linspace(0, 2 * np.pi, 1201, endpoint=False)
    e = np.exp(-1j * np.outer(w, np.arange(5)))
    f = np.einsum("pa,jab,qb->jpq", e, kernel[0], e)
    fine = math.sqrt(float((np.abs(f) ** 2).sum(0).max()))
    assert lb["polygrid"] <= lb["sup"] + 1e-12 <= lb["certified"] + 2e-12
    assert lb["sup"] >= fine - 1e-12  # refined sup at least the fine-grid maximum
    assert lb["sup"] == pytest.approx(fine, rel=1e-4)


def test_symbol_power_gradient():
    row = fig_5_2.draw_kernel((1, 2, 3, 3), 0, 4)[0]
    w = np.array([0.3, 1.7])
    g, grad = fig_5_2.symbol_power(row, w, grad=True)
    h = 1e-6
    num = [(fig_5_2.symbol_power(row, w + h * e) - fig_5_2.symbol_power(row, w - h * e)) / (2 * h)
           for e in np.eye(2)]
    assert grad == pytest.approx(num, rel=1e-5, abs=1e-6)


def test_prose_labels_are_the_thesis_cells():
    keys = {(c.row, c.column) for c in thesis_cells("fig_5_2")}
    assert keys == {(fig_5_2.PROSE_ROW_50, fig_5_2.PROSE_COL_50), (fig_5_2.PROSE_ROW_224, fig_5_2.PROSE_COL_224)}
    # the figure renders its prose numbers as a table too
    assert fig_5_2.ITEM.render_kinds == ("figure", "table")
