"""The claims item (toeplitznet.items.claims) and its layers on hand-made run results: every source kind
(metrics, evaluation, cell, result key), patterns and quantiles, seed replicas, the three verdicts including a
case where one seed would flip the verdict, orderings and trends, the registry's claims as data, and the
medium config resolving every claim on three seeds."""
import json
import math

import numpy as np
import pytest
import yaml
from scipy import stats as st

from conftest import ROOT
from toeplitznet.claims import Arm, Claim, ClaimError, judge_claim
from toeplitznet.claims.select import read_key, reduce_value, resolve, seed_values
from toeplitznet.items.claims import claims as item
from toeplitznet.plan import Paths
from toeplitznet.registry import discover

REG = discover()
MEDIUM = yaml.safe_load((ROOT / "config/medium.yaml").read_text())


class Ctx:
    def __init__(self, inputs, params):
        self.inputs, self.params, self.written = inputs, params, {}

    def write_result(self, name, res):
        self.written[name] = res


def _metrics(acc):
    return {"status": "finished", "final_eval": {"test": {"accuracy": acc}}}


def _write(tmp_path, name, data):
    p = tmp_path / f"{name}.json"
    p.write_text(json.dumps(data))
    return str(p)


TOY = Claim(id="toy", text="A beats B", thesis_lines="L1", statistic="difference", direction=">",
            arms=(Arm(name="A", item="table_4_1", source="metrics", key="final_eval.test.accuracy"),
                  Arm(name="B", item="table_4_1", source="metrics", key="final_eval.test.accuracy")))


def _run_toy(tmp_path, a, b, claim=TOY, method="welch"):
    """Feed per-seed accuracies ``a`` / ``b`` to the claims item's run() as metrics files (global seed first,
    then replicas, as the plan names them)."""
    inputs, resolved = {}, []
    for k, vals in enumerate((a, b)):
        name = f"{claim.id}__arm{k}"
        for s, v in enumerate(vals):
            key = name if s == 0 else f"{name}__seed{s}"
            inputs[key] = _write(tmp_path, f"{key}", _metrics(v))
        resolved.append({"claim": claim.id, "arm": k, "input": name, "x": None})
    params = {"include": "all", "exclude": [], "level": 0.95, "method": method,
              "claims": [item._claim_record(claim)], "resolved": resolved, "skipped": []}
    ctx = Ctx(inputs, params)
    REG.claims[claim.id] = claim
    try:
        item.run(ctx)
    finally:
        REG.claims.pop(claim.id)
    return ctx.written["result"]


# ------------------------------------------------------------------------------------------ verdicts
def test_holds_contradicted_inconclusive_from_hand_made_runs(tmp_path):
    res = _run_toy(tmp_path, [0.80, 0.81, 0.79], [0.70, 0.71, 0.69])
    j = res["claims"][0]
    # Welch by hand: equal variances 1e-4, n = 3 each: se = sqrt(2e-4/3), df = 4
    se = math.sqrt(2e-4 / 3)
    q = st.t.ppf(0.975, 4)
    assert j["estimate"] == pytest.approx(0.10) and j["low"] == pytest.approx(0.10 - q * se)
    assert j["verdict"] == "holds" and res["counts"] == {"holds": 1, "contradicted": 0, "inconclusive": 0}
    cell = next(c for c in res["cells"] if c["column"] == "statistic")
    assert cell["claim_verdict"] == "holds" and cell["row"].startswith("toy: A beats B (L1)")
    assert _run_toy(tmp_path, [0.60, 0.61, 0.59], [0.70, 0.71, 0.69])["claims"][0]["verdict"] == "contradicted"
    assert _run_toy(tmp_path, [0.75, 0.60, 0.70], [0.70, 0.66, 0.69])["claims"][0]["verdict"] == "inconclusive"


