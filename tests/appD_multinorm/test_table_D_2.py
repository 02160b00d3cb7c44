"""Table D.2: its columns are the table's (not the text's), its runs and evaluations are Table D.3's, and the
average norms of hand-made perturbation records against a direct numpy computation (all / successful)."""
import numpy as np
import pytest

from appd_helpers import PAPER, SMOKE, Ctx, record, write_inputs
from toeplitznet.items.appD_multinorm import _report as R, _runs, table_D_2, table_D_3
from toeplitznet.reference import thesis_cells


def test_columns_and_rows_match_the_thesis():
    keys = {(c.row, c.column) for c in thesis_cells("table_D_2")}
    ours = {(row, col) for col in table_D_2.COLUMNS for row in table_D_2.ROWS.values()}
    assert ours == keys
    # PGD-l2 on Unprotected / AT-linf, PGD-linf on Unprotected / AT-l2 (the table; the text says otherwise)
    assert set(table_D_2.COLUMNS.values()) == {("pgd_l2", "baseline"), ("pgd_l2", "at_linf"),
                                               ("pgd_linf", "baseline"), ("pgd_linf", "at_l2")}


@pytest.mark.parametrize("cfg", [SMOKE, PAPER])
def test_runs_and_evaluations_are_table_D_3s(cfg):
    mine = table_D_2.evaluations(cfg, None)
    theirs = table_D_3.evaluations(cfg, None)
    assert mine and all(theirs[k] == v for k, v in mine.items())
    assert set(table_D_2.runs(cfg, None)) <= set(table_D_3.runs(cfg, None))


def _records(rng, n):
    robust = rng.random(n) < 0.3
    clean = rng.random(n) < 0.8
    return robust, clean, rng.random(n) * 0.05, 0.5 + rng.random(n)


@pytest.mark.parametrize("select", ["all", "successful"])
def test_average_norms_against_numpy(tmp_path, select):
    rng = np.random.default_rng(0)
    runs, evals, direct = {}, {}, {}
    for defence in table_D_2.DEFENCES:
        rid = f"appD_{defence}"
        runs[rid] = {"defence": defence}
        atk = {}
        for name in ("pgd_linf", "pgd_l2"):
            robust, clean, linf, l2 = _records(rng, 50)
            atk[name] = record(robust.tolist(), clean.tolist(), linf.tolist(), l2.tolist())
            keep = np.ones(50, bool) if select == "all" else clean & ~robust
            direct[(rid, name)] = {"l2": l2[keep].mean(), "linf": linf[keep].mean(), "n": int(keep.sum())}
        evals[f"{rid}__eval__{_runs.EVAL_ID}"] = {"attacks": atk}
    ctx = Ctx(write_inputs(tmp_path, runs, evals),
              {"select": select, "run_ids": {d: f"appD_{d}" for d in table_D_2.DEFENCES}, "notes": []})
    table_D_2.run(ctx)
    cells = {(c["row"], c["column"]): c["value"] for c in ctx.written["result"]["cells"]}
    for column, (attack, defence) in table_D_2.COLUMNS.items():
        want = direct[(f"appD_{defence}", attack)]
        assert cells[("Average l2 norm", column)] == pytest.approx(want["l2"])
        assert cells[("Average linf norm", column)] == pytest.approx(want["linf"])
        assert cells[(table_D_2.COUNT_ROW, column)] == want["n"]


def test_selection_by_hand():
    rec = record([True, False, False, True], [True, True, False, False], [0.1, 0.2, 0.3, 0.4], [1, 2, 3, 4])
    assert R.selected(rec, "all") == [0, 1, 2, 3]
    assert R.selected(rec, "successful") == [1]        # correct without attack and broken by it
    assert R.mean_norm("a", "l2", "successful")({"attacks": {"a": rec}}) == 2
    with pytest.raises(ValueError, match="select"):
        R.selected(rec, "broken")
