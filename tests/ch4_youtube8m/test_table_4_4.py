"""Table 4.4: the same networks as Table B.1; percentages of the original computed by hand."""
import pytest

from toeplitznet.items.appB_youtube8m import table_B_1
from toeplitznet.items.ch4_youtube8m import table_4_4
from toeplitznet.yt8m import runs as Y
from yt8m_items import SMOKE, Ctx, cells, inputs_for


def test_same_runs_as_table_B_1():
    assert list(Y.item_specs(SMOKE, "table_4_4")) == list(Y.item_specs(SMOKE, "table_B_1"))
    assert [r.level for r in table_4_4.MODELS(SMOKE["studies"]["table_4_4"])] == ["frame"] * 4


def test_original_is_always_counted():
    rows = table_4_4.MODELS({"rows": ["MoE with DC"]})
    assert [r.label for r in rows] == ["original", "MoE with DC"]


def test_cells(tmp_path):
    p = SMOKE["studies"]["table_4_4"]
    counts = {"original": 45_330_000, "DBoF with DC": 36_960_000, "FC with DC": 41_160_000, "MoE with DC": 12_650_000}
    gaps = {"original": 0.8, "MoE with DC": 0.6}
    ctx = Ctx(inputs_for(tmp_path, table_4_4, p, gaps, counts), p)
    table_4_4.run(ctx)
    c = cells(ctx)
    assert c[("original", "#Weights")] == pytest.approx(45.33)
    assert c[("MoE with DC", table_4_4.PCT)] == pytest.approx(100 * 12.65 / 45.33)
    assert c[("MoE with DC", "size as % of original")] == c[("MoE with DC", table_4_4.PCT)]
    assert c[("MoE with DC", "GAP as % of original")] == pytest.approx(75.0)
    assert ("FC with DC", "GAP as % of original") not in c  # a prose number of the MoE row only
    assert table_B_1.ROWS["Compact FC"] == "table_b1_compact_fc"
