"""Table 4.5: scattering + batch norm + DC / LDR heads on CIFAR-10. Rows against the thesis, the run specs
(trained on the precomputed scattering features), and the six printed parameter counts."""

import pytest

from ch4_helpers import PAPER, SMOKE, count, plan_of
from toeplitznet.items.ch4_dcnn import _runs, table_4_5
from toeplitznet.reference import thesis_cells

COUNTS = {"DC (1 layers)": 124_436, "DC (3 layers)": 217_748, "LDR-SD (r = 1)": 139_968,
          "LDR-SD (r = 10)": 419_904, "Toeplitz-like (r = 1)": 108_864, "Toeplitz-like (r = 10)": 388_800}


@pytest.mark.parametrize("cfg", [SMOKE, PAPER], ids=["smoke", "paper"])
def test_rows_are_the_thesis_rows(cfg):
    specs = _runs.item_specs(cfg, "table_4_5")
    rows = {table_4_5.row_label(s["labels"]) for s in specs.values()}
    assert rows == {c.row for c in thesis_cells("table_4_5") if not c.cited and c.column == "Accuracy"}
    assert rows == set(COUNTS)


def test_runs_train_on_the_scattering_features():
    plan = plan_of(SMOKE)
    features = plan.studies["ch4_scattering"].outputs["features"]
    for rid in _runs.item_runs(SMOKE, "table_4_5"):
        job = plan.runs[rid]
        assert job.inputs == {"features": features}, rid
        s = job.cfg["study"]
        assert s["data"]["features"] == "features" and s["data"]["trainable"] == ["bn", "head"]
        assert s["count"] == {"include_bn_stats": True} and "normalize" not in s["model"]
        assert (s["model"]["J"], s["model"]["L"]) == (SMOKE["studies"]["table_4_5"]["J"],
                                                    SMOKE["studies"]["table_4_5"]["L"])


def test_paper_architecture_counts():
    pytest.importorskip("kymatio")
    arch = _runs.paper_architectures(PAPER, ["table_4_5"])["table_4_5"]
    got = {}
    for spec in arch.values():
        row = _runs.row_label("table_4_5", spec["labels"])
        got[row] = count(spec["model"], include_bn_stats=True)
        if spec["labels"]["head"] == "dc":  # INVENTORY section 8 reading: 124 416 / 217 728
            inv = count(dict(spec["model"], trim_unused=False))
            assert inv == {"DC (1 layers)": 124_416, "DC (3 layers)": 217_728}[row]
    assert got == COUNTS
    printed = {c.row: c.value for c in thesis_cells("table_4_5") if c.column == "#Parameters"}
    for row, c in got.items():  # within the render tolerance (5%) of the printed count
        assert abs(c / 1e3 - printed[row]) <= 0.05 * printed[row], row


def test_paper_grid():
    st = PAPER["studies"]["table_4_5"]
    assert st["dc_depths"] == [1, 3]
    assert st["ldr_sd_ranks"] == st["toeplitz_like_ranks"] == [1, 10]
    assert (st["J"], st["L"]) == (2, 8) and st["count_bn_stats"] is True
    with pytest.raises(ValueError, match="table_4_5"):
        table_4_5.row_label({"family": "dcnn"})
