"""EAD-l1 on a linear model (sound: an example whose minimal l1 distance to the boundary exceeds the bound is
never broken; strong: well inside the bound it is broken) and the EoT wrappers' gradients = the mean of the
per-draw gradients (log-mean-softmax EoT through its probabilities; the author's mean of logits)."""
import pytest
import torch
from torch import nn

from toeplitznet.attacks import EoT, ead_l1
from toeplitznet.robust import NoisyInput
from toeplitznet.runs.randomized_eval import eot_model, mean_logits, predict


def _linear():
    torch.manual_seed(0)
    lin = nn.Linear(6, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[0.0] * 6, [1.0, -0.5, 0.25, 0.5, -1.0, 0.2]]))
        lin.bias.zero_()
    return lin


def test_ead_bounded_is_sound_and_breaks_easy_points():
    lin = _linear()
    g = torch.Generator().manual_seed(1)
    x = 0.3 + 0.4 * torch.rand(24, 6, generator=g)
    margin = lin(x)[:, 1] - lin(x)[:, 0]
    y = (margin > 0).long()
    wmax = 1.0  # max |w_1 - w_0|: the minimal l1 perturbation that crosses the hyperplane is |margin| / wmax
    dist = margin.abs() / wmax
    bound = float(dist.median())
    res = ead_l1(lin, x, y, bounds=[bound, float("inf")], binary_search_steps=5, steps=100, lr=0.01,
                 initial_const=1.0, regularization=0.01)
    r = res[bound]
    assert torch.all(r.robust[dist > bound * 1.001])                      # cannot be broken (sound)
    assert (~r.robust[dist < bound * 0.3]).float().mean() > 0.8           # and is broken where it is easy
    assert torch.all((r.x_adv - x).abs().sum(1) <= bound + 1e-4)
    assert res[float("inf")].accuracy <= r.accuracy


def _noisy():
    torch.manual_seed(0)
    base = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    return base, NoisyInput(base, "gaussian", 0.3)


def test_eot_probabilities_gradient_is_the_mean_of_per_draw_gradients():
    base, noisy = _noisy()
    x = torch.rand(4, 5, dtype=torch.float64)
    xg = x.clone().requires_grad_(True)
    torch.manual_seed(7)
    (g,) = torch.autograd.grad(EoT(noisy, 6)(xg).exp()[:, 1].sum(), xg)
    torch.manual_seed(7)
    hand = torch.zeros_like(x)
    for _ in range(6):
        xh = x.clone().requires_grad_(True)
        noise = 0.3 * torch.randn_like(x)
        hand += torch.autograd.grad(base(xh + noise).softmax(1)[:, 1].sum(), xh)[0]
    torch.testing.assert_close(g, hand / 6)


def test_mean_logits_gradient_and_wrapper_choice():
    base, noisy = _noisy()
    x = torch.rand(4, 5, dtype=torch.float64)
    xg = x.clone().requires_grad_(True)
    torch.manual_seed(3)
    (g,) = torch.autograd.grad(mean_logits(noisy, 5)(xg)[:, 2].sum(), xg)
    torch.manual_seed(3)
    hand = sum(torch.autograd.grad(base(xh + 0.3 * torch.randn_like(x))[:, 2].sum(), xh)[0]
               for xh in [x.clone().requires_grad_(True) for _ in range(5)])
    torch.testing.assert_close(g, hand / 5)
    assert eot_model(base, 80) is base and isinstance(eot_model(noisy, 4), EoT)
    with pytest.raises(ValueError, match="eot_form"):
        eot_model(noisy, 4, "median")


def test_prediction_rules():
    base, noisy = _noisy()
    x = torch.rand(50, 5, dtype=torch.float64)
    torch.testing.assert_close(predict(base, x, "majority", 9), base(x).argmax(1))
    # with many draws the mean-softmax rule is the (deterministic) argmax of the expected softmax
    torch.manual_seed(0)
    a = predict(noisy, x, "mean_softmax", 4000)
    torch.manual_seed(1)
    b = predict(noisy, x, "mean_softmax", 4000)
    assert (a == b).float().mean() > 0.95
    with pytest.raises(ValueError, match="prediction rule"):
        predict(noisy, x, "vote")
