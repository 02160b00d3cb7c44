"""Table B.2: FC-layer weights of the paper networks against hand counts (24,576 weights per DC factor)."""
import pytest

from toeplitznet.items.appB_youtube8m import table_B_2
from toeplitznet.items.ch4_youtube8m import param_counts_yt8m
from toeplitznet.yt8m import runs as Y
from yt8m_items import SMOKE, Ctx, cells, inputs_for


def test_fc_layer_counts_by_hand():
    rows = table_B_2.MODELS({"factors": [1, 3, 6]})
    fc = {r.label: param_counts_yt8m.count(Y.paper_model(r))["fc_params"] for r in rows}
    assert fc[table_B_2.DENSE] == 8192 * 512 + 4096 * 512          # video and audio DBoF -> FC 512, no bias
    for k in (1, 3, 6):                                             # a DC factor = diagonal + circulant vector
        assert fc[f"#Factors={k}"] == k * 2 * (8192 + 4096)


def test_cells(tmp_path):
    p = SMOKE["studies"]["table_B_2"]
    fc = {table_B_2.DENSE: 6_291_456, "#Factors=1": 24_576, "#Factors=3": 73_728, "#Factors=6": 147_456}
    ctx = Ctx(inputs_for(tmp_path, table_B_2, p, {"#Factors=3": 0.7}, {}, fc=fc), p)
    table_B_2.run(ctx)
    c = cells(ctx)
    assert c[(table_B_2.DENSE, "FC Layer #Parameters")] == pytest.approx(6.291456)
    assert c[("#Factors=3", "FC Layer #Parameters")] == pytest.approx(73.728)
    assert c[("#Factors=6", "FC Layer CR")] == pytest.approx(100 * (1 - 147_456 / 6_291_456))
    assert round(c[("#Factors=3", "FC Layer CR")], 1) == 98.8
    assert c[("#Factors=3", "GAP@20")] == 0.7


def test_one_factor_run_is_table_B_3s_circulant_dbof():
    assert list(Y.item_specs(SMOKE, "table_B_2"))[1] in Y.item_specs(SMOKE, "table_B_3")
