"""Theorem C.2's guarantee: eps(alpha) against independent computations (numerical Renyi divergences), the
Monte-Carlo entropy estimator on a toy classifier whose output distribution is known in closed form, and the
curve against the digitized thesis figure's shape (the bound the figure's numbers imply)."""
import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from toeplitznet.robust import NoisyInput
from toeplitznet.robust.guarantee import class_counts, curve, entropy_stats, epsilon, guaranteed_accuracy

from toy import Linear2, entropy2, p_class1


def _renyi_numeric(p, q, lam, lo=-60, hi=60):
    if lam == 1:
        f = lambda z: p(z) * math.log(p(z) / q(z)) if p(z) > 0 else 0.0
    else:
        f = lambda z: q(z) * (p(z) / q(z)) ** lam
    v = integrate.quad(f, lo, hi, limit=400, points=[0.0, 0.5, 1.0])[0]
    return v if lam == 1 else math.log(v) / (lam - 1)


@pytest.mark.parametrize("lam", [1.0, 2.0, 5.0])
def test_gaussian_epsilon_is_the_renyi_divergence_of_a_shift(lam):
    sd, alpha = 0.7, 0.9
    num = _renyi_numeric(stats.norm(alpha, sd).pdf, stats.norm(0, sd).pdf, lam, lo=-8, hi=9)
    assert epsilon("gaussian", alpha, sd, renyi_order=lam) == pytest.approx(num, rel=1e-5)


@pytest.mark.parametrize("lam", [1.0, 1.5, 3.0])
def test_laplace_renyi_form_matches_numerical_integration_and_the_max_divergence_dominates(lam):
    sd, alpha = 0.6, 0.5
    b = sd / math.sqrt(2)
    num = _renyi_numeric(stats.laplace(alpha, b).pdf, stats.laplace(0, b).pdf, lam, lo=-20, hi=20)
    got = epsilon("laplace", alpha, sd, renyi_order=lam, laplace_form="renyi")
    assert got == pytest.approx(num, rel=1e-5)
    ef = epsilon("laplace", alpha, sd, laplace_form="exponential_family")
    assert ef == pytest.approx(alpha * math.sqrt(2) / sd) and got <= ef


def test_laplace_worst_case_is_all_on_one_coordinate():
    # the order-lambda divergence is additive over coordinates and convex in each shift: splitting alpha lowers it
    sd, alpha, lam = 0.5, 0.8, 2.0
    one = epsilon("laplace", alpha, sd, renyi_order=lam, laplace_form="renyi")
    split = 2 * epsilon("laplace", alpha / 2, sd, renyi_order=lam, laplace_form="renyi")
    assert split < one


def test_bad_inputs():
    with pytest.raises(ValueError, match="Rényi order"):
        epsilon("gaussian", 0.1, 0.5, renyi_order=0.5)
    with pytest.raises(ValueError, match="laplace_form"):
        epsilon("laplace", 0.1, 0.5, laplace_form="x")
    with pytest.raises(ValueError, match="gaussian and laplace"):
        epsilon("uniform", 0.1, 0.5)


@pytest.mark.parametrize("dist", ["gaussian", "laplace"])
def test_estimator_on_a_toy_with_a_closed_form_output_distribution(dist):
    torch.manual_seed(0)
    w, c, sd = [1.5, 0.0, 0.0], -0.2, 0.4
    model = NoisyInput(Linear2(w, c), dist, sd)
    x = torch.tensor([[0.0, 0.3, 0.1], [0.1, 0.0, 0.0], [0.3, 0.5, 0.9], [0.6, 0.2, 0.2]], dtype=torch.float64)
    y = torch.tensor([0, 1, 1, 1])
    draws = 40_000
    counts = class_counts(model, x, draws, batch_size=5000)
    assert counts.sum(1).tolist() == [draws] * 4
    st = entropy_stats(counts, y)
    p1 = np.array([p_class1(xi, w, c, dist, sd) for xi in x])
    p_y = np.where(y.numpy() == 1, p1, 1 - p1)
    se = np.sqrt(p_y * (1 - p_y) / draws)
    assert np.all(np.abs(np.array(st["p_y"]) - p_y) < 4 * se + 1e-12)
    h = np.array([entropy2(p) for p in p1])
    assert np.allclose(st["entropy"], h, atol=0.01)
    assert st["mean_exp_neg_entropy"] == pytest.approx(np.exp(-h).mean(), abs=0.01)
    assert st["accuracy"] == pytest.approx(p_y.mean(), abs=0.01)
    # the guarantee from the estimated terms vs from the exact ones
    eps = epsilon(dist, 0.1, sd)
    exact = p_y.mean() - 1 + math.exp(-eps) * np.exp(-h).mean()
    assert guaranteed_accuracy(st["accuracy"], st["mean_exp_neg_entropy"], eps) == pytest.approx(exact, abs=0.02)


def test_curve_reproduces_the_thesis_figure_c2_shape():
    # digitized Figure C.2, sd 0.01: the guarantee at alpha 0.0089 is 0.62174 and reaches 0 near 0.025 with a
    # natural accuracy of ~0.946 and E[exp(-H)] ~ 1 (nearly deterministic at small noise), lambda = 1
    g = curve(0.946, 1.0, "gaussian", 0.01, [0.0, 0.0089, 0.0251, 1.0])
    assert g[0] == pytest.approx(0.946) and g[1] == pytest.approx(0.6217, abs=0.01)
    assert g[2] == pytest.approx(0.0, abs=0.01) and g[3] == 0.0
    # Figure C.3, sd 0.01: 0.35672 at alpha 0.0064 (eps = alpha sqrt(2) / sd)
    assert curve(0.948, 1.0, "laplace", 0.01, [0.0064])[0] == pytest.approx(0.3567, abs=0.01)
    assert curve(0.5, 0.9, "gaussian", 0.1, [10.0], clip=False)[0] < 0
