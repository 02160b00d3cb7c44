"""Cohen et al.'s certificate against hand computations: the Clopper-Pearson bound by bisection on the binomial
tail, and CERTIFY on a linear classifier with Gaussian noise, whose smoothed classifier is known in closed form
(g(x) = sign(w.x + c), certified radius -> the distance to the hyperplane)."""
import math

import pytest
import torch
from scipy import stats

from toeplitznet.robust import NoisyInput
from toeplitznet.robust.smoothing import certified_accuracy, certify, clopper_pearson_lower

from toy import Linear2


def _cp_bisect(k, n, alpha):
    lo, hi = 0.0, 1.0  # the p with P(Bin(n, p) >= k) = alpha
    for _ in range(200):
        mid = (lo + hi) / 2
        if stats.binom.sf(k - 1, n, mid) < alpha:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


@pytest.mark.parametrize("k, n", [(1, 10), (99, 100), (950, 1000), (5000, 10000)])
def test_clopper_pearson_by_bisection(k, n):
    assert clopper_pearson_lower(k, n, 0.001) == pytest.approx(_cp_bisect(k, n, 0.001), abs=1e-9)
    assert clopper_pearson_lower(0, n, 0.001) == 0.0
    with pytest.raises(ValueError):
        clopper_pearson_lower(n + 1, n, 0.01)


def test_certify_a_linear_classifier():
    torch.manual_seed(0)
    w, c, sd = [0.6, 0.8], -0.5, 0.25           # |w| = 1: the distance to the hyperplane is |w.x + c|
    model = NoisyInput(Linear2(w, c), "gaussian", sd)
    x = torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.4, 0.4], [0.9, 0.9]], dtype=torch.float64)
    y = [1, 0, 0, 1]
    n, alpha = 20_000, 0.001
    preds, radii = certify(model, x, sd=sd, n0=100, n=n, alpha=alpha, batch_size=5000)
    dist = [abs(float(xi @ torch.tensor(w, dtype=torch.float64)) + c) for xi in x]
    for p, r, d, xi in zip(preds, radii, dist, x):
        if p < 0:  # abstains only where p_A is close to 1/2
            assert d / sd < 0.05
            continue
        assert p == int(float(xi @ torch.tensor(w, dtype=torch.float64)) + c > 0)
        # hand computation: p_A = Phi(d / sd), its Clopper-Pearson bound with the expected count, sd Phi^-1
        pa = stats.norm.cdf(d / sd)
        hand = sd * stats.norm.ppf(_cp_bisect(int(round(pa * n)), n, alpha))
        assert r == pytest.approx(hand, abs=0.03) and r <= d + 0.01
    acc = certified_accuracy(preds, radii, y, [0.0, 0.05, 10.0])
    assert acc[10.0] == 0.0 and acc[0.0] >= acc[0.05]
    assert acc[0.0] == sum(p == t for p, t in zip(preds, y)) / 4
