"""Figure D.2: region counts of hand-made perturbations (inside the ℓ∞ ball / the ℓ2 cap / outside) counted by
hand, the ε′ axis against the thesis's figure data, the ε default and the study's series."""
import csv

import pytest

from appd_helpers import PAPER, SMOKE, Ctx, write_inputs
from toeplitznet.items.appD_multinorm import _report as R, _runs, fig_D_2
from toeplitznet.reference import figure_data_path

# (found, clean correct, ||d||_inf, ||d||_2) of 7 examples, eps = 0.1
EXAMPLES = [(True, True, 0.05, 0.5),    # inside the linf ball (whatever its l2 norm)
            (True, True, 0.1, 0.1),     # on the linf sphere: inside
            (True, True, 0.2, 0.25),    # cap from eps' = 0.25 on
            (True, True, 0.3, 0.9),     # cap from 0.9 on
            (True, True, 0.3, 2.0),     # always outside on [0.1, 1.0]
            (False, True, None, None),  # no adversarial found: outside (count all), left out (successful)
            (True, False, 0.0, 0.0)]    # a clean error: inside (count all), left out (successful)


def _rec():
    f, c, a, b = zip(*EXAMPLES)
    return {"found": list(f), "clean_correct": list(c), "linf": list(a), "l2": list(b)}


def test_region_counts_by_hand():
    rs = [0.1, 0.25, 0.5, 0.9, 1.0]
    out = R.region_counts(_rec(), 0.1, rs, "all")
    assert out["inside_linf"] == [3] * 5
    assert out["l2_cap"] == [0, 1, 1, 2, 2]
    assert out["outside"] == [4, 3, 3, 2, 2]
    assert out["n"] == 7 and out["not_found"] == 1
    out = R.region_counts(_rec(), 0.1, rs, "successful")
    assert out["inside_linf"] == [2] * 5 and out["l2_cap"] == [0, 1, 1, 2, 2] and out["outside"] == [3, 2, 2, 1, 1]
    assert out["n"] == 5 and out["not_found"] == 0
    # at eps' = eps the cap is empty (||d||_2 <= eps implies ||d||_inf <= eps); at eps sqrt(d) nothing found is outside
    with pytest.raises(ValueError, match="count"):
        R.region_counts(_rec(), 0.1, rs, "broken")


def test_radii_are_the_thesis_axis():
    with open(figure_data_path(fig_D_2.REFERENCE)) as fh:
        xs = sorted({float(r["x"]) for r in csv.DictReader(fh)})
    ours = R.radii(0.3, 3072, 20)           # the thesis's figure: eps 0.3, d = 3072, 20 points
    assert len(ours) == len(xs) == 20
    assert ours == pytest.approx(xs, abs=0.006)   # its x values are printed with 2 decimals


def test_eps_default_and_models():
    assert PAPER["studies"]["fig_D_2"]["eps"] == 0.031        # CIFAR-10's eps, not the caption's 0.3
    assert SMOKE["studies"]["fig_D_2"]["eps"] == SMOKE["studies"]["appD_train"]["eps"]["linf"]
    assert set(fig_D_2.runs(PAPER, None)) == {"appD_baseline", "appD_at_linf"}
    ev = fig_D_2.evaluations(PAPER, None)
    assert {e for _, e in ev} == {_runs.CW_ID} and next(iter(ev.values()))["binary_search_steps"] == 9


def test_series_from_hand_made_results(tmp_path):
    rec = {**_rec(), "dim": 4, "n": 7}
    ins = write_inputs(tmp_path, {"appD_baseline": {"defence": "baseline"}},
                       {f"appD_baseline__eval__{_runs.CW_ID}": rec})
    ctx = Ctx(ins, {"eps": 0.1, "n_radii": 3, "count": "all", "run_ids": {"baseline": "appD_baseline"}, "notes": []})
    fig_D_2.run(ctx)
    s = ctx.written["result"]["series"][0]
    assert s["radius"] == pytest.approx([0.1, 0.15, 0.2])      # eps .. eps sqrt(4)
    assert s["inside_linf"] == [3, 3, 3] and s["l2_cap"] == [0, 0, 0] and s["outside"] == [4, 4, 4]
    assert s["label"] == "Baseline"