def test_one_seed_would_flip_the_verdict_but_never_decides(tmp_path):
    a, b = [0.80, 0.62, 0.64], [0.70, 0.69, 0.71]   # seed 0 alone: A >> B; over three seeds A < B on average
    one = _run_toy(tmp_path, a[:1], b[:1])["claims"][0]
    assert one["verdict"] == "inconclusive" and one["low"] is None and "seed" in one["reason"]
    three = _run_toy(tmp_path, a, b)["claims"][0]
    assert three["estimate"] < 0 < one["estimate"]
    assert three["verdict"] == "inconclusive"   # and three seeds do not contradict it either
    lo, hi = st.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert (three["low"], three["high"]) == (pytest.approx(lo), pytest.approx(hi))


def test_paired_method_uses_seed_pairs(tmp_path):
    a, b = [0.70, 0.80, 0.60], [0.68, 0.78, 0.585]   # large seed effect, consistent small gain
    welch = _run_toy(tmp_path, a, b)["claims"][0]
    paired = _run_toy(tmp_path, a, b, method="paired")["claims"][0]
    assert welch["verdict"] == "inconclusive" and paired["verdict"] == "holds"
    lo, hi = st.ttest_rel(a, b).confidence_interval(0.95)
    assert (paired["low"], paired["high"]) == (pytest.approx(lo), pytest.approx(hi))


def test_diverged_runs_are_dropped_and_counted(tmp_path):
    claim = TOY
    inputs = {"toy__arm0": _write(tmp_path, "a0", _metrics(0.8)),
              "toy__arm0__seed1": _write(tmp_path, "a1", {"status": "diverged"})}
    vals = seed_values(inputs, claim.arms[0], "toy__arm0")
    assert [v for _, v in vals] == [0.8, None]
    j = judge_claim(claim, [[0.8, None], [0.7, 0.71]])
    assert j["arms"][0]["dropped"] == 1 and j["verdict"] == "inconclusive"


def test_ordering_needs_every_adjacent_pair():
    c = Claim(id="ord", text="A > B > C", thesis_lines="L1", statistic="ordering",
              arms=tuple(Arm(name=n, item="table_4_1", source="metrics", key="k") for n in "ABC"))
    assert judge_claim(c, [[0.9, 0.91, 0.89], [0.8, 0.81, 0.79], [0.7, 0.71, 0.69]])["verdict"] == "holds"
    j = judge_claim(c, [[0.9, 0.91, 0.89], [0.8, 0.81, 0.79], [0.85, 0.86, 0.84]])
    assert j["verdict"] == "contradicted" and j["reason"].startswith("B vs C")
    assert judge_claim(c, [[0.9, 0.91, 0.89], [0.8, 0.81, 0.79], [0.8, 0.7, 0.9]])["verdict"] == "inconclusive"


def test_trend_over_x_matches_linregress():
    c = Claim(id="tr", text="y falls with x", thesis_lines="L1", statistic="trend", direction="<",
              arms=(Arm(name="runs", item="fig_C_1", source="metrics", key="k", x_label="sd"),))
    xs = [0.05] * 3 + [0.2] * 3 + [0.5] * 3
    ys = [0.90, 0.91, 0.89, 0.85, 0.86, 0.84, 0.70, 0.72, 0.71]
    j = judge_claim(c, [ys], xs=[xs])
    ref = st.linregress(xs, ys)
    q = st.t.ppf(0.975, len(xs) - 2)
    assert j["estimate"] == pytest.approx(ref.slope)
    assert j["high"] == pytest.approx(ref.slope + q * ref.stderr) and j["verdict"] == "holds"


def test_exact_claims_need_every_value():
    c = Claim(id="ex", text="bound holds", thesis_lines="L1", statistic="exact", direction=">", threshold=-1e-9,
              arms=(Arm(name="gap", item="fig_5_2", source="result", key="series.*.gamma", reduce="min"),))
    assert judge_claim(c, [[0.3]])["verdict"] == "holds"
    assert judge_claim(c, [[0.3, -0.1]])["verdict"] == "contradicted"   # several files: the worst decides


