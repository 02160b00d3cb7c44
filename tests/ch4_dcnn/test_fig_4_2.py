"""Figure 4.2: DCNN accuracy against depth per Leaky-ReLU slope. Series on hand-made metrics, the paper grid
against the thesis's figure data, and the DCNN parameter counts against that data's n_weights."""

import pytest

from ch4_helpers import PAPER, SMOKE, count, metrics, ref, run_on_metrics
from toeplitznet.items.ch4_dcnn import _runs, fig_4_2

REF = ref(fig_4_2.REFERENCE)


def test_labels_one_dcnn_per_slope_and_depth():
    p = {"depths": [1, 2], "slopes": [0.2, 0.5]}
    labs = fig_4_2.labels(p)
    assert [(lab["slope"], lab["depth"]) for lab in labs] == [(0.2, 1), (0.2, 2), (0.5, 1), (0.5, 2)]
    assert all(lab["family"] == "dcnn" and lab["activation"] == "leaky_relu" for lab in labs)
    assert _runs.item_runs(PAPER, "fig_4_2")[0] == "cifar10_dcnn_d2_lrelu0p2"


def test_series_on_hand_made_metrics():
    runs = [metrics(_runs.mlp_labels("dcnn", d, "leaky_relu", s), a, 1000 * d)
            for (d, s, a) in [(4, 0.2, None), (2, 0.2, 0.5), (2, 0.5, 0.52), (4, 0.5, 0.55)]]
    runs[0]["status"] = "diverged"
    ser = fig_4_2.series(runs)
    assert [s["slope"] for s in ser] == [0.2, 0.5]
    assert ser[0]["depth"] == [2, 4] and ser[0]["accuracy"] == [0.5, 0.1] and ser[0]["diverged"] == [False, True]
    assert ser[1]["n_weights"] == [2000, 4000] and ser[1]["runs"] == ["cifar10_dcnn_d2_lrelu0p5",
                                                                      "cifar10_dcnn_d4_lrelu0p5"]


def test_study_cells_are_the_best_run(tmp_path):
    best = {"cifar10_dcnn_d2_lrelu0p5": 0.6}
    res = run_on_metrics("fig_4_2", SMOKE, tmp_path, acc=lambda s: best.get(s["id"], 0.3))
    cells = {(c["row"], c["column"]): c["value"] for c in res["cells"]}
    assert cells == {("DCNN best config", "max accuracy"): 0.6, ("DCNN best config", "leaky-ReLU slope"): 0.5}
    assert res["scale"] == "smoke" and res["stand_in"] == "X stands in for Y"
    assert [s["slope"] for s in res["series"]] == sorted(SMOKE["studies"]["fig_4_2"]["slopes"])


def test_paper_grid_is_the_thesis_figure_data():
    st = PAPER["studies"]["fig_4_2"]
    assert sorted(st["slopes"]) == sorted({float(r["leaky_relu_slope"]) for r in REF})
    assert set(st["depths"]) >= {int(r["x"]) for r in REF if r["leaky_relu_slope"] != "0.2"}


def test_dcnn_counts_are_the_figure_data_n_weights():
    """(3L + 1) n + 20 weights on n = 3072: the n_weights column of the thesis's own Figure 4.2 data."""
    arch = _runs.paper_architectures(PAPER, ["fig_4_2"])["fig_4_2"]
    checked = 0
    for r in REF:
        rid = f"cifar10_dcnn_d{r['x']}_lrelu{r['leaky_relu_slope'].replace('.', 'p')}"
        if rid in arch:
            assert count(arch[rid]["model"]) == int(r["n_weights"]) == (3 * int(r["x"]) + 1) * 3072 + 20, rid
            checked += 1
    assert checked >= 6
    # INVENTORY section 8's (3L+1)n leaves out the sliced output layer's 10 diagonal + 10 bias entries
    for depth, inv in ((2, 21_504), (5, 49_152)):
        assert count({"family": "dcnn", "depth": depth, "n_in": 3072, "last_layer": "circulant"}) == inv


@pytest.mark.parametrize("cfg", [SMOKE, PAPER], ids=["smoke", "paper"])
def test_slope_0p5_runs_are_shared_with_table_4_1(cfg):
    assert set(_runs.item_runs(cfg, "table_4_1")) & set(_runs.item_runs(cfg, "fig_4_2"))
