"""Figure 5.3: the curve of (a) is read from the recorded iterations of one PGD run per model (the final point
is the run's accuracy), (b) from one bounded C&W run per iteration count."""
import pytest

from robust_helpers import PAPER, SMOKE
from toeplitznet.items.ch5_robust import fig_5_3
from toeplitznet.plan import build_plan


def test_paper_x_axis_is_the_thesis_figure_data():
    import csv

    from toeplitznet.reference import figure_data_path

    with open(figure_data_path(fig_5_3.REFERENCE)) as fh:
        xs = sorted({int(r["x"]) for r in csv.DictReader(fh) if r["panel"] == "a"})
    rec = PAPER["studies"]["ch5_robust_train"]["eval"]["cifar"]["pgd_linf"]
    assert sorted(rec["record"] + [rec["steps"]]) == xs
    assert sorted(PAPER["studies"]["fig_5_3"]["cw_steps"]) == xs


def test_figure_shares_table_5_3s_pgd_run():
    plan = build_plan(SMOKE)
    ev = fig_5_3._evals(SMOKE)["ch5_cifar10_at"]
    pgd = [e for e, s in ev.items() if s["kind"] == "pgd"]
    assert len(pgd) == 1 and (("ch5_cifar10_at", pgd[0]) in plan.evals)
    assert plan.evals[("ch5_cifar10_at", pgd[0])].cfg["study"]["evaluation"]["record"] == [1, 2]
    cw = sorted(s["steps"] for s in ev.values() if s["kind"] == "cw_l2")
    assert cw == SMOKE["studies"]["fig_5_3"]["cw_steps"]
    assert all(0.8 in s["bounds"] for s in ev.values() if s["kind"] == "cw_l2")
    # at Table 5.3's iteration count the figure reads the table's C&W run (one job)
    spec = dict(plan.evals[("ch5_cifar10_at", "cw_l2")].cfg["study"]["evaluation"])
    spec.pop("id")
    assert ev["cw_l2"] == spec
    assert ("ch5_cifar10_at", "cw_l2") in plan.evals


def test_series_from_hand_made_results(tmp_path):
    from robust_helpers import write_inputs
    from toeplitznet.items.ch5_robust import _report as R

    lab = {"dataset": "cifar10", "arm": "at", "c2": None, "row": "AT"}
    ins = write_inputs(tmp_path, {"ch5_cifar10_at": lab}, {
        "ch5_cifar10_at__eval__pgd": {"accuracy": 0.4, "robust_at": {"1": 0.6, "2": 0.5}},
        "ch5_cifar10_at__eval__cw5": {"accuracy_at": {"0.8": 0.45}}})

    class Ctx:
        inputs = ins
        params = {"cw_bound": 0.8, "evals": {"ch5_cifar10_at": {"pgd": {"kind": "pgd", "record": [1, 2], "steps": 5},
                                               "cw5": {"kind": "cw_l2", "bounds": [0.8], "steps": 5}}}}
        written = {}

        def write_result(self, name, res):
            self.written[name] = res

    ctx = Ctx()
    fig_5_3.run(ctx)
    s = ctx.written["result"]["series"][0]
    assert [(p["iterations"], p["accuracy"]) for p in s["pgd_linf"]] == [(1, 0.6), (2, 0.5), (5, 0.4)]
    assert s["cw_l2"] == [{"iterations": 5, "accuracy": 0.45, "std": None}]
    assert R.Collected(ins).runs() == ["ch5_cifar10_at"]
