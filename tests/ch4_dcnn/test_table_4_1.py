"""Table 4.1: dense / DCNN / LDR networks on flattened CIFAR-10. Cells and units on hand-made metrics, the
weight-reduction claim, the rows against the thesis, and the paper-architecture counts against the printed
ones (and by hand)."""

import pytest

from ch4_helpers import PAPER, SMOKE, count, metrics, plan_of
from toeplitznet.items.ch4_dcnn import _runs, table_4_1
from toeplitznet.reference import thesis_cells


def _runs_of_table():
    return [metrics(_runs.mlp_labels("dense", 1, "leaky_relu", 0.5), 0.5, 9_470_986),
            metrics(_runs.mlp_labels("dcnn", 2, "leaky_relu", 0.5), 0.536, 21_524),
            metrics({"family": "ldr_net", "kind": "tridiagonal", "rank": 2, "activation": "relu", "slope": None},
                    None, 64_522, status="diverged")]


def test_cells_and_units():
    runs = _runs_of_table()
    cells = {(c["row"], c["column"]): c["value"] for c in _runs.table_cells("table_4_1", runs)}
    assert cells[("Dense", "#Parameters")] == pytest.approx(9.470986)               # M
    assert cells[("DCNN (2 layers)", "#Parameters")] == pytest.approx(21.524)        # K
    assert cells[("DCNN (2 layers)", "Accuracy")] == 0.536
    assert cells[("LDR-TD (r = 2)", "Accuracy")] is None                             # diverged
    assert table_4_1.weight_reduction(runs) == pytest.approx(64_522 / 21_524)
    assert table_4_1.weight_reduction(runs[:2]) is None


def test_row_labels():
    assert table_4_1.row_label({"family": "dense"}) == "Dense"
    assert _runs.row_label("table_4_1", _runs.mlp_labels("dcnn", 5, "leaky_relu", 0.5)) == "DCNN (5 layers)"
    assert table_4_1.row_label({"family": "ldr_net", "kind": "toeplitz", "rank": 3}) == "Toeplitz-like (r = 3)"
    with pytest.raises(ValueError, match="table_4_1"):
        table_4_1.row_label({"family": "acdc"})


@pytest.mark.parametrize("cfg", [SMOKE, PAPER], ids=["smoke", "paper"])
def test_rows_are_the_thesis_rows(cfg):
    specs = _runs.item_specs(cfg, "table_4_1")
    rows = {table_4_1.row_label(s["labels"]) for s in specs.values()}
    assert rows == {c.row for c in thesis_cells("table_4_1") if not c.cited and c.column == "Accuracy"}
    # the table also renders the exact counts of the paper architectures
    assert plan_of(cfg).tables["table_4_1"] == [f"results/{cfg['scale']}/table_4_1/table_4_1.json",
                                                   f"results/{cfg['scale']}/param_counts_ch4/table_4_1.json"]


def test_paper_architecture_counts():
    arch = _runs.paper_architectures(PAPER, ["table_4_1"])["table_4_1"]
    counts = {rid: count(s["model"]) for rid, s in arch.items() if s["labels"]["family"] != "dense"}
    n = 3072
    assert counts["cifar10_dcnn_d2_lrelu0p5"] == (3 * 2 + 1) * n + 20 == 21_524
    assert counts["cifar10_dcnn_d5_lrelu0p5"] == (3 * 5 + 1) * n + 20 == 49_172
    # LDR rows (one LDR layer + dense layer): 64K, 70K, 46K, 52K
    assert counts["cifar10_ldrnet_tridiagonal_r2_relu"] == 64_522
    assert counts["cifar10_ldrnet_tridiagonal_r3_relu"] == 70_666
    assert counts["cifar10_ldrnet_toeplitz_r2_relu"] == 46_090
    assert counts["cifar10_ldrnet_toeplitz_r3_relu"] == 52_234
    # the dense layer of the LDR rows alone: 3072 x 10 + 10; the rest is the LDR layer
    assert counts["cifar10_ldrnet_toeplitz_r3_relu"] - counts["cifar10_ldrnet_toeplitz_r2_relu"] == 2 * n
    printed = {c.row: c.value for c in thesis_cells("table_4_1") if c.column == "#Parameters"}
    for rid, c in counts.items():
        row = table_4_1.row_label(arch[rid]["labels"])
        assert int(c // 1000) == printed[row], row    # the thesis truncates to K


def test_paper_grid():
    st = PAPER["studies"]["table_4_1"]
    assert st["slope"] == 0.5 and sorted(st["dcnn_depths"]) == [2, 5]
    assert st["ldr_td_ranks"] == st["toeplitz_like_ranks"] == [2, 3]
    assert SMOKE["studies"]["table_4_1"] == st   # the thesis's rows at every scale
