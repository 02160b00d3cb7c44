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


