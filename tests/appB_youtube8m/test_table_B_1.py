"""Table B.1: CR and Diff. computed by hand from counts and GAPs; the dataset row from the manifest."""
import pytest

from toeplitznet.items.appB_youtube8m import table_B_1
from yt8m_items import SMOKE, Ctx, cells, inputs_for


def test_cells(tmp_path):
    p = SMOKE["studies"]["table_B_1"]
    counts = {"Dense Model": 1000, "Compact DBoF": 816, "Compact FC": 908, "Compact MoE": 280}
    gaps = {"Dense Model": 0.846, "Compact DBoF": 0.838, "Compact FC": 0.845, "Compact MoE": 0.805}
    ctx = Ctx(inputs_for(tmp_path, table_B_1, p, gaps, counts, train_videos=4_822_555), p)
    table_B_1.run(ctx)
    c = cells(ctx)
    assert c[("Compact DBoF", "CR")] == pytest.approx(18.4)
    assert c[("Compact FC", "CR")] == pytest.approx(9.2)
    assert c[("Compact FC", "compression rate (prose)")] == pytest.approx(9.2)
    assert c[("Compact MoE", "CR")] == pytest.approx(72.0)
    assert c[("Compact MoE", "Diff.")] == pytest.approx(-0.041)
    assert c[("dataset", "training examples (train + 70% val)")] == 4_822_555
    assert ("Dense Model", "CR") not in c


def test_video_features_only():
    assert all(r.paper_kwargs()["modalities"] == ["video"] for r in table_B_1.MODELS(SMOKE["studies"]["table_B_1"]))
