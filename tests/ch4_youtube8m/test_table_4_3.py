"""Table 4.3: the video-level networks, their paper counts against hand formulas, and the rendered cells."""
import pytest

from toeplitznet.items.ch4_youtube8m import param_counts_yt8m, table_4_3
from toeplitznet.yt8m import runs as Y
from yt8m_items import PAPER, SMOKE, Ctx, cells, inputs_for


def test_rows_and_run_ids():
    rows = table_4_3.MODELS(SMOKE["studies"]["table_4_3"])
    assert [r.label for r in rows] == ["Baseline", "4 DC", "32 DC", "4 DC + 1 FC"]
    assert list(Y.item_specs(SMOKE, "table_4_3")) == ["yt8m_video_baseline", "yt8m_video_4dc", "yt8m_video_32dc",
                                                       "yt8m_video_4dc_1fc"]


@pytest.mark.parametrize("label,expected", [
    ("Baseline", 1152 * 1152 + 1152 + 1152 * 3862 + 3862),   # dense hidden layer + dense classifier
    ("4 DC", 4 * 3 * 1152 + 3 * 3862),                        # (diag + circulant + bias) per layer, padded head
    ("32 DC", 32 * 3 * 1152 + 3 * 3862),
    ("4 DC + 1 FC", 4 * 3 * 1152 + 1152 * 3862 + 3862),
])
def test_paper_counts_by_hand(label, expected):
    row = next(r for r in table_4_3.MODELS(PAPER["studies"]["table_4_3"]) if r.label == label)
    assert param_counts_yt8m.count(Y.paper_model(row))["n_params"] == expected


def test_cells(tmp_path):
    p = SMOKE["studies"]["table_4_3"]
    counts = {"Baseline": 5_781_142, "4 DC": 25_410, "32 DC": 122_178, "4 DC + 1 FC": 4_466_710}
    ctx = Ctx(inputs_for(tmp_path, table_4_3, p, {"Baseline": 0.5, "4 DC": 0.25}, counts), p)
    table_4_3.run(ctx)
    c = cells(ctx)
    assert c[("Baseline", "#Weights")] == pytest.approx(5.781142)
    assert c[("4 DC", "#Weights")] == pytest.approx(25.410)
    assert c[("Baseline", "GAP@20")] == 0.5 and c[("32 DC", "GAP@20")] is None
    assert c[("dataset", "training examples")] == pytest.approx(550e-6)
    assert c[("dataset", "labelled videos")] == pytest.approx(700e-6)
