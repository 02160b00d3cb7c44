"""Expectation over Transformation: eot_loss and the EoT module against hand computations, and PGD's
eot_samples on deterministic and randomised models."""
import math

import pytest
import torch
import torch.nn.functional as F

from attack_models import NoisyModel, load_trained
from toeplitznet.attacks import EoT, eot_loss, pgd


@pytest.fixture
def trained():
    return load_trained()


def test_eot_loss_on_a_deterministic_model_is_the_plain_loss(trained):
    model, x, y = trained
    torch.testing.assert_close(eot_loss(model, x, y, 4), F.cross_entropy(model(x), y, reduction="none"))
    mse = lambda z, t: (z ** 2).mean(1)                                # noqa: E731  any per-example loss
    torch.testing.assert_close(eot_loss(model, x, y, 3, mse), mse(model(x), y))
    with pytest.raises(ValueError):
        eot_loss(model, x, y, 0)


def test_eot_loss_on_a_noisy_model_averages_the_draws(trained):
    base, x, y = trained
    noisy = NoisyModel(base, sigma=0.3)
    torch.manual_seed(11)
    got = eot_loss(noisy, x, y, 5)
    torch.manual_seed(11)
    draws = [F.cross_entropy(base(x + 0.3 * torch.randn_like(x)), y, reduction="none") for _ in range(5)]
    torch.testing.assert_close(got, sum(draws) / 5)
    assert not torch.allclose(draws[0], draws[1])                     # the draws do differ
    # differentiable in x: its gradient is the mean of the per-draw gradients
    xg = x.clone().requires_grad_(True)
    torch.manual_seed(3)
    (g,) = torch.autograd.grad(eot_loss(noisy, xg, y, 3).sum(), xg)
    torch.manual_seed(3)
    hand = torch.zeros_like(x)
    for _ in range(3):
        xh = x.clone().requires_grad_(True)
        hand += torch.autograd.grad(F.cross_entropy(base(xh + 0.3 * torch.randn_like(x)), y, reduction="sum"),
                                    xh)[0]
    torch.testing.assert_close(g, hand / 3)


def test_eot_module_is_log_of_mean_probabilities(trained):
    base, x, y = trained
    with torch.no_grad():
        torch.testing.assert_close(EoT(base, 3)(x), torch.log_softmax(base(x), 1))
        noisy = NoisyModel(base, sigma=0.3)
        torch.manual_seed(5)
        got = EoT(noisy, 4)(x)
        torch.manual_seed(5)
        probs = [torch.softmax(base(x + 0.3 * torch.randn_like(x)), 1) for _ in range(4)]
        torch.testing.assert_close(got, torch.log(sum(probs) / 4))
    assert torch.exp(got).sum(1).sub(1).abs().max() < 1e-5
    assert math.isclose(float(torch.logsumexp(got[0], 0)), 0.0, abs_tol=1e-5)


def test_pgd_eot_on_a_deterministic_model_matches_plain_pgd(trained):
    model, x, y = trained
    kw = dict(eps=0.12, step=0.03, steps=8, record=(0, 4, 8), seed=2)
    one, three = pgd(model, x, y, **kw), pgd(model, x, y, eot_samples=3, **kw)
    assert torch.equal(one.robust, three.robust)
    for k in kw["record"]:
        assert torch.equal(one.robust_at[k], three.robust_at[k])
    torch.testing.assert_close(one.x_adv, three.x_adv)


def test_pgd_eot_on_a_noisy_model_is_reproducible_and_stronger_than_no_eot(trained):
    base, x, y = trained
    noisy = NoisyModel(base, sigma=0.25)
    kw = dict(eps=0.12, step=0.03, steps=10, seed=0)
    torch.manual_seed(0)
    a = pgd(noisy, x, y, eot_samples=8, **kw)
    torch.manual_seed(0)
    b = pgd(noisy, x, y, eot_samples=8, **kw)
    assert torch.equal(a.x_adv, b.x_adv) and torch.equal(a.robust, b.robust)
    # evaluated on the EoT prediction (mean softmax over 32 draws), EoT-PGD's points are worse for the model
    with torch.no_grad():
        torch.manual_seed(1)
        acc_eot = (EoT(noisy, 32)(a.x_adv).argmax(1) == y).float().mean()
        torch.manual_seed(0)
        plain = pgd(noisy, x, y, eot_samples=1, **kw)
        torch.manual_seed(1)
        acc_plain = (EoT(noisy, 32)(plain.x_adv).argmax(1) == y).float().mean()
    assert acc_eot <= acc_plain