# ------------------------------------------------------------------------------------------ reading values
def test_keys_patterns_cells_and_reductions():
    data = {"parts": {"natural_single_1": {"accuracy": 0.9}, "pgd_linf_e0p06": {"accuracy": 0.4}},
            "accuracy_at": {"0.6": 0.5, "0.8": 0.3}, "values": [1.0, 2.0, 3.0, 4.0, 10.0],
            "series": [{"gamma": [0.5, 0.2]}, {"gamma": [0.7, 0.01]}],
            "cells": [{"row": "6x3x3", "column": "flag", "value": True},
                      {"row": "1x3x3", "column": "flag", "value": False}]}

    def arm(**kw):
        return Arm(name="a", item="fig_5_2", **{"source": "evaluation", "evaluation": {"kind": "x"}, **kw})

    assert read_key(data, arm(key="parts.natural_*.accuracy"), "f") == [0.9]
    assert read_key(data, arm(key=("accuracy_at", "0.6")), "f") == 0.5
    assert reduce_value(read_key(data, arm(key="accuracy_at.*"), "f"), "mean", "f") == pytest.approx(0.4)
    assert reduce_value(read_key(data, arm(key="series.*.gamma"), "f"), "min", "f") == 0.01
    v = read_key(data, arm(key="values"), "f")
    assert reduce_value(v, "quantile:0.9", "f") == pytest.approx(np.quantile(v, 0.9))
    assert reduce_value(v, "median", "f") == 3.0
    cells = Arm(name="c", item="fig_5_2", source="cell", key=("*", "flag"), reduce="min")
    assert reduce_value(read_key(data, cells, "f"), "min", "f") == 0.0
    one = Arm(name="c", item="fig_5_2", source="cell", key=("6x3x3", "flag"))
    assert read_key(data, one, "f") is True
    with pytest.raises(KeyError, match="f: no key 'parts.adv.accuracy'"):
        read_key(data, arm(key="parts.adv.accuracy"), "f")
    with pytest.raises(KeyError, match="nothing matches"):
        read_key(data, arm(key="parts.cw_*.accuracy"), "f")


def test_bad_declarations_are_named():
    with pytest.raises(ClaimError, match="claim c: every claim names its thesis line"):
        Claim(id="c", text="t", thesis_lines="", statistic="difference", arms=TOY.arms)
    with pytest.raises(ClaimError, match="cannot take 1 arm"):
        Claim(id="c", text="t", thesis_lines="L1", statistic="difference", arms=TOY.arms[:1])
    with pytest.raises(ClaimError, match="needs evaluation attributes"):
        Arm(name="a", item="x", key="k")
    with pytest.raises(ClaimError, match="direction"):
        Claim(id="c", text="t", thesis_lines="L1", statistic="difference", direction=">=", arms=TOY.arms)


# ------------------------------------------------------------------------------------------ registry / configs
def test_registry_claims_name_lines_and_known_items():
    assert len(REG.claims) >= 20
    for c in REG.claims.values():
        assert c.thesis_lines and c.text and c.chapter
        for a in c.arms:
            assert REG.items[a.item].built, (c.id, a.item)
    # the list, at least
    for cid in ("dcnn_near_dense", "slope_helps_deep_dcnn", "relu_every_three_best", "dcnn_beats_ldr_td",
                "dcnn_trains_where_acdc_struggles", "lipbound_geq_sigma1", "gamma_decreases",
                "atlipreg_beats_at_pgd", "atlipreg_beats_at_cw", "atlipreg_geq_atpm", "lipreg_thins_jacobian_tail",
                "atlipreg_natural_lower_cifar", "noise_lowers_natural_accuracy", "noise_beats_undefended_eot_pgd",
                "l2_training_wins_l2_attack", "linf_training_wins_linf_attack", "mat_rand_improves_worst_case",
                "guarantee_below_empirical_accuracy"):
        assert cid in REG.claims


