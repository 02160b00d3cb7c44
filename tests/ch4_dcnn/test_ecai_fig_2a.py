"""ECAI Figure 2(a): DCNN accuracy against depth with a ReLU after every k-th DC layer. Expansion with the
canonical linear runs, the series (a linear run stands for every period above its depth), the paper grid."""

import pytest

from ch4_helpers import PAPER, SMOKE, clone, metrics, run_on_metrics
from toeplitznet.items.ch4_dcnn import _runs, ecai_fig_2a
from toeplitznet.reference import thesis_cells


def test_expansion_shares_the_linear_runs():
    cfg = clone(SMOKE)
    cfg["studies"]["ecai_fig_2a"]["depths"] = [1, 2]
    ids = _runs.item_runs(cfg, "ecai_fig_2a")
    # k=1: d1, d2; k=2: d1 (linear), d2; k=3: d1 (the same linear run), d2 (linear)
    assert ids == ["cifar10_dcnn_d1_relu", "cifar10_dcnn_d2_relu", "cifar10_dcnn_d1_linear",
                   "cifar10_dcnn_d2_relu_every2", "cifar10_dcnn_d2_linear"]


def test_series_linear_runs_stand_for_longer_periods():
    lin = metrics(_runs.mlp_labels("dcnn", 2, "relu", relu_every=3), 0.4, 2)
    relu = [metrics(_runs.mlp_labels("dcnn", d, "relu", relu_every=k), 0.45, d) for d in (2, 4) for k in (1, 3)
            if not (d == 2 and k == 3)]
    ser = {s["relu_every"]: s for s in ecai_fig_2a.series(relu + [lin])}
    assert sorted(ser) == [1, 3]
    assert ser[3]["depth"] == [2, 4] and ser[1]["depth"] == [2, 4]  # the linear depth-2 run stands for k = 3
    assert ser[3]["runs"][0] == "cifar10_dcnn_d2_linear" and ser[3]["accuracy"] == [0.4, 0.45]


def test_study_cells(tmp_path):
    res = run_on_metrics("ecai_fig_2a", SMOKE, tmp_path, acc=lambda s: 0.2 + 0.01 * s["labels"]["depth"])
    top = max(SMOKE["studies"]["ecai_fig_2a"]["depths"])
    cells = {(c["row"], c["column"]): c["value"] for c in res["cells"]}
    assert cells[("DCNN best config", "max accuracy")] == pytest.approx(0.2 + 0.01 * top)
    assert ("DCNN best config", "max accuracy") in {(c.row, c.column) for c in thesis_cells("ecai_fig_2a")}


def test_paper_grid():
    st = PAPER["studies"]["ecai_fig_2a"]
    assert set(st["relu_every"]) == {1, 2, 3} and st["activation"] == "relu"
    assert ecai_fig_2a.STATED_MAX == 0.56  # E191
