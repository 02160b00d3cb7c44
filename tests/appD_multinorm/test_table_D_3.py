"""Table D.3: the paper settings against S10 (L8335-8357), the 11 defences' run specs (attack, noise), the reuse
of Section 5.5's runs, the config checks, the thesis's rows/columns, and the cells (mean ± sample std over seeds,
the union from per-example flags) from hand-made evaluation results."""
import copy
import math

import pytest

from appd_helpers import PAPER, SMOKE, Ctx, record, write_inputs
from toeplitznet.items.appD_multinorm import _runs, table_D_3
from toeplitznet.plan import build_plan
from toeplitznet.reference import thesis_cells
from toeplitznet.registry import discover


def test_paper_settings_are_the_thesis_text():
    s = PAPER["studies"]["appD_train"]
    assert s["eps"] == {"linf": 0.031, "l2": 0.83}                       # L8348-8350
    # "similar volumes" (L8349): 0.83 is the equal-volume radius of the 0.031 cube in d = 3072, truncated
    assert _runs.equal_volume_l2(0.031, 3072) == pytest.approx(0.8327, abs=1e-4)   # INVENTORY: 0.8327
    assert s["train"]["attack"]["steps"] == 10 and s["eval"]["steps"] == 20   # L8346-8347
    t = s["train"]
    assert t["model"]["depth"] == 28 and t["model"]["widen"] == 10       # L8351
    # Zagoruyko & Komodakis 2016: 200 epochs, batch 128, lr 0.1 x 0.2 at 60/120/160, wd 5e-4, Nesterov
    assert (t["epochs"], t["batch_size"], t["lr"], t["gamma"], t["weight_decay"], t["nesterov"]) == \
        (200, 128, 0.1, 0.2, 0.0005, True)
    assert t["milestones"] == [60, 120, 160] and t["model"]["dropout"] == 0.3
    assert s["eval"]["eot_samples"] > 1                                   # EoT for NI (L8338-8343)
    assert s["reuse_ch5"] is False
    assert PAPER["studies"]["table_D_3"]["defences"] == list(_runs.DEFENCES)


def test_defence_specs():
    specs = _runs.specs(PAPER, list(_runs.DEFENCES))
    assert len(specs) == 11 and all(r.startswith("appD_") for r in specs)
    by = {s["labels"]["defence"]: s for s in specs.values()}
    assert by["baseline"]["robust"]["attack"] is None and "noise" not in by["baseline"]["model"]
    at = by["at_linf"]["robust"]["attack"]
    assert (at["norm"], at["eps"], at["steps"]) == ("linf", 0.031, 10) and at["step"] == pytest.approx(0.0062)
    assert by["at_l2"]["robust"]["attack"]["norm"] == "l2" and by["at_l2"]["robust"]["attack"]["step"] == \
        pytest.approx(0.166)
    for d, sel in (("mat_max", "max"), ("mat_rand", "rand")):
        a = by[d]["robust"]["attack"]
        assert a["kind"] == "mixed" and a["select"] == sel and a["granularity"] == "example"
        assert [(x["norm"], x["eps"]) for x in a["attacks"]] == [("linf", 0.031), ("l2", 0.83)]
    assert by["ni_gaussian"]["robust"]["attack"] is None
    assert by["ni_gaussian"]["model"]["noise"] == {"dist": "gaussian", "sd": 0.25, "clip": False}
    assert by["ni_uniform"]["model"]["noise"]["sd"] == pytest.approx(0.2 / math.sqrt(3))   # U[-0.2, 0.2]
    r = by["rat_l2_uniform"]
    assert r["robust"]["attack"]["norm"] == "l2" and r["model"]["noise"]["dist"] == "uniform"
    assert by["rat_linf_gaussian"]["robust"]["attack"]["norm"] == "linf"
    # EoT: the noise defences' evaluation averages, the others do not
    assert _runs.eval_spec(PAPER, "ni_uniform")["eot_samples"] == 20 and _runs.eval_spec(PAPER, "at_l2")["eot_samples"] == 1
    ev = _runs.eval_spec(PAPER, "baseline")["attacks"]
    assert ev["pgd_linf"]["eps"] == 0.031 and ev["pgd_l2"]["eps"] == 0.83 and ev["pgd_l2"]["steps"] == 20