def test_medium_config_resolves_every_claim_on_its_own_settings():
    assert MEDIUM["scale"] == "medium" and MEDIUM["items"] == ["claims"] and len(MEDIUM["seeds"]) >= 3
    assert MEDIUM["studies"]["claims"]["include"] == "all"
    smoke = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    assert set(MEDIUM) == set(smoke) and set(MEDIUM["studies"]) == set(smoke["studies"])   # every key present
    entries = resolve(list(REG.claims.values()), MEDIUM, Paths(MEDIUM, REG), REG)
    assert {e["claim"] for e in entries} == set(REG.claims)
    # every section a claim reads is sized for the medium scale (none silently keeps its smoke values)
    read = {s for c in REG.claims.values() for a in c.arms for s in REG.required_sections(a.item)}
    same = [s for s in sorted(read) if MEDIUM["studies"][s] == smoke["studies"][s]]
    assert same == [], f"sections read by claims still at their smoke values: {same}"
    # real data: the full Fashion-MNIST training set for Chapter 4
    assert MEDIUM["studies"]["ch4_train"]["train_subset"] is None


# ------------------------------------------------------------------------------------------ derived values
def _guarantee_part(acc, m, sd_unit, dist="gaussian"):
    return {"accuracy": acc, "mean_exp_neg_entropy": m, "dist": dist, "sd_unit": sd_unit, "n": 200, "draws": 128}


def test_theorem_c2_derivation_against_hand_computation(tmp_path):
    # alpha 0.3 and sd 0.5 on the [-1, 1] scale = 0.15 and 0.25 on [0, 1]: eps = lambda alpha^2 / (2 sd^2)
    # = 1 * 0.0225 / 0.125 = 0.18 (depends on alpha / sd only); guarantee = acc - 1 + e^-eps * E[e^-H]
    claim = REG.claims["guarantee_below_empirical_accuracy"]
    arm = claim.arms[1]
    hand = [0.5 - 1 + math.exp(-0.18) * 0.9, 0.6 - 1 + math.exp(-0.18) * 0.95]
    inputs = {}
    for s, (acc, m) in enumerate([(0.5, 0.9), (0.6, 0.95)]):
        key = "g__arm1" if s == 0 else f"g__arm1__seed{s}"
        inputs[key] = _write(tmp_path, key, {"parts": {"guarantee_d128_n200": _guarantee_part(acc, m, 0.25),
                                                       "cw_l2_b0p3_s20_eot4": {"accuracy": 0.1}}})
    vals = seed_values(inputs, arm, "g__arm1", args={"alpha": 0.3, "renyi_order": 1.0})
    assert [v for _, v in vals] == [pytest.approx(h) for h in hand]
    # a larger Renyi order scales eps; clipped at 0 where no guarantee is left
    big = seed_values(inputs, arm, "g__arm1", args={"alpha": 0.3, "renyi_order": 50.0})
    assert [v for _, v in big] == [0.0, 0.0]
    # two guarantee parts in one file: ambiguous, named
    bad = _write(tmp_path, "bad", {"parts": {"guarantee_a": _guarantee_part(0.5, 0.9, 0.25),
                                             "guarantee_b": _guarantee_part(0.5, 0.9, 0.25)}})
    with pytest.raises(ValueError, match="bad.json.*exactly one"):
        seed_values({"x": bad}, arm, "x", args={"alpha": 0.3})


def test_guarantee_claim_judged_through_the_item_run(tmp_path):
    """The guarantee claim end to end through run(): C&W accuracy files against guarantee files, per seed."""
    claim = REG.claims["guarantee_below_empirical_accuracy"]
    inputs, resolved = {}, []
    cw, parts = [0.42, 0.45, 0.40], [(0.50, 0.92), (0.52, 0.90), (0.49, 0.93)]
    for s in range(3):
        sfx = "" if s == 0 else f"__seed{s}"
        inputs[f"{claim.id}__arm0{sfx}"] = _write(tmp_path, f"a{s}", {"parts": {"cw_l2_b0p3": {"accuracy": cw[s]}}})
        inputs[f"{claim.id}__arm1{sfx}"] = _write(tmp_path, f"b{s}", {"parts": {
            "guarantee_d128_n200": _guarantee_part(*parts[s], 0.25)}})
    args = {"alpha": 0.3, "renyi_order": 1.0}
    resolved = [{"claim": claim.id, "arm": k, "input": f"{claim.id}__arm{k}", "x": None, "args": args}
                for k in (0, 1)]
    params = {"include": "all", "exclude": [], "level": 0.95, "method": "welch",
              "claims": [item._claim_record(claim)], "resolved": resolved, "skipped": []}
    ctx = Ctx(inputs, params)
    item.run(ctx)
    j = ctx.written["result"]["claims"][0]
    g = [a - 1 + math.exp(-0.18) * m for a, m in parts]
    lo, hi = st.ttest_ind(cw, g, equal_var=False).confidence_interval(0.95)
    assert j["estimate"] == pytest.approx(np.mean(cw) - np.mean(g))
    assert (j["low"], j["high"]) == (pytest.approx(lo), pytest.approx(hi)) and j["verdict"] == "holds"


