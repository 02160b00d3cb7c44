"""Figure 5.4: the four models of the two panels, the Jacobian-norm evaluation spec, and the quantiles of the
series against numpy's."""
import numpy as np
import pytest

from robust_helpers import SMOKE
from toeplitznet.items.ch5_robust import fig_5_4
from toeplitznet.plan import build_plan


def test_panels_are_the_thesis_models():
    assert fig_5_4.PANELS == {"a": ("baseline", "lipreg"), "b": ("at", "at_lipreg")}
    plan = build_plan(SMOKE)
    for rid, ev in fig_5_4._evals(SMOKE).items():
        (eid, spec), = ev.items()
        assert spec["kind"] == "jacobian_norm" and spec["norm"] == "spectral" and (rid, eid) in plan.evals


def test_quantiles_match_numpy():
    v = list(np.random.default_rng(0).lognormal(size=501))
    q = fig_5_4._quantiles(v)
    for key, p in (("p05", 5), ("p25", 25), ("median", 50), ("p75", 75), ("p95", 95)):
        assert q[key] == pytest.approx(np.percentile(v, p), rel=1e-9), key
    assert q["n"] == 501 and q["max"] == max(v)
