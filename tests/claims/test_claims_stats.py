"""toeplitznet.claims.stats against independent computations (scipy, numpy, hand-derived numbers)."""
import json
import math

import numpy as np
import pytest
from scipy import stats as st

from toeplitznet.claims import stats as cs
from toeplitznet.claims.stats import CONTRADICTED, HOLDS, INCONCLUSIVE, Interval


def _ci(res, level=0.95):
    ci = res.confidence_interval(confidence_level=level)
    return ci.low, ci.high


# ------------------------------------------------------------------------------------------- welch


@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_welch_matches_scipy(level):
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.7, 0.05, 5), rng.normal(0.65, 0.02, 7)
    iv = cs.welch_difference(a, b, level=level)
    res = st.ttest_ind(a, b, equal_var=False)
    lo, hi = _ci(res, level)
    assert iv.estimate == pytest.approx(a.mean() - b.mean(), rel=1e-12)
    assert (iv.low, iv.high) == (pytest.approx(lo, rel=1e-10), pytest.approx(hi, rel=1e-10))
    assert iv.df == pytest.approx(res.df, rel=1e-10)
    assert iv.n == (5, 7) and iv.method == "welch-t" and iv.level == level


def test_welch_hand_computed_df():
    # a=[1,2,3]: var 1 -> va = 1/3; b=[2,4,6,8]: var 20/3 -> vb = 5/3; va+vb = 2
    # df = 2^2 / ((1/3)^2/2 + (5/3)^2/3) = 4 / (1/18 + 25/27) = 216/53
    iv = cs.welch_difference([1, 2, 3], [2, 4, 6, 8])
    assert iv.df == pytest.approx(216 / 53, rel=1e-12)
    q = st.t.ppf(0.975, 216 / 53)
    assert iv.estimate == pytest.approx(-3.0)
    assert iv.low == pytest.approx(-3 - q * math.sqrt(2), rel=1e-12)
    assert iv.high == pytest.approx(-3 + q * math.sqrt(2), rel=1e-12)


def test_welch_degenerate_cases():
    one = cs.welch_difference([0.8], [0.7])
    assert one.estimate == pytest.approx(0.1) and one.low is None and one.high is None
    half = cs.welch_difference([0.8, 0.9], [0.7])
    assert half.estimate == pytest.approx(0.15) and half.low is None
    flat = cs.welch_difference([1.0, 1.0, 1.0], [0.0, 0.0])
    assert (flat.estimate, flat.low, flat.high) == (1.0, 1.0, 1.0)
    flat01 = cs.welch_difference([0.1, 0.1, 0.1], [0.1, 0.1])  # no round-off residue in the variance
    assert flat01.low == flat01.high == flat01.estimate


# ------------------------------------------------------------------------------------------ paired


def test_paired_matches_scipy():
    rng = np.random.default_rng(2)
    b = rng.normal(0.7, 0.05, 6)
    a = b + rng.normal(0.01, 0.004, 6)
    iv = cs.paired_difference(a, b)
    lo, hi = _ci(st.ttest_rel(a, b))
    assert iv.estimate == pytest.approx(np.mean(a - b), rel=1e-12)
    assert (iv.low, iv.high) == (pytest.approx(lo, rel=1e-10), pytest.approx(hi, rel=1e-10))
    assert iv.df == 5 and iv.n == (6,)
    # pairing matters: the Welch interval on the same data is much wider
    w = cs.welch_difference(a, b)
    assert (w.high - w.low) > 3 * (iv.high - iv.low)


def test_paired_length_mismatch_raises():
    with pytest.raises(ValueError, match=r"len\(a\)=3.*len\(b\)=4"):
        cs.paired_difference([1, 2, 3], [1, 2, 3, 4])


# ------------------------------------------------------------------------------------------- slope


def test_slope_matches_linregress_with_repeated_x():
    rng = np.random.default_rng(3)
    x = np.repeat([1.0, 2.0, 4.0], 3)  # three seeds per setting
    y = 0.9 - 0.05 * x + rng.normal(0, 0.01, x.size)
    iv = cs.slope(x, y)
    lr = st.linregress(x, y)
    q = st.t.ppf(0.975, 7)
    assert q == pytest.approx(2.364624, abs=1e-6)  # t_{0.975, 7} from a printed t table
    assert iv.estimate == pytest.approx(lr.slope, rel=1e-12)
    assert iv.low == pytest.approx(lr.slope - q * lr.stderr, rel=1e-10)
    assert iv.high == pytest.approx(lr.slope + q * lr.stderr, rel=1e-10)
    assert iv.df == 7 and iv.n == (9,) and iv.method == "ols-slope-t"


