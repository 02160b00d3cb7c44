"""Chapter 5 bound studies (Figure 5.2, Tables 5.1 and 5.2): core functions against independent
computations on tiny inputs, the thesis's labels, and the Snakemake targets in the dry-run DAG."""
import math

import numpy as np
import pytest
import torch

from conftest import run_snakemake
from toeplitznet.reference import thesis_cells
from toeplitznet.studies import fig_5_2, table_5_1, table_5_2


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


# ------------------------------------------------------------------------------------------ Figure 5.2
def test_shape_parsing_and_labels():
    assert fig_5_2.parse_shape("1x6x3x3") == (1, 6, 3, 3)
    assert fig_5_2.shape_label((1, 6, 3, 3)) == "6x3x3"
    with pytest.raises(ValueError):
        fig_5_2.parse_shape("6x3x3")
    k1 = fig_5_2.draw_kernel((1, 3, 3, 3), 0, 2)
    assert np.array_equal(k1, fig_5_2.draw_kernel((1, 3, 3, 3), 0, 2))
    assert not np.array_equal(k1, fig_5_2.draw_kernel((1, 3, 3, 3), 0, 3))


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


def test_fig_5_2_labels_are_the_thesis_cells():
    keys = {(c.row, c.column) for c in thesis_cells("fig_5_2")}
    assert (fig_5_2.PROSE_ROW_50, fig_5_2.PROSE_COL_50) in keys
    assert (fig_5_2.PROSE_ROW_224, fig_5_2.PROSE_COL_224) in keys


# ------------------------------------------------------------------------------------------ Table 5.1
def test_ratio_and_time_bookkeeping():
    st = table_5_1.ratio_stats([2.0, 3.0, 4.5], [1.0, 2.0, 3.0])
    assert st["ratios"] == [2.0, 1.5, 1.5]
    assert st["mean"] == pytest.approx(5 / 3)
    assert st["std"] == pytest.approx(math.sqrt(((1 / 3) ** 2 + 2 * (1 / 6) ** 2) / 2))
    ts = table_5_1.time_stats([1.0, 3.0])
    assert ts["mean"] == 2.0 and ts["std"] == pytest.approx(math.sqrt(2.0)) and ts["n"] == 2


def test_select_kernels_and_cnn_parameter_names():
    model = table_5_1.kernel_cnn(3, [8, 6], 10, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))
    assert model(torch.rand(2, 3, 16, 16)).shape == (2, 10)
    state = model.state_dict()
    ks = table_5_1.select_kernels(state, "conv2.weight", 8, 5)
    assert len(ks) == 5 and ks[0].shape == (1, 8, 3, 3)
    assert torch.equal(ks[3][0], state["conv2.weight"][3])
    k1 = table_5_1.select_kernels(state, "conv1.weight", 1, 4)
    assert k1[2].shape == (1, 1, 3, 3) and torch.equal(k1[2][0, 0], state["conv1.weight"][2, 0])
    with pytest.raises(KeyError, match="conv1.weight"):
        table_5_1.select_kernels(state, "conv9.weight", 1, 1)
    with pytest.raises(ValueError):
        table_5_1.select_kernels(state, "conv2.weight", 8, 7)


def test_evaluate_column_against_dense_svd():
    p = {"input_size": 6, "padding": 1, "lipbound_samples": 10, "power_iterations": 10, "gram_iterations": 6,
         "singla_variant": "min2", "arpack_tol": 1e-12, "warmup": 0, "repeats": 1}
    gen = torch.Generator().manual_seed(0)
    kernels = [torch.randn(1, 2, 3, 3, generator=gen, dtype=torch.float64) for _ in range(3)]
    res = table_5_1.evaluate_column(kernels, p, torch.device("cpu"), seed=0)
    dense = [dense_sigma1(k.numpy(), 6, 1) for k in kernels]
    assert res["exact"]["values"] == pytest.approx(dense, rel=1e-9)
    for key in table_5_1.METHOD_ROWS:
        if key == "exact":
            continue
        r = res[key]["ratio"]
        assert r["ratios"] == pytest.approx([v / e for v, e in zip(res[key]["values"], dense)], rel=1e-9)
        assert res[key]["time_ms"]["n"] == 3
    # bound directions: upper bounds >= 1, the power method's lower estimate <= 1
    for key in ("singla", "lipbound_certified", "gram"):
        assert min(res[key]["ratio"]["ratios"]) >= 1 - 1e-9, key
    assert max(res["power"]["ratio"]["ratios"]) <= 1 + 1e-9


def test_table_5_1_labels_are_the_thesis_cells():
    keys = {(c.row, c.column) for c in thesis_cells("table_5_1")}
    for key in ("sedghi", "singla", "power", "lipbound"):
        for col in ("1x3x3", "32x3x3"):
            for what in ("Ratio", "Time (ms)"):
                assert (table_5_1.METHOD_ROWS[key], f"{col} {what}") in keys
    assert ("setup", "number of kernels averaged") in keys


# ------------------------------------------------------------------------------------------ Table 5.2
def test_network_cells_ratio_and_labels():
    timing = {"n_layers": 5, "lipbound": {"mean_ms": 2.0, "std_ms": 0.1},
              "power_method": {"mean_ms": 16.4, "std_ms": 1.0}}
    cells = {(c["row"], c["column"]): c for c in table_5_2.network_cells("AlexNet", timing,
                                                                         ["lipbound", "power_method"])}
    assert cells[("AlexNet", "Ratio")]["value"] == pytest.approx(8.2)
    assert cells[("AlexNet", "LipBound (ms)")]["plus_minus"] == 0.1
    keys = {(c.row, c.column) for c in thesis_cells("table_5_2")}
    assert len(table_5_2.NETWORKS) == 17
    for label in table_5_2.NETWORKS.values():
        for col in ("LipBound (ms)", "Power Method (ms)", "Ratio"):
            assert (label, col) in keys
    assert ("LipBound vs PM", "max speed-up") in keys


# ------------------------------------------------------------------------------------------ the DAG
TARGETS = ["figures/fig_5_2.pdf", "paper_tables/fig_5_2.md", "paper_tables/table_5_1.md",
           "paper_tables/table_5_2.md"]


def test_targets_in_dry_run_dag(repo_copy):
    proc = run_snakemake(repo_copy, "-n", *TARGETS)
    out = proc.stdout
    for rule in ("train_table_5_1_cnn", "run_study", "render_table", "render_figure"):
        assert rule in out, rule
    for study in ("fig_5_2", "table_5_1", "table_5_2"):
        assert f"study={study}" in out
    paper = run_snakemake(repo_copy, "-n", "--profile", "profiles/paper", *TARGETS)
    assert "train_table_5_1_cnn" in paper.stdout and "cifar10/MANIFEST.json" in paper.stdout
