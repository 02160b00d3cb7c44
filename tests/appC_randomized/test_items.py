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


def test_smoke_runs_are_shared_and_bundled_into_one_suite_per_run():
    ids1 = set(fig_C_1._runs_of(SMOKE))
    assert ids1 == set(table_C_1._runs_of(SMOKE)) - {"ch5_cifar10_baseline"}
    assert set(table_C_2._runs_of(SMOKE)) - {"ch5_cifar10_at"} <= ids1
    assert set(G.runs_of("fig_C_2", "gaussian")(SMOKE)) <= ids1
    jobs = _runs.job_evals(SMOKE, fig_C_1.logical_evals(SMOKE))
    assert all(list(ev) == [_runs.SUITE] for ev in jobs.values())
    parts = jobs["appC_cifar10_gaussian_sd0p5"][_runs.SUITE]["parts"]
    # the suite holds every item's evaluation of this run (Table C.1 and C.2 share their PGD and C&W)
    kinds = sorted(s.get("attack", s["kind"]) for s in parts.values())
    assert kinds == ["autoattack", "cw_l2", "ead_l1", "guarantee", "noisy_accuracy", "pgd_linf", "smoothing"]
    # paper: one job per evaluation
    ev = table_C_1.logical_evals(PAPER)
    assert _runs.job_evals(PAPER, ev) == ev
    assert any(e.endswith("_pred") for e in ev["appC_cifar10_none"])


def test_conflicting_settings_of_a_shared_evaluation_are_an_error():
    cfg = copy.deepcopy(SMOKE)
    cfg["studies"]["table_C_2"]["pgd"]["step"] = 0.03       # same id (eps, steps, eot), other step
    with pytest.raises(ValueError, match="studies.table_C_2"):
        _runs.job_evals(cfg, table_C_1.logical_evals(cfg))
    cfg = copy.deepcopy(SMOKE)
    cfg["studies"]["appC_randomized_train"]["train"]["lr_values"] = [0.1, 0.01]
    with pytest.raises(ValueError, match="train.lr_values"):
        _runs.check_config(cfg)


def test_rows_and_columns_match_the_thesis():
    keys1 = {(c.row, c.column) for c in thesis_cells("table_C_1")}
    for dist, sd in [(None, None), ("gaussian", 0.01), ("gaussian", 0.5), ("laplace", 0.01), ("laplace", 0.5)]:
        for col in table_C_1.COLUMNS.values():
            assert (_runs.row_label(dist, sd), col) in keys1
    keys2 = {(c.row, c.column) for c in thesis_cells("table_C_2")}
    for row in ("natural", "pgd_linf", "cw_l2"):
        for d in ("gaussian", "laplace"):
            for sd in (0.32, 0.5):
                assert (table_C_2.ROWS[row], table_C_2.column_of({"dist": d, "sd": sd})) in keys2
        assert (table_C_2.ROWS[row], "Madry et al.") in keys2
    assert all(c.cited for c in thesis_cells("table_C_2") if c.column == "Madry et al.")
    keys_f = {(c.row, c.column) for c in thesis_cells("fig_C_1")}
    assert ("Gaussian noise, sd 0.5", "accuracy") in keys_f and ("Laplace noise, sd 0.01", "accuracy") in keys_f


def _inputs(tmp, runs, results):
    out = {}
    for name, lab in runs.items():
        p = tmp / f"{name}.json"
        p.write_text(json.dumps({"run_id": name, "labels": lab, "seed": int(name.split("__seed")[1]) if "__seed" in name else 0}))
        out[name] = str(p)
    for name, res in results.items():
        p = tmp / f"{name}.json"
        p.write_text(json.dumps(res))
        out[name] = str(p)
    return out


