"""Figure 4.3: linear DCNN vs ACDC on the synthetic regression (no dataset: the paper setting at both
scales). A short run of the study and its settings against the thesis's text."""

import json

from ch4_helpers import PAPER, SMOKE, clone
from toeplitznet.items.ch4_dcnn import fig_4_3
from toeplitznet.reference import thesis_cells
from toeplitznet.registry import DOES_NOT_REPRODUCE


def test_runs_small(tmp_path):
    from toeplitznet.studies.runner import run_from_cli

    cfg = clone(SMOKE)
    cfg["studies"]["fig_4_3"].update(steps=20, log_every=10, n_samples=200, check_acdc_depths=[3])
    ctx = run_from_cli("fig_4_3", cfg, tmp_path)
    res = json.loads((tmp_path / "fig_4_3.json").read_text())
    assert res["scale_independent"] and res["step"] == [10, 20]
    assert set(res["loss"]) == {"DCNN, 2 layers", "ACDC, 2 layers", "ACDC, 4 layers",
                                "ACDC, 3 layers (check, not in thesis)"}
    assert all(len(v) == 2 for v in res["loss"].values())
    assert res["n_weights"]["ACDC, 3 layers (check, not in thesis)"] == 3 * (3 * 32)   # A, D, bias per layer
    # initial loss ~ 0.5 * n * n/9 (+ the network's output), the thesis's ~60 for n = 32
    assert 50 < res["initial_full_loss"]["ACDC, 2 layers"] < 75
    assert res["noise_floor"] == 0.5 * 32 * 0.01
    assert ctx.outputs["result"].endswith("fig_4_3.json")


def test_synthetic_data():
    X, Y, W = fig_4_3.make_data(8, 500, 0.01, seed=0)
    assert X.shape == (500, 8) and W.shape == (8, 8)
    assert float(X.abs().max()) <= 1 and float(W.abs().max()) <= 1
    assert abs(float((Y - X @ W).var()) - 0.01) < 0.002   # eps ~ N(0, 0.01): variance, not sd


def test_setting_is_the_paper_one_at_both_scales():
    assert SMOKE["studies"]["fig_4_3"] == PAPER["studies"]["fig_4_3"]
    assert PAPER["studies"]["fig_4_3"]["noise_var"] == 0.01
    [cell] = thesis_cells("fig_4_3")
    assert (cell.row, cell.column, cell.value) == ("synthetic data", "noise variance of eps", 0.01)
    it = fig_4_3.ITEM
    assert it.status == DOES_NOT_REPRODUCE and it.reason and it.scale_independent