def test_derived_arguments_come_from_the_config():
    claim = REG.claims["guarantee_below_empirical_accuracy"]
    entries = [e for e in resolve([claim], MEDIUM, Paths(MEDIUM, REG), REG)]
    bound = MEDIUM["studies"]["table_C_1"]["cw"]["bound"]
    assert bound is not None and {e["arm"] for e in entries} == {0, 1}
    assert all(e["args"] == {"alpha": bound, "renyi_order": MEDIUM["studies"]["fig_C_2"]["renyi_order"]}
               for e in entries if e["arm"] == 1)
    # both arms read the same run (the largest sd) and the same first test images
    assert len({e["path"] for e in entries}) == 1
    assert MEDIUM["studies"]["fig_C_2"]["examples"] == MEDIUM["studies"]["table_C_1"]["examples"]
    # the thesis's unbounded C&W (smoke and paper): no alpha, so the claim is not planned, and says why
    smoke = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    assert smoke["studies"]["table_C_1"]["cw"]["bound"] is None
    with pytest.raises(ClaimError, match="table_C_1.cw.bound.*null"):
        resolve([claim], smoke, Paths(smoke, REG), REG)


def test_bad_derivation_declarations():
    with pytest.raises(ClaimError, match="derive must be one of"):
        Arm(name="a", item="fig_C_2", key="k", source="metrics", derive="nope")
    with pytest.raises(ClaimError, match="derive_args without derive"):
        Arm(name="a", item="fig_C_2", key="k", source="metrics", derive_args={"alpha": 1})


def test_suite_patterns_pick_one_part(tmp_path):
    """A suite holds the union of Appendix C's evaluations (Table C.2's unbounded C&W beside Table C.1's bounded
    one, the author's-labels PGD beside the true-label one): each App C arm reads exactly its part, and a second
    match is an error (reduce='only'), never an average."""
    suite = {"parts": {"cw_l2_b0p3_s20_eot4": {"accuracy": 0.445}, "cw_l2_bnone_s5_eot4": {"accuracy": 0.075},
                       "pgd_linf_e0p06_s10_eot4": {"accuracy": 0.34}, "pgd_linf_e0p06_s10_eot4_pred": {"accuracy": 0.9},
                       "guarantee_d128_n200": _guarantee_part(0.5, 0.9, 0.25)}}
    f = _write(tmp_path, "suite", suite)
    cw = REG.claims["guarantee_below_empirical_accuracy"].arms[0]
    pgd_arm = REG.claims["noise_beats_undefended_eot_pgd"].arms[0]
    assert seed_values({"x": f}, cw, "x") == [(f, 0.445)]
    assert seed_values({"x": f}, pgd_arm, "x") == [(f, 0.34)]
    two = _write(tmp_path, "two", {"parts": {**suite["parts"], "cw_l2_b0p6_s20_eot4": {"accuracy": 0.3}}})
    with pytest.raises(ValueError, match="exactly one matching value, got 2"):
        seed_values({"x": two}, cw, "x")
    assert reduce_value([0.2], "only", "w") == 0.2
    with pytest.raises(ClaimError, match="only"):
        Arm(name="a", item="fig_C_1", key="k", source="metrics", reduce="first")
