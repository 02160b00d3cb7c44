"""Appendix D's training attacks (toeplitznet.attacks.multinorm, runs.robust.attack_batch): MAT-Max keeps per
example the larger loss (a hand-made linear case with closed-form answers), MAT-Rand draws one norm per example
(statistics), RAT's attack goes through the noise draw (a hand-written PGD with the same draws), EoT on a
deterministic model is plain PGD, and the Section 5.5 spec still runs pgd_train."""
import math

import pytest
import torch
import torch.nn.functional as F

from toeplitznet.attacks import mixed_train_attack, pgd_train, train_pgd
from toeplitznet.attacks.multinorm import minimal_cw_l2
from toeplitznet.robust.noise import NoisyInput
from toeplitznet.runs import robust

D = 16
EPS_INF, EPS_2 = 0.1, 0.3
LINF = {"norm": "linf", "eps": EPS_INF, "step": 0.05, "steps": 4}
L2 = {"norm": "l2", "eps": EPS_2, "step": EPS_2, "steps": 6}


class Linear2(torch.nn.Module):
    """logits = [w.x, 0] with w = 1: the loss of class 0 is softplus(-sum x), decreasing in sum x."""

    def forward(self, x):
        s = (x.reshape(len(x), -1) * torch.ones_like(x.reshape(len(x), -1))).sum(1)  # a materialised gradient
        return torch.stack([s, torch.zeros_like(s)], 1)


def _cases():
    # example 0: every pixel at 0.5 (free): linf moves all 16 by 0.1 (sum -1.6), l2 moves sum by 0.3 * 4 = 1.2
    # example 1: one pixel at 0.5, the rest at 0 (clipped): linf moves the sum by 0.1, l2 by 0.3
    free = torch.full((D,), 0.5)
    sparse = torch.zeros(D)
    sparse[3] = 0.5
    return torch.stack([free, sparse]).reshape(2, 1, 4, 4).double(), torch.zeros(2, dtype=torch.long)


def _direct(x, y):
    """The two attacks run separately (pgd_train, no random start) and their per-example losses by hand."""
    m = Linear2().double()
    a_inf = pgd_train(m, x, y, norm="linf", eps=EPS_INF, step=LINF["step"], steps=LINF["steps"], random_start=False)
    a_2 = pgd_train(m, x, y, norm="l2", eps=EPS_2, step=L2["step"], steps=L2["steps"], random_start=False)
    loss = [[math.log1p(math.exp(-float(a[i].sum()))) for i in range(len(x))] for a in (a_inf, a_2)]
    return a_inf, a_2, loss


def test_mat_max_keeps_per_example_the_larger_loss():
    x, y = _cases()
    a_inf, a_2, loss = _direct(x, y)
    # closed forms where no pixel is clipped: linf moves every free pixel by 0.1, l2 the free image by 0.3/4 each
    assert torch.allclose(a_inf[0], x[0] - EPS_INF, atol=1e-9)
    assert torch.allclose(a_2[0], x[0] - EPS_2 / 4, atol=1e-9)
    assert float(a_inf[1].sum()) == pytest.approx(0.5 - EPS_INF)
    assert float(a_2[1].sum()) < 0.5 - EPS_INF                # l2 concentrates on the one free pixel
    xa, choice = mixed_train_attack(Linear2().double(), x, y, [LINF, L2], select="max", random_start=False)
    assert choice.tolist() == [0, 1]                        # linf wins on the free example, l2 on the sparse one
    assert [int(loss[1][i] > loss[0][i]) for i in range(2)] == [0, 1]
    assert torch.equal(xa[0], a_inf[0]) and torch.equal(xa[1], a_2[1])


def test_mat_max_per_batch_is_the_authors_variant():
    x, y = _cases()
    x = torch.cat([x[:1], x[1:].repeat(3, 1, 1, 1)])      # one free, three sparse examples
    y = torch.zeros(4, dtype=torch.long)
    _, per_example = mixed_train_attack(Linear2().double(), x, y, [LINF, L2], select="max", random_start=False)
    xb, per_batch = mixed_train_attack(Linear2().double(), x, y, [LINF, L2], select="max", granularity="batch",
                                       random_start=False)
    assert per_example.tolist() == [0, 1, 1, 1]
    a_inf, a_2, loss = _direct(x, y)
    winner = int(sum(loss[1]) > sum(loss[0]))               # the larger batch-mean loss
    assert per_batch.tolist() == [winner] * 4
    assert torch.equal(xb, (a_inf, a_2)[winner])


