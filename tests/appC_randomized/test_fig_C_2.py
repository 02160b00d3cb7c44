"""Appendix C items: the paper settings against the thesis (S9), the [-1, 1] -> [0, 1] conversions, shared runs
and suites, the rows / columns against reference/thesis_values.csv, and the cells from hand-made results."""
import copy
import json
import math
from pathlib import Path

import pytest
import yaml

from toeplitznet.items.appC_randomized import _guarantee as G, _report as R, _runs, fig_C_1, fig_C_2, table_C_1, table_C_2
from toeplitznet.reference import thesis_cells

ROOT = Path(__file__).resolve().parents[2]
SMOKE = yaml.safe_load((ROOT / "config/config.yaml").read_text())
PAPER = yaml.safe_load((ROOT / "config/paper.yaml").read_text())
def test_paper_settings_are_the_thesis_text():
    t = PAPER["studies"]["appC_randomized_train"]["train"]
    # L7832-7836: WRN-28-10, 200 epochs, batch 400, dropout 0.3, leaky 0.1, momentum 0.9, piecewise lr
    assert t["model"] == {"family": "wide_resnet", "depth": 28, "widen": 10, "dropout": 0.3, "leaky_slope": 0.1}
    assert (t["epochs"], t["batch_size"], t["momentum"]) == (200, 400, 0.9)
    assert t["lr_boundaries"] == [7500, 15000, 20000] and t["lr_values"] == [0.1, 0.02, 0.004, 0.00008]
    c2 = PAPER["studies"]["table_C_2"]
    assert c2["pgd"] == {"eps": 0.06, "step": 0.006, "steps": 20, "restarts": 1}          # L7922-7925
    assert (c2["cw"]["steps"], c2["cw"]["binary_search_steps"], c2["cw"]["lr"]) == (30, 9, 0.01)
    c1 = PAPER["studies"]["table_C_1"]
    assert (c1["eot_samples"], c2["eot_samples"]) == (80, 80)                              # L7859, L7935
    assert (c1["ead"]["steps"], c1["cw"]["steps"], c1["pgd"]["steps"]) == (60, 60, 20)      # Table C.1 header
    assert PAPER["studies"]["fig_C_2"]["draws"] == PAPER["studies"]["fig_C_3"]["draws"] == 10_000  # L7872


def test_run_spec_converts_the_thesis_scale_and_uses_the_step_schedule():
    spec = _runs.run_spec(PAPER, "laplace", 0.5)
    assert spec["id"] == "appC_cifar10_laplace_sd0p5"
    assert spec["model"]["noise"] == {"dist": "laplace", "sd": 0.25, "clip": False}
    assert spec["train"]["schedule"] == {"type": "piecewise", "boundaries": [7500, 15000, 20000],
                                         "values": [0.1, 0.02, 0.004, 0.00008], "unit": "step"}
    assert spec["train"]["lr"] == 0.1 and spec["train"]["epochs"] == 200
    _, pgd = _runs.pgd(PAPER, PAPER["studies"]["table_C_2"]["pgd"], 80, 1000)
    assert (pgd["eps"], pgd["step"]) == (0.03, 0.003)
    _, cw = _runs.cw(PAPER, PAPER["studies"]["table_C_2"]["cw"], 80, 1000)
    assert cw["bound"] == pytest.approx(math.sqrt(3 * 32 * 32))   # unbounded = the l2 diameter of the pixel box
    _, sm = _runs.smoothing(PAPER, {"n0": 100, "n": 1000, "alpha": 0.001, "radii": [0.5, 1.0]}, 10)
    assert sm["radii"] == [0.25, 0.5]