def test_smoke_reuses_the_section_5_5_runs():
    from toeplitznet.items.ch5_robust import _runs as ch5

    ids = _runs.run_ids(SMOKE, list(_runs.DEFENCES))
    assert ids["baseline"] == "ch5_cifar10_baseline" and ids["at_linf"] == "ch5_cifar10_at"
    assert _runs.run_spec(SMOKE, "at_linf") == ch5.run_spec(SMOKE, "cifar10", ch5.arm_runs(SMOKE, "cifar10", "at")[0])
    cfg = copy.deepcopy(SMOKE)
    cfg["items"] = ["table_5_3", "table_D_3"]
    plan = build_plan(cfg)
    assert {"table_5_3", "table_D_3"} <= set(plan.runs["ch5_cifar10_at"].items)   # one job for both
    assert ("ch5_cifar10_at", _runs.EVAL_ID) in plan.evals
    assert "appD_at_linf" not in plan.runs and "appD_mat_max" in plan.runs


def test_config_checks_name_the_key():
    cfg = copy.deepcopy(SMOKE)
    cfg["studies"]["appD_train"]["eps"]["linf"] = 0.05
    with pytest.raises(ValueError, match="studies.appD_train.reuse_ch5.*eps.linf"):
        discover().check_config(cfg)
    cfg = copy.deepcopy(SMOKE)
    cfg["studies"]["appD_train"]["test_subset"] = 100
    with pytest.raises(ValueError, match="test_subset"):
        discover().check_config(cfg)
    cfg = copy.deepcopy(PAPER)
    cfg["studies"]["appD_train"]["train"]["batch_size"] = 130
    with pytest.raises(ValueError, match="studies.appD_train.train.batch_size"):
        discover().check_config(cfg)


def test_rows_and_columns_match_the_thesis():
    keys = {(c.row, c.column) for c in thesis_cells("table_D_3")}
    for d in _runs.DEFENCES:
        for row in table_D_3.ROWS.values():
            assert (row, _runs.label(d)) in keys, (row, d)
    assert ("attack", "linf bound") in keys and ("attack", "l2 bound") in keys


def test_cells_from_hand_made_results(tmp_path):
    lab = {"dataset": "cifar10", "defence": "mat_max", "row": "MAT Max"}
    runs, evals = {}, {}
    nat = [0.80, 0.84, 0.82]
    flags = [([1, 1, 0, 0], [1, 0, 1, 0]), ([1, 1, 1, 0], [1, 1, 1, 1]), ([0, 0, 0, 0], [1, 1, 0, 0])]
    for i, suffix in enumerate(["", "__seed1", "__seed2"]):
        runs[f"appD_mat_max{suffix}"] = lab
        inf, l2 = flags[i]
        evals[f"appD_mat_max__eval__{_runs.EVAL_ID}{suffix}"] = {
            "natural_accuracy": nat[i], "attacks": {"pgd_linf": record(inf, [1] * 4, [0.03] * 4, [1.0] * 4),
                                                    "pgd_l2": record(l2, [1] * 4, [0.1] * 4, [0.8] * 4)}}
    ctx = Ctx(write_inputs(tmp_path, runs, evals),
              {"run_ids": {"mat_max": "appD_mat_max"}, "eps": {"linf": 0.031, "l2": 0.83}, "union": True, "notes": []})
    table_D_3.run(ctx)
    cells = {(c["row"], c["column"]): c for c in ctx.written["result"]["cells"]}
    c = cells[("Natural", "MAT Max")]
    assert c["value"] == pytest.approx(0.82) and c["plus_minus"] == pytest.approx(0.02) and c["n_seeds"] == 3
    assert cells[("PGD-linf", "MAT Max")]["value"] == pytest.approx((0.5 + 0.75 + 0.0) / 3)
    assert cells[("PGD-l2", "MAT Max")]["value"] == pytest.approx((0.5 + 1.0 + 0.5) / 3)
    # union per seed: (1,0,0,0) -> 0.25, (1,1,1,0) -> 0.75, nothing -> 0; mean and sample std by hand
    u = cells[(table_D_3.UNION_ROW, "MAT Max")]
    assert u["value"] == pytest.approx(1 / 3)
    assert u["plus_minus"] == pytest.approx(math.sqrt(((0.25 - 1 / 3) ** 2 + (0.75 - 1 / 3) ** 2 + (1 / 3) ** 2) / 2))
    assert cells[("attack", "l2 bound")] == {"row": "attack", "column": "l2 bound", "value": 0.83, "setting": True}
    assert ctx.written["result"]["seeds"] == [0, 1, 2]