def test_slope_degenerate_cases():
    two = cs.slope([1, 2], [3, 5])
    assert two.estimate == pytest.approx(2.0) and two.low is None
    same_x = cs.slope([1, 1, 1], [1, 2, 3])
    assert same_x.estimate is None and same_x.low is None
    v, reason = cs.verdict(same_x, "<")
    assert v == INCONCLUSIVE and "distinct x" in reason
    exact = cs.slope([1, 2, 3], [2, 4, 6])
    assert exact.low == exact.high == pytest.approx(2.0)
    with pytest.raises(ValueError, match="len"):
        cs.slope([1, 2, 3], [1, 2])


# --------------------------------------------------------------------------------------- bootstrap


def test_bootstrap_strictly_better_arm():
    m = 200
    a = [np.ones(m)] * 3
    b = [np.zeros(m)] * 3
    iv = cs.bootstrap_difference(a, b, n_boot=200)
    assert iv.low > 0 and iv.estimate == 1.0
    assert cs.verdict(iv, ">")[0] == HOLDS
    # a dominates b example by example on a 10% subset, with seed-to-seed noise on the rest
    rng = np.random.default_rng(4)
    base = rng.random(m) < 0.6
    bs = [base & (rng.random(m) < 0.98) for _ in range(3)]
    gain = np.arange(m) % 10 == 0
    as_ = [x | gain for x in bs]
    iv = cs.bootstrap_difference(as_, bs, n_boot=300)
    diff = np.mean([x.mean() for x in as_]) - np.mean([x.mean() for x in bs])
    assert iv.estimate == pytest.approx(diff, rel=1e-12)
    assert 0 < iv.low <= iv.estimate <= iv.high


def test_bootstrap_identical_arms_is_exactly_zero():
    rng = np.random.default_rng(5)
    a = [rng.random(100) < 0.5 for _ in range(3)]
    iv = cs.bootstrap_difference(a, [x.copy() for x in a], n_boot=100)
    assert (iv.estimate, iv.low, iv.high) == (0.0, 0.0, 0.0)
    assert cs.verdict(iv, ">")[0] == INCONCLUSIVE  # touches the threshold


def test_bootstrap_one_seed_has_no_interval():
    a, b = [np.ones(50)], [np.zeros(50)]
    iv = cs.bootstrap_difference(a, b, n_boot=50)
    assert iv.estimate == 1.0 and iv.low is None and iv.high is None and iv.n == (1, 1, 50)
    v, reason = cs.verdict(iv, ">")
    assert v == INCONCLUSIVE and "one seed per arm" in reason
    iv2 = cs.bootstrap_difference([np.ones(50)] * 3, b, n_boot=50)
    assert iv2.low is None and cs.verdict(iv2, ">")[0] == INCONCLUSIVE


def test_bootstrap_deterministic_and_unequal_seeds():
    rng = np.random.default_rng(6)
    a = [rng.random(300) < 0.7 for _ in range(3)]
    b = [rng.random(300) < 0.6 for _ in range(4)]
    one = cs.bootstrap_difference(a, b, n_boot=200, seed=7)
    two = cs.bootstrap_difference(a, b, n_boot=200, seed=7)
    other = cs.bootstrap_difference(a, b, n_boot=200, seed=8)
    assert one == two
    assert (one.low, one.high) != (other.low, other.high)
    assert one.n == (3, 4, 300)


def _naive_unpaired(A, B, level, n_boot, seed):
    """Bootstrap that resamples examples and seeds independently for each arm (ignores the pairing)."""
    rng = np.random.default_rng(seed)
    A, B = np.asarray(A, float), np.asarray(B, float)
    out = []
    for _ in range(n_boot):
        ia = rng.integers(0, A.shape[0], A.shape[0])
        ib = rng.integers(0, B.shape[0], B.shape[0])
        ea = rng.integers(0, A.shape[1], A.shape[1])
        eb = rng.integers(0, B.shape[1], B.shape[1])
        out.append(A[ia][:, ea].mean() - B[ib][:, eb].mean())
    return np.quantile(out, [(1 - level) / 2, (1 + level) / 2])


def test_bootstrap_pairing_over_examples_narrows_the_interval():
    # both arms get the same easy examples right; a additionally gets 2% more right: the difference
    # is small and consistent, while example difficulty varies a lot
    rng = np.random.default_rng(9)
    m, seeds = 2000, 3
    base = rng.random(m) < 0.6
    extra = (~base) & (rng.random(m) < 0.05)
    bs = [base ^ (rng.random(m) < 0.01) for _ in range(seeds)]
    as_ = [x | extra for x in bs]
    iv = cs.bootstrap_difference(as_, bs, n_boot=400, seed=0)
    lo, hi = _naive_unpaired(as_, bs, 0.95, 400, 0)
    assert (iv.high - iv.low) < 0.5 * (hi - lo)
    assert lo < 0 < hi  # the naive interval cannot tell the arms apart
    assert cs.verdict(iv, ">")[0] == HOLDS


# ----------------------------------------------------------------------------------------- verdict


def _iv(est, low, high, n=(3, 3)):
    return Interval(est, low, high, 0.95, "welch-t", n, 4.0)


