"""Table 5.3: the run and attack specs against the thesis's settings (S7, L6243-6258), the cells (mean ± sample
std over seeds by hand) on hand-made evaluation results, the panels' rows against reference/thesis_values.csv."""
import copy
import math

import pytest

from robust_helpers import PAPER, SMOKE, write_inputs
from toeplitznet.items.ch5_robust import _report as R, _runs, table_5_3
from toeplitznet.plan import build_plan
from toeplitznet.reference import thesis_cells


def test_paper_settings_are_the_thesis_text():
    t = PAPER["studies"]["ch5_robust_train"]["train"]["cifar"]
    # L6229-6231: WRN 28 layers, width 10; 200 epochs, batch 200; L6241-6243: SGD 0.9, lr 0.1 x 0.1 at 60/120/160
    assert t["model"] == {**t["model"], "family": "wide_resnet", "depth": 28, "widen": 10}
    assert (t["epochs"], t["batch_size"], t["lr"], t["momentum"], t["gamma"]) == (200, 200, 0.1, 0.9, 0.1)
    assert t["milestones"] == [60, 120, 160]
    # L6244-6246: PGD eps 8/255, step eps/5, 10 iterations
    assert t["attack"]["eps"] == pytest.approx(8 / 255) and t["attack"]["step"] == pytest.approx(8 / 255 / 5)
    assert t["attack"]["steps"] == 10
    e = PAPER["studies"]["ch5_robust_train"]["eval"]["cifar"]
    # L6250-6256: PGD 200 iterations, 10 restarts, step eps/5; C&W bounds 0.6, 0.8
    assert e["pgd_linf"]["eps"] == [pytest.approx(8 / 255)] and e["pgd_linf"]["step_fraction"] == 0.2
    assert (e["pgd_linf"]["steps"], e["pgd_linf"]["restarts"]) == (200, 10)
    assert e["cw_l2"]["bounds"] == [0.6, 0.8]
    assert PAPER["studies"]["ch5_robust_train"]["lipreg"]["samples"] == 10      # L6163-6167
    assert PAPER["studies"]["ch5_robust_train"]["lipreg"]["power_iters"] == 10


def test_run_specs_of_the_arms():
    specs = _runs.specs(PAPER, ["cifar10"])
    assert list(specs) == ["ch5_cifar10_baseline", "ch5_cifar10_at", "ch5_cifar10_at_pm_c2_0p008",
                           "ch5_cifar10_at_lipreg_c2_0p008", "ch5_cifar10_lipreg_c2_0p008"]
    base, at, pm, lip, only = specs.values()
    assert base["robust"]["attack"] is None and base["robust"]["regularizer"] is None
    assert at["robust"]["attack"]["eps"] == pytest.approx(8 / 255) and at["robust"]["regularizer"] is None
    assert at["robust"]["attack"]["labels"] == "labels" and at["robust"]["attack"]["mode"] == "eval"
    assert pm["robust"]["regularizer"]["method"] == "power_method"
    assert lip["robust"]["regularizer"]["method"] == "lipbound" and lip["robust"]["regularizer"]["c2"] == 0.008
    assert only["robust"]["attack"] is None and only["robust"]["regularizer"]["method"] == "lipbound"
    assert at["train"]["schedule"] == {"type": "multistep", "milestones": [60, 120, 160], "gamma": 0.1}
    assert at["model"]["num_classes"] == 10 and at["model"]["normalize"] == "cifar10"
    # the author's form of C1 moves it into the optimizer's weight decay
    cfg = copy.deepcopy(PAPER)
    cfg["studies"]["ch5_robust_train"]["lipreg"]["c1_form"] = "weight_decay"
    lip2 = _runs.specs(cfg, ["cifar10"])["ch5_cifar10_at_lipreg_c2_0p008"]
    assert lip2["train"]["weight_decay"] == pytest.approx(lip["train"]["weight_decay"] + 0.0003)
    assert _runs.specs(cfg, ["cifar10"])["ch5_cifar10_at"]["train"]["weight_decay"] == at["train"]["weight_decay"]


