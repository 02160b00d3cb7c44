"""Figure 4.5: accuracy against the number of weights of dense, DCNN, DTNN, Toeplitz and low-rank networks.
The claim cells and series on hand-made metrics, the parameter counts against the x values of the thesis's
figure data (and by hand), the paper grid against the thesis's text."""

import pytest

from ch4_helpers import PAPER, SMOKE, clone, count, metrics, plan_of, ref
from toeplitznet.items.ch4_dcnn import _runs, fig_4_5
from toeplitznet.plan import build_plan
from toeplitznet.reference import thesis_cells

N = 3072


def _hand_made():
    return [metrics(_runs.mlp_labels("dense", 1, "leaky_relu", 0.5), 0.56, 9_470_986),
            metrics(_runs.mlp_labels("dcnn", 20, "leaky_relu", 0.5), 0.56, 187_412),
            metrics(_runs.mlp_labels("dcnn", 2, "leaky_relu", 0.5), 0.53, 21_524),
            metrics(_runs.mlp_labels("lowrank", 1, "leaky_relu", 0.5, rank=7), 0.3, 67_664)]


def test_claim_cells_and_series():
    f45 = _hand_made()
    cells = {(c["row"], c["column"]): c["value"] for c in fig_4_5.claim_cells(f45)}
    assert cells[("DCNN", "depth at max accuracy")] == 20 and cells[("DCNN", "max accuracy")] == pytest.approx(56)
    assert cells[("all", "#weights range (min)")] == pytest.approx(21.524)
    assert cells[("all", "#weights range (max)")] == pytest.approx(187.412)
    assert cells[("DCNN", "#weights at max as % of dense")] == pytest.approx(100 * 187_412 / 9_470_986)
    assert cells[("Dense baseline", "#weights")] == pytest.approx(9.470986)
    assert cells[("Low-rank nets", "rank range (min)")] == cells[("Low-rank nets", "rank range (max)")] == 7
    # every claim cell is a cell of the thesis's text
    keys = {(c.row, c.column) for c in thesis_cells("fig_4_5")}
    assert set(cells) <= keys, set(cells) - keys
    res = fig_4_5.series(f45)
    assert res["dense"]["n_weights"] == 9_470_986 and [f["family"] for f in res["families"]] == ["dcnn", "lowrank"]
    assert res["families"][0]["n_weights"] == [21_524, 187_412] and res["families"][1]["size"] == [7]


def test_counts_match_the_x_values_of_the_thesis_figure_data():
    """Every structured point of the thesis's Figure 4.5 data: our count at its depth (rank), in thousands and
    truncated, equals the x value. Toeplitz / DTNN need the square-sliced output layer (2n - 1 diagonals)."""
    arch = _runs.paper_architectures(PAPER, ["fig_4_5"])["fig_4_5"]
    ours: dict[str, dict[int, int]] = {}
    for spec in arch.values():
        lab = spec["labels"]
        if lab["family"] != "dense":
            key = lab["rank"] if lab["family"] == "lowrank" else lab["depth"]
            ours.setdefault(lab["family"], {})[key] = count(spec["model"])
    rows = ref(fig_4_5.REFERENCE)
    series = {"circulant": ("dcnn", [2, 5, 10, 20, 30, 40]), "diag_toeplitz": ("dtnn", [1, 3, 5, 10, 15, 20, 23, 30]),
              "toeplitz": ("toeplitz", [2, 5, 10, 20, 30, 40]), "low_rank": ("lowrank", [2, 5, 10, 20, 30, 40])}
    for name, (fam, keys) in series.items():
        xs = sorted(int(float(r["x"])) for r in rows if r["series"] == name)
        assert [ours[fam][k] // 1000 for k in keys] == xs, name
    # by hand: 2 square Toeplitz layers (3n - 1 each) + square Toeplitz sliced to 10 rows + 10 biases
    assert ours["toeplitz"][2] == 2 * (3 * N - 1) + (2 * N - 1) + 10 == 24_583
    assert ours["dtnn"][1] == (4 * N - 1) + (2 * N - 1) + 10 + 10 == 18_450
    # Toeplitz 3n-1 per layer (40 layers: 368 600), DTNN 4n-1 (30: 368 610) on top of the output layer
    head = {"depth": 0, "n_in": N, "slice_square": True}
    assert ours["toeplitz"][40] - count({"family": "toeplitz", **head}) == 368_600
    assert ours["dtnn"][30] - count({"family": "dtnn", **head}) == 368_610
    # dense baseline: 3072 x 3072 + head = 9.47M ("9.4M"), computed without building it
    assert N * N + N + 10 * N + 10 == 9_470_986


def test_rectangular_toeplitz_output_reading():
    """studies.ch4_train.toeplitz_output: rectangular = a 3072 -> 10 Toeplitz output layer (n + 9 diagonals)."""
    cfg = clone(PAPER)
    cfg["studies"]["ch4_train"]["toeplitz_output"] = "rectangular"
    arch = _runs.paper_architectures(cfg, ["fig_4_5"])["fig_4_5"]
    [rid] = [r for r, e in arch.items() if e["labels"]["family"] == "toeplitz" and e["labels"]["depth"] == 2]
    rect = arch[rid]
    assert rect["model"]["slice_square"] is False
    assert count(rect["model"]) == 2 * (3 * N - 1) + (N + 10 - 1) + 10
    run = plan_of(PAPER).runs[rid].cfg["study"]
    assert run["model"]["slice_square"] is True
    assert build_plan(cfg).runs[rid].cfg["study"]["checkpoint_dir"] != run["checkpoint_dir"]


def test_paper_grid_is_the_thesis_text():
    f45 = PAPER["studies"]["fig_4_5"]
    assert min(f45["dcnn_depths"]) >= 1 and max(f45["dcnn_depths"]) == 40          # "depth from 1 to 40"
    assert max(f45["toeplitz_depths"]) == 40 and max(f45["dtnn_depths"]) == 30     # DTNN "from 1 to 30"
    assert min(f45["dtnn_depths"]) == 1
    assert 7 in f45["lowrank_ranks"] and max(f45["lowrank_ranks"]) == 40            # "rank from 7 to 40"
    assert f45["slope"] == 0.5 and f45["activation"] == "leaky_relu"                # ECAI E191
    assert len(_runs.item_runs(SMOKE, "fig_4_5")) < len(_runs.item_runs(PAPER, "fig_4_5"))