def test_table_cells_from_hand_made_suite_results(tmp_path):
    ev = table_C_1.logical_evals(SMOKE)
    rid = "appC_cifar10_gaussian_sd0p5"
    parts = {e: {"accuracy": 0.1 * (i + 1)} for i, e in enumerate(ev[rid])}
    parts2 = {e: {"accuracy": 0.1 * (i + 1) + 0.02} for i, e in enumerate(ev[rid])}
    lab = _runs.run_spec(SMOKE, "gaussian", 0.5)["labels"]
    ins = _inputs(tmp_path, {rid: lab, f"{rid}__seed1": lab},
                  {f"{rid}__eval__{_runs.SUITE}": {"parts": parts}, f"{rid}__eval__{_runs.SUITE}__seed1": {"parts": parts2}})
    col = R.collect(ins)
    cells = {(c["row"], c["column"]): c for c in table_C_1.cells_of(col, {rid: ev[rid]})}
    for i, (eid, spec) in enumerate(ev[rid].items()):
        c = cells[("Normal sd 0.50", table_C_1.column_of(spec))]
        assert c["value"] == pytest.approx(0.1 * (i + 1) + 0.01) and c["n_seeds"] == 2
        assert c["plus_minus"] == pytest.approx(math.sqrt(2 * 0.01 ** 2))
    assert {k[1] for k in cells} == set(table_C_1.COLUMNS.values())


def test_table_c2_columns_and_smoothing_rows(tmp_path):
    ev = table_C_2.logical_evals(SMOKE)
    rid = "appC_cifar10_gaussian_sd0p5"
    sm = next(e for e, s in ev[rid].items() if s["kind"] == "smoothing")
    res = {e: {"accuracy": 0.5} for e in ev[rid]}
    res[sm] = {"certified_accuracy": {"0": 0.4, "0.125": 0.3, "0.25": 0.1}}
    ins = _inputs(tmp_path, {rid: _runs.run_spec(SMOKE, "gaussian", 0.5)["labels"],
                             "ch5_cifar10_at": {"dataset": "cifar10", "arm": "at", "row": "AT"}},
                  {f"{rid}__eval__{_runs.SUITE}": {"parts": res},
                   f"ch5_cifar10_at__eval__{_runs.SUITE}": {"parts": {e: {"accuracy": 0.3} for e in ev["ch5_cifar10_at"]}}})
    cells = {(c["row"], c["column"]): c["value"] for c in table_C_2.cells_of(R.collect(ins), ev)}
    assert cells[("No attack [- -]", "Normal sd 0.5")] == 0.5
    assert cells[("linf - PGD 20", table_C_2.AT_COLUMN)] == 0.3
    assert ("linf - AutoAttack rand (not in thesis)", table_C_2.AT_COLUMN) not in cells   # randomised models only
    assert cells[("Cohen et al. certified l2 r=0.5 (not in thesis)", "Normal sd 0.5")] == 0.1
    assert not any(k[1] == "Madry et al." for k in cells)        # the cited column is the thesis's only


def test_guarantee_series_and_fig_c1_cells_from_hand_made_results(tmp_path):
    ev = fig_C_2.logical_evals(SMOKE)
    rid = "appC_cifar10_gaussian_sd0p5"
    eid = next(iter(ev[rid]))
    ins = _inputs(tmp_path, {rid: _runs.run_spec(SMOKE, "gaussian", 0.5)["labels"]},
                  {f"{rid}__eval__{_runs.SUITE}": {"parts": {eid: {"accuracy": 0.8, "mean_exp_neg_entropy": 0.9,
                                                                   "mean_entropy": 0.1, "draws": 128, "n": 12}}}})
    col = R.collect(ins)
    [s] = G.series_of(col, {rid: ev[rid]}, "gaussian", [0.0, 0.2], renyi_order=1.0)
    # by hand: 0.8 - 1 + exp(-0.2^2 / (2 0.5^2)) 0.9
    assert s["guaranteed_accuracy"] == pytest.approx([0.7, 0.8 - 1 + math.exp(-0.08) * 0.9])
    ev1 = {rid: {"nat": {"kind": "noisy_accuracy"}}}
    ins = _inputs(tmp_path, {rid: _runs.run_spec(SMOKE, "gaussian", 0.5)["labels"]},
                  {f"{rid}__eval__nat": {"accuracy": 0.77}})
    cells, series = fig_C_1.cells_of(R.collect(ins), ev1)
    assert {(c["row"], c["column"]): c["value"] for c in cells}[("Gaussian noise, sd 0.5", "accuracy")] == 0.77
    assert series[0]["points"] == [{"sd": 0.5, "accuracy": 0.77, "std": None}]
