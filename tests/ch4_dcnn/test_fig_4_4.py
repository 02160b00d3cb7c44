"""Figure 4.4: DCNN vs ACDC networks with ReLU on CIFAR-10, per epoch. Expansion and the per-epoch curves
the figure draws (hand-made metrics)."""

from ch4_helpers import PAPER, SMOKE, run_on_metrics
from toeplitznet.items.ch4_dcnn import _runs, fig_4_4


def test_labels_dcnn_and_acdc_with_the_init():
    p = {"activation": "relu", "dcnn_depths": [2], "acdc_depths": [2, 5], "acdc_init": "moczulski"}
    assert [_runs.run_id("cifar10", lab) for lab in fig_4_4.labels(p)] == [
        "cifar10_dcnn_d2_relu", "cifar10_acdc_d2_moczulski_relu", "cifar10_acdc_d5_moczulski_relu"]
    for cfg in (SMOKE, PAPER):
        ids = _runs.item_runs(cfg, "fig_4_4")
        assert len(ids) == len(cfg["studies"]["fig_4_4"]["dcnn_depths"]) + len(cfg["studies"]["fig_4_4"]["acdc_depths"])


def test_curves():
    hist = [{"epoch": 1, "train": {"loss": 2.0}, "eval": {"test": {"accuracy": 0.3}}},
            {"epoch": 2, "train": {"loss": 1.5}}]
    assert _runs.curves({"history": hist}) == {"epoch": [1, 2], "train_loss": [2.0, 1.5],
                                               "test_accuracy": [0.3, None]}
    assert _runs.curves({}) == {"epoch": [], "train_loss": [], "test_accuracy": []}


def test_study_writes_one_curve_per_run(tmp_path):
    res = run_on_metrics("fig_4_4", SMOKE, tmp_path)
    names = [c["name"] for c in res["curves"]]
    p = SMOKE["studies"]["fig_4_4"]
    assert names == [f"DCNN, {d} layers" for d in p["dcnn_depths"]] + [f"ACDC, {d} layers" for d in p["acdc_depths"]]
    assert res["cells"] == [] and all(not c["diverged"] for c in res["curves"])
