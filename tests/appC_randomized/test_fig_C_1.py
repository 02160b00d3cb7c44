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

from appc_helpers import _inputs

ROOT = Path(__file__).resolve().parents[2]
SMOKE = yaml.safe_load((ROOT / "config/config.yaml").read_text())
PAPER = yaml.safe_load((ROOT / "config/paper.yaml").read_text())
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
