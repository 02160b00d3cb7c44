"""Figure 4.6: scattering + structured heads, drawn from Table 4.5's result (no study or runs of its own)."""

from ch4_helpers import PAPER, SMOKE, plan_of, ref
from toeplitznet.items.ch4_dcnn import fig_4_6
from toeplitznet.reference import thesis_cells
from toeplitznet.registry import discover


def test_reads_table_4_5s_result():
    reg = discover()
    it = reg.item("fig_4_6")
    assert it.result_of == "table_4_5" and it.study == "table_4_5" and not it.has_own_study
    assert set(reg.required_sections("fig_4_6")) == {"fig_4_6", "table_4_5", "ch4_train"}
    for cfg in (SMOKE, PAPER):
        plan = plan_of(cfg)
        assert "fig_4_6" not in plan.studies
        fig = plan.figures["fig_4_6"]
        assert fig.inputs["result"] == plan.studies["table_4_5"].outputs["result"]
        assert fig.inputs["reference"] == f"reference/figure_data/{fig_4_6.REFERENCE}"
        assert fig.cfg["study"] == cfg["studies"]["fig_4_6"]


def test_unplotted_reference_points():
    rows = ref(fig_4_6.REFERENCE)
    # the thesis's source has 5 points its final figure leaves out (show_unplotted_reference draws them)
    assert sum(r["in_thesis_figure"] != "1" for r in rows) == 5
    assert sum(r["in_thesis_figure"] == "1" for r in rows) == 6   # the six networks of Table 4.5
    assert SMOKE["studies"]["fig_4_6"] == PAPER["studies"]["fig_4_6"] == {"show_unplotted_reference": False}


def test_the_thesis_claim_is_a_table_4_5_cell():
    [cell] = thesis_cells("fig_4_6")
    assert (cell.row, cell.column) == ("DC + scattering", "accuracy (lower bound stated)")
    # ... which Table 4.5's study writes (the figure has no result of its own)
    assert (cell.row, cell.column) in {(c.row, c.column) for c in thesis_cells("table_4_5")}
