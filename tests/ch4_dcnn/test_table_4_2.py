"""Table 4.2: the MNIST DCNN beside compression methods. Error (%) cells on hand-made metrics, the rows
against the thesis (three cited), and ECAI Table 3's exact 25 620 weights."""

import pytest

from ch4_helpers import PAPER, SMOKE, count, metrics
from toeplitznet.items.ch4_dcnn import _runs, table_4_2
from toeplitznet.reference import thesis_cells


def test_cells_error_percent_and_k_params():
    mn = [metrics(_runs.mlp_labels("dcnn", 8, "leaky_relu", 0.5, width=1024), 0.9826, 25_620, dataset="mnist")]
    cells = {(c["row"], c["column"]): c["value"] for c in table_4_2.cells(mn)}
    assert cells[("DCNN", "Error (%)")] == pytest.approx(1.74) and cells[("DCNN", "#Params")] == pytest.approx(25.62)
    mn[0]["status"] = "diverged"
    assert {c["column"]: c["value"] for c in table_4_2.cells(mn)}["Error (%)"] is None
    with pytest.raises(ValueError, match="table_4_2"):
        table_4_2.row_label({"family": "dense"})


@pytest.mark.parametrize("cfg", [SMOKE, PAPER], ids=["smoke", "paper"])
def test_rows_are_the_thesis_rows(cfg):
    rows = {table_4_2.row_label(s["labels"]) for s in _runs.item_specs(cfg, "table_4_2").values()}
    cells = thesis_cells("table_4_2")
    assert rows == {c.row for c in cells if not c.cited and c.column == "Error (%)"} == {"DCNN"}
    # the other three rows are quoted from other papers (rendered "cited, not reproduced")
    assert {c.row for c in cells if c.cited} == {"LeNet (LeCun et al. 1998)", "HashNet (Chen et al. 2015)",
                                                 "Dark Knowledge (Hinton et al. 2015)"}


@pytest.mark.parametrize("cfg", [SMOKE, PAPER], ids=["smoke", "paper"])
def test_ecai_table_3_count_at_every_scale(cfg):
    """8 DC layers of width 1024 on the 784 pixels + a sliced DC output layer: (3 * 8 + 1) * 1024 + 20."""
    [spec] = _runs.item_specs(cfg, "table_4_2").values()
    assert spec["id"] == "mnist_dcnn_d8_w1024_lrelu0p5" and spec["model"]["input_shape"] == [1, 28, 28]
    assert count(spec["model"]) == (3 * 8 + 1) * 1024 + 20 == 25_620
    [arch] = _runs.paper_architectures(cfg, ["table_4_2"])["table_4_2"].values()
    assert count(arch["model"]) == 25_620