def test_plan_trains_every_arm_per_seed_on_nproc_gpus():
    plan = build_plan(PAPER)
    for rid in _runs.specs(PAPER, ["cifar10", "cifar100"]):
        for s in PAPER["seeds"][1:]:
            assert f"{rid}__seed{s}" in plan.runs
        assert plan.runs[rid].gpu == PAPER["studies"]["ch5_robust_train"]["nproc"]
        for eid in ("pgd_linf_0p0313725", "cw_l2", "autoattack_linf_0p0313725", "certified"):
            assert (rid, eid) in plan.evals, (rid, eid)
    pgd = plan.evals[("ch5_cifar10_at", "pgd_linf_0p0313725")].cfg["study"]["evaluation"]
    assert pgd["steps"] == 200 and pgd["restarts"] == 10 and pgd["step"] == pytest.approx(8 / 255 / 5)
    assert pgd["record"] == [20, 30, 50, 80, 100, 150]


def test_panel_rows_match_the_thesis():
    keys = {(c.row, c.column) for c in thesis_cells("table_5_3")}
    for ds, arms in (("cifar10", ["Baseline", "AT", "AT+PM", "AT+LipReg"]), ("cifar100", ["Baseline", "AT", "AT+LipReg"])):
        for arm in arms:
            for col in ("Accuracy (natural)", table_5_3.PGD_COLUMN, "C&W-l2 0.6", "C&W-l2 0.8"):
                assert (f"{table_5_3.PANEL[ds]}: {arm}", col) in keys


def test_cells_are_means_and_sample_std_over_seeds(tmp_path):
    lab = {"dataset": "cifar10", "arm": "at", "c2": None, "row": "AT"}
    evals = {"pgd_linf_x": {"kind": "pgd", "eps": 8 / 255},
             "cw_l2": {"kind": "cw_l2", "bounds": [0.6, 0.8]},
             "certified": {"kind": "certified", "radii": [0.1]}}
    results = {"natural": [0.80, 0.84, 0.82], "pgd_linf_x": [0.40, 0.44, 0.42]}
    cw = [{"0.6": 0.5, "0.8": 0.3}, {"0.6": 0.6, "0.8": 0.3}, {"0.6": 0.55, "0.8": 0.3}]
    runs, ev = {}, {}
    for i, suffix in enumerate(["", "__seed1", "__seed2"]):
        runs[f"ch5_cifar10_at{suffix}"] = lab
        ev[f"ch5_cifar10_at__eval__pgd_linf_x{suffix}"] = {"accuracy": results["pgd_linf_x"][i]}
        ev[f"ch5_cifar10_at__eval__cw_l2{suffix}"] = {"accuracy_at": cw[i]}
        ev[f"ch5_cifar10_at__eval__certified{suffix}"] = {"natural_accuracy": results["natural"][i],
                                                           "product_of_bounds": 10.0 * (i + 1),
                                                           "certified_accuracy": {"0.1": 0.1 * i}}
    col = R.Collected(write_inputs(tmp_path, runs, ev))
    assert col.runs() == ["ch5_cifar10_at"] and col.seeds("ch5_cifar10_at") == [0, 1, 2]
    cells = {(c["row"], c["column"]): c for c in table_5_3.cells_of(col, {"ch5_cifar10_at": evals}, table_5_3.PANEL)}
    nat = cells[("CIFAR-10: AT", "Accuracy (natural)")]
    assert nat["value"] == pytest.approx(0.82) and nat["plus_minus"] == pytest.approx(0.02) and nat["n_seeds"] == 3
    assert cells[("CIFAR-10: AT", table_5_3.PGD_COLUMN)]["value"] == pytest.approx(0.42)
    c06 = cells[("CIFAR-10: AT", "C&W-l2 0.6")]
    assert c06["value"] == pytest.approx(0.55) and c06["plus_minus"] == pytest.approx(0.05)
    assert cells[("CIFAR-10: AT", "C&W-l2 0.8")]["plus_minus"] == pytest.approx(0.0)
    assert cells[("CIFAR-10: AT", table_5_3.BOUND_COLUMN)]["value"] == pytest.approx(20.0)
    # sample std of (0, 0.1, 0.2) = 0.1
    cert = cells[("CIFAR-10: AT", "certified accuracy r=0.1 (not in thesis)")]
    assert cert["value"] == pytest.approx(0.1) and cert["plus_minus"] == pytest.approx(math.sqrt(0.02 / 2))


def test_smoke_attacks_are_cheap_but_every_kind_is_present():
    ev = _runs.eval_specs(SMOKE, "cifar10")
    assert {s["kind"] for s in ev.values()} == {"pgd", "cw_l2", "autoattack"}
    assert all(s.get("examples", 0) <= 200 for s in ev.values())
    # the natural accuracy is the certified evaluation's, on the whole test split
    assert _runs.certified_spec(SMOKE, "cifar10", [0.1])["examples"] is None