def test_mat_rand_draws_one_norm_per_example():
    torch.manual_seed(0)
    n = 4000
    x = torch.full((n, 1, 4, 4), 0.5, dtype=torch.double)
    y = torch.zeros(n, dtype=torch.long)
    xa, choice = mixed_train_attack(Linear2().double(), x, y, [LINF, L2], select="rand", random_start=False)
    frac = float(choice.double().mean())
    assert abs(frac - 0.5) < 4 * math.sqrt(0.25 / n)       # Bernoulli(1/2) per example, 4 sigma
    # independent of the example's position (not one draw per batch): both halves are mixed
    assert 0.4 < float(choice[: n // 2].double().mean()) < 0.6 and 0.4 < float(choice[n // 2:].double().mean()) < 0.6
    # each example carries the attack it drew: linf moves every pixel by 0.1 (l2 norm 0.4 > 0.3)
    l2 = (xa - x).reshape(n, -1).norm(dim=1)
    assert torch.equal(choice == 0, l2 > EPS_2 + 1e-6)
    torch.manual_seed(1)
    _, per_batch = mixed_train_attack(Linear2().double(), x[:64], y[:64], [LINF, L2], select="rand",
                                      granularity="batch", random_start=False)
    assert len(set(per_batch.tolist())) == 1


def test_selection_arguments_are_checked():
    x, y = _cases()
    with pytest.raises(ValueError, match="select"):
        mixed_train_attack(Linear2().double(), x, y, [LINF], select="min")
    with pytest.raises(ValueError, match="granularity"):
        mixed_train_attack(Linear2().double(), x, y, [LINF], granularity="epoch")


class Quadratic(torch.nn.Module):
    """logits = [sum z^2, 0]: its input gradient 2z depends on where the noise moved the input."""

    def forward(self, z):
        s = (z.reshape(len(z), -1) ** 2).sum(1)
        return torch.stack([s, torch.zeros_like(s)], 1)


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_rat_attack_goes_through_the_noise_draw(norm):
    x = torch.rand(5, 1, 3, 3, dtype=torch.double)
    y = torch.zeros(5, dtype=torch.long)
    eps, step, steps, sd = (0.1, 0.04, 3, 0.5) if norm == "linf" else (0.5, 0.2, 3, 0.5)
    noisy = NoisyInput(Quadratic().double(), "gaussian", sd)
    spec = {"norm": norm, "eps": eps, "step": step, "steps": steps, "random_start": False, "labels": "labels",
            "mode": "eval"}
    torch.manual_seed(7)
    got = robust.attack_batch(noisy, x, y, spec)
    # by hand: the same draws in the same order (one randn per forward pass), gradient of CE at x_t + n_t
    torch.manual_seed(7)
    xa = x.clone()
    for _ in range(steps):
        n = torch.randn(x.shape, dtype=x.dtype) * sd
        z = xa + n
        s = (z.reshape(5, -1) ** 2).sum(1)
        # CE of class 0 with logits [s, 0] = softplus(-s); d/dz = -sigmoid(-s) * 2z
        g = (-torch.sigmoid(-s))[:, None, None, None] * 2 * z
        if norm == "linf":
            xa = torch.min(torch.max(xa + step * g.sign(), x - eps), x + eps).clamp(0, 1)
        else:
            xa = xa + step * g / g.reshape(5, -1).norm(dim=1)[:, None, None, None]
            d = xa - x
            dn = d.reshape(5, -1).norm(dim=1)[:, None, None, None]
            xa = (x + d * torch.clamp(eps / dn, max=1.0)).clamp(0, 1)
    assert torch.allclose(got, xa, atol=1e-9)
    # the noise matters: attacking the noise-free network gives another batch
    plain = robust.attack_batch(Quadratic().double(), x, y, spec)
    assert not torch.allclose(plain, got, atol=1e-4)


def test_eot_on_a_deterministic_model_is_plain_pgd_and_k1_is_pgd_train():
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
    x, y = torch.rand(6, 3, 2, 2, dtype=torch.double), torch.randint(0, 3, (6,))
    for norm in ("linf", "l2"):
        a = pgd_train(m, x, y, eps=0.2, step=0.05, steps=4, norm=norm, random_start=True, generator=3)
        b = train_pgd(m, x, y, eps=0.2, step=0.05, steps=4, norm=norm, random_start=True, eot_samples=1, generator=3)
        c = train_pgd(m, x, y, eps=0.2, step=0.05, steps=4, norm=norm, random_start=True, eot_samples=3, generator=3)
        assert torch.equal(a, b) and torch.allclose(a, c, atol=1e-10)


def test_section_5_5_spec_still_runs_pgd_train_and_bad_kinds_fail():
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3))
    x, y = torch.rand(8, 3, 2, 2), torch.randint(0, 3, (8,))
    spec = {"norm": "linf", "eps": 0.05, "step": 0.02, "steps": 3, "random_start": True, "labels": "labels",
            "mode": "eval"}
    torch.manual_seed(4)
    a = robust.attack_batch(m, x, y, spec)
    torch.manual_seed(4)
    b = pgd_train(m.eval(), x, y, eps=0.05, step=0.02, steps=3, norm="linf", random_start=True)
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="robust.attack.kind"):
        robust.attack_batch(m, x, y, {**spec, "kind": "trades"})
    mixed = {"kind": "mixed", "select": "max", "granularity": "example", "attacks": [
        {"norm": "linf", "eps": 0.05, "step": 0.02, "steps": 2}, {"norm": "l2", "eps": 0.3, "step": 0.1, "steps": 2}],
        "random_start": True, "labels": "labels", "mode": "eval", "eot_samples": 1}
    xa = robust.attack_batch(m.train(), x, y, mixed)
    assert m.training and xa.shape == x.shape and xa.min() >= 0 and xa.max() <= 1


def test_minimal_cw_perturbations_are_adversarial():
    pytest.importorskip("foolbox")
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3)).eval()
    x, y = torch.rand(10, 3, 2, 2), torch.randint(0, 3, (10,))
    delta, found = minimal_cw_l2(m, x, y, binary_search_steps=4, steps=30)
    with torch.no_grad():
        pred = m(x + delta).argmax(1)
    assert found.any()
    assert torch.equal(pred[found] != y[found], torch.ones(int(found.sum()), dtype=torch.bool))
    assert float(delta[~found].abs().sum()) == 0.0
    assert (x + delta).min() >= -1e-6 and (x + delta).max() <= 1 + 1e-6