@pytest.mark.parametrize(
    "iv, direction, threshold, expected",
    [
        (_iv(0.02, 0.01, 0.03), ">", 0.0, HOLDS),
        (_iv(0.02, 0.01, 0.03), "<", 0.0, CONTRADICTED),
        (_iv(-0.02, -0.03, -0.01), "<", 0.0, HOLDS),
        (_iv(-0.02, -0.03, -0.01), ">", 0.0, CONTRADICTED),
        (_iv(0.01, -0.01, 0.03), ">", 0.0, INCONCLUSIVE),
        (_iv(0.01, -0.01, 0.03), "<", 0.0, INCONCLUSIVE),
        (_iv(0.01, 0.0, 0.02), ">", 0.0, INCONCLUSIVE),  # touches the threshold
        (_iv(0.02, 0.01, 0.03), ">", 0.005, HOLDS),
        (_iv(0.02, 0.01, 0.03), ">", 0.015, INCONCLUSIVE),
        (_iv(0.02, 0.01, 0.03), ">", 0.05, CONTRADICTED),
        (_iv(0.02, 0.01, 0.03), "<", 0.05, HOLDS),
        (_iv(0.02, 0.01, 0.03), "<", 0.005, CONTRADICTED),
    ],
)
def test_verdict_cases(iv, direction, threshold, expected):
    v, reason = cs.verdict(iv, direction, threshold)
    assert v == expected
    assert reason.count(".") >= 1 and "\n" not in reason


def test_verdict_reason_quotes_three_significant_digits():
    v, reason = cs.verdict(_iv(0.0123456, 0.00456789, 0.0201234), ">")
    assert v == HOLDS
    assert "0.0123" in reason and "[0.00457, 0.0201]" in reason and "95%" in reason


def test_one_seed_would_flip_it():
    a = [0.80, 0.70, 0.72]
    b = [0.75, 0.74, 0.73]
    assert a[0] > b[0]  # seed 0 alone shows a > b
    lo, hi = _ci(st.ttest_ind(a, b, equal_var=False))
    assert lo < 0 < hi
    assert cs.verdict(cs.welch_difference(a, b), ">")[0] == INCONCLUSIVE
    v, reason = cs.verdict(cs.welch_difference(a[:1], b[:1]), ">")
    assert v == INCONCLUSIVE and "one seed per arm" in reason


def test_verdict_bad_direction():
    with pytest.raises(ValueError, match="direction"):
        cs.verdict(_iv(0.02, 0.01, 0.03), ">=")
    with pytest.raises(ValueError, match="direction"):
        cs.exact_verdict(1.0, "=")


def test_exact_verdict():
    iv, (v, reason) = cs.exact_verdict(1.5, "<", 2.0)
    assert v == HOLDS and (iv.low, iv.estimate, iv.high) == (1.5, 1.5, 1.5) and iv.method == "exact"
    assert cs.exact_verdict(1.5, ">", 2.0)[1][0] == CONTRADICTED
    assert cs.exact_verdict(2.0, ">", 2.0)[1][0] == CONTRADICTED  # equality fails a strict claim
    assert cs.exact_verdict(2.0, "<", 2.0)[1][0] == CONTRADICTED
    assert cs.exact_verdict(2.5, ">", 2.0)[1][0] == HOLDS


# --------------------------------------------------------------------------------------- bad input


def test_nan_names_the_arm_and_index():
    with pytest.raises(ValueError, match=r"arm b.*index 2"):
        cs.welch_difference([1.0, 2.0], [1.0, 2.0, float("nan")])
    with pytest.raises(ValueError, match=r"arm a.*index 0"):
        cs.paired_difference([float("inf"), 1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"arm b seed 1.*index 3"):
        cs.bootstrap_difference([np.ones(5)] * 2, [np.ones(5), np.array([1, 0, 1, np.nan, 0])])
    with pytest.raises(ValueError, match=r"\by\b.*index 1"):
        cs.slope([1, 2, 3], [1, float("nan"), 3])


@pytest.mark.parametrize("level", [0.0, 1.0, -0.5, 1.5, float("nan")])
def test_bad_level(level):
    with pytest.raises(ValueError, match="level"):
        cs.welch_difference([1, 2], [3, 4], level=level)


def test_as_dict_is_json_ready():
    d = cs.welch_difference([0.8], [0.7]).as_dict()
    assert d["low"] is None and d["high"] is None and d["n"] == [1, 1]
    json.dumps(d, allow_nan=False)
    d = Interval(float("nan"), 0.1, float("inf"), 0.95, "welch-t", (2, 2), float("nan")).as_dict()
    assert d["estimate"] is None and d["high"] is None and d["df"] is None and d["low"] == 0.1
    json.dumps(cs.welch_difference([1, 2, 3], [2, 4, 6, 8]).as_dict(), allow_nan=False)
