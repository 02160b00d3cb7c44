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


