"""PGD (toeplitznet.attacks.pgd / PGD / pgd_train): the ball, the accounting of robust / robust_at / x_adv,
strength against torchattacks, determinism, model state, and the batched evaluation helper."""
import copy

import pytest
import torch
import torch.nn.functional as F

from attack_models import N_CLASSES, check_state, load_trained, mixed_state
from toeplitznet.attacks import PGD, AttackResult, dlr_loss, evaluate_attack, pgd, pgd_train

LINF_EPS = 0.12     # the tiny model keeps ~75 % accuracy under 10-step PGD here: an informative regime
L2_EPS = 0.8


@pytest.fixture
def trained():
    return load_trained()


def _norms(d):
    f = d.flatten(1)
    return f.abs().amax(1), f.norm(dim=1)


@pytest.mark.parametrize("norm,eps", [("linf", LINF_EPS), ("l2", L2_EPS), ("linf", 0.6), ("l2", 4.0)])
def test_perturbations_stay_in_the_ball_and_the_box(trained, norm, eps):
    model, x, y = trained
    res = pgd(model, x, y, norm=norm, eps=eps, step=eps / 3, steps=8, restarts=2)
    linf, l2 = _norms(res.x_adv - x)
    if norm == "linf":
        assert linf.max() <= eps + 1e-6
    else:
        assert l2.max() <= eps + 1e-5
    assert res.x_adv.min() >= 0 and res.x_adv.max() <= 1
    assert res.robust.dtype == torch.bool and res.robust.shape == y.shape
    xt = pgd_train(model, x, y, norm=norm, eps=eps, step=eps / 3, steps=8, generator=0)
    linf, l2 = _norms(xt - x)
    assert (linf.max() <= eps + 1e-6) if norm == "linf" else (l2.max() <= eps + 1e-5)
    assert xt.min() >= 0 and xt.max() <= 1


def test_robust_at_is_non_increasing_and_ends_at_robust(trained):
    model, x, y = trained
    ks = (0, 1, 5, 8, 10, 20)
    res = pgd(model, x, y, eps=LINF_EPS, step=LINF_EPS / 5, steps=20, restarts=2, record=ks)
    assert sorted(res.robust_at) == list(ks)
    for a, b in zip(ks, ks[1:]):
        assert (res.robust_at[b] <= res.robust_at[a]).all()        # per example, not only on average
    assert torch.equal(res.robust_at[20], res.robust)
    assert res.accuracy_at[0] > res.accuracy_at[8] > res.accuracy_at[20]   # informative at k = 8 too
    fb = res.extra["first_broken"]
    for k in ks:
        assert torch.equal(res.robust_at[k], fb > k)
    # the first k iterates of each restart are those of a k-step attack: robust_at[k] is its result
    for k in (8, 10):
        short = pgd(model, x, y, eps=LINF_EPS, step=LINF_EPS / 5, steps=k, restarts=2)
        assert torch.equal(short.robust, res.robust_at[k])
    with pytest.raises(ValueError):
        pgd(model, x, y, eps=LINF_EPS, step=0.01, steps=5, record=(6,))


@pytest.mark.parametrize("norm,eps", [("linf", LINF_EPS), ("l2", L2_EPS)])
def test_restarts_never_increase_accuracy(trained, norm, eps):
    model, x, y = trained
    ks = (0, 3, 10)
    one = pgd(model, x, y, norm=norm, eps=eps, step=eps / 4, steps=10, restarts=1, record=ks, seed=3)
    three = pgd(model, x, y, norm=norm, eps=eps, step=eps / 4, steps=10, restarts=3, record=ks, seed=3)
    assert (three.robust <= one.robust).all()
    for k in ks:
        assert (three.robust_at[k] <= one.robust_at[k]).all()
    assert three.accuracy <= one.accuracy


@pytest.mark.parametrize("norm,eps", [("linf", 0.3), ("l2", 3.0)])
def test_large_eps_breaks_the_undefended_model(trained, norm, eps):
    model, x, y = trained
    assert (model(x).argmax(1) == y).float().mean() > 0.95
    res = pgd(model, x, y, norm=norm, eps=eps, step=eps / 4, steps=20)
    assert res.accuracy <= 0.02
    broken = ~res.robust
    with torch.no_grad():
        assert (model(res.x_adv[broken]).argmax(1) != y[broken]).all()


@pytest.mark.parametrize("norm,eps", [("linf", LINF_EPS), ("l2", L2_EPS)])
def test_at_least_as_strong_as_torchattacks(trained, norm, eps):
    torchattacks = pytest.importorskip("torchattacks")
    model, x, y = trained
    step, steps = eps / 4, 10
    torch.manual_seed(0)
    if norm == "linf":
        ta = torchattacks.PGD(model, eps=eps, alpha=step, steps=steps, random_start=True)
    else:
        ta = torchattacks.PGDL2(model, eps=eps, alpha=step, steps=steps, random_start=True)
    adv = ta(x, y)
    with torch.no_grad():
        theirs = (model(adv).argmax(1) == y).float().mean().item()
    ours = pgd(model, x, y, norm=norm, eps=eps, step=step, steps=steps, restarts=1, random_start=True).accuracy
    assert 0.05 < theirs < 0.95                                        # an informative regime
    assert ours <= theirs + 1 / len(y)


def test_x_adv_is_the_highest_loss_or_a_misclassified_point(trained):
    model, x, y = trained
    res = pgd(model, x, y, eps=LINF_EPS, step=LINF_EPS / 4, steps=10, restarts=2)
    with torch.no_grad():
        logits = model(res.x_adv)
    loss = F.cross_entropy(logits, y, reduction="none")
    correct = logits.argmax(1) == y
    # robust examples: x_adv is correctly classified and has the highest loss seen over all iterates
    assert correct[res.robust].all()
    torch.testing.assert_close(loss[res.robust], res.extra["max_loss"][res.robust], rtol=1e-5, atol=1e-6)
    # broken examples: x_adv itself is misclassified
    assert (~correct[~res.robust]).all()
    torch.testing.assert_close(loss, res.extra["loss"], rtol=1e-5, atol=1e-6)
    # the literal thesis protocol (classified at the highest-loss point) is never stronger
    assert (res.extra["robust_at_max_loss"] >= res.robust).all()


def test_zero_steps_without_random_start_is_the_clean_evaluation(trained):
    model, x, y = trained
    y = y.clone()
    y[:7] = (y[:7] + 1) % N_CLASSES                                    # 7 "misclassified" examples
    res = pgd(model, x, y, eps=LINF_EPS, step=0.01, steps=0, random_start=False, record=(0,))
    clean = model(x).argmax(1) == y
    assert torch.equal(res.robust, clean) and torch.equal(res.robust_at[0], clean)
    assert torch.equal(res.x_adv, x)
    # a clean misclassification is broken whatever the start
    res = pgd(model, x, y, eps=LINF_EPS, step=0.01, steps=3)
    assert not res.robust[:7].any()


def test_deterministic_given_seed_and_object_form(trained):
    model, x, y = trained
    kw = dict(norm="l2", eps=L2_EPS, step=L2_EPS / 4, steps=5, restarts=2)
    a, b = pgd(model, x, y, seed=5, **kw), pgd(model, x, y, seed=5, **kw)
    assert torch.equal(a.x_adv, b.x_adv) and torch.equal(a.robust, b.robust)
    c = pgd(model, x, y, seed=6, **kw)
    assert not torch.equal(a.x_adv, c.x_adv)
    g = torch.Generator().manual_seed(5)
    assert torch.equal(pgd(model, x, y, seed=g, **kw).x_adv, a.x_adv)
    obj = PGD("l2", L2_EPS, L2_EPS / 4, 5, 2, True, seed=5)(model, x, y)
    assert isinstance(obj, AttackResult) and torch.equal(obj.x_adv, a.x_adv)


def test_mode_restored_grads_untouched_and_attacked_in_eval_mode(trained):
    base, x, y = trained
    model = copy.deepcopy(base)
    state = mixed_state(model)
    res = pgd(model, x, y, eps=LINF_EPS, step=0.02, steps=5, eot_samples=2)
    check_state(model, state)
    ref = pgd(base, x, y, eps=LINF_EPS, step=0.02, steps=5, eot_samples=2)   # model already in eval mode
    assert torch.equal(res.x_adv, ref.x_adv)        # dropout/BN in train mode would change the trajectory


def test_pgd_train_uses_callers_mode_and_leaves_grads(trained):
    base, x, y = trained
    model = copy.deepcopy(base)
    state = mixed_state(model)
    torch.manual_seed(0)
    xa = pgd_train(model, x, y, eps=8 / 255 * 10, step=8 / 255 * 2, steps=10, generator=1)
    check_state(model, state)                     # still train mode (bn1 eval), grads untouched
    model.eval()
    with torch.no_grad():
        clean, adv = F.cross_entropy(model(x), y), F.cross_entropy(model(xa), y)
    assert adv > clean + 0.5
    m2 = copy.deepcopy(base).eval()
    a = pgd_train(m2, x, y, eps=0.1, step=0.02, steps=5, generator=torch.Generator().manual_seed(4))
    b = pgd_train(m2, x, y, eps=0.1, step=0.02, steps=5, generator=4)
    assert torch.equal(a, b)


def test_dlr_loss_and_pgd_with_dlr(trained):
    z = torch.tensor([[3.0, 1.0, 0.0, -1.0], [0.0, 2.0, 1.0, -1.0]])
    y = torch.tensor([0, 0])
    # z_y - max_other = 2 and -2; z_(1) - z_(3) = 3 - 0 and 2 - 0
    torch.testing.assert_close(dlr_loss(z, y), torch.tensor([-2 / 3, 1.0]))
    model, x, yy = trained
    res = pgd(model, x, yy, eps=0.3, step=0.075, steps=20, loss="dlr")
    assert res.accuracy <= 0.05


def test_evaluate_attack_sums_batches(trained):
    model, x, y = trained
    attack = PGD("linf", LINF_EPS, LINF_EPS / 4, 10, 1, False, record=(0, 5, 10))
    whole = attack(model, x, y)
    out = evaluate_attack(model, (x, y), attack, device="cpu", batch_size=32)
    assert out["n"] == len(y) and out["robust"] == int(whole.robust.sum())
    assert out["accuracy"] == pytest.approx(whole.accuracy)
    assert out["robust_at"] == pytest.approx(whole.accuracy_at)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=50)
    assert evaluate_attack(model, loader, attack, batch_size=20)["robust"] == out["robust"]

    def keyed(m, xb, yb):
        return {0.5: AttackResult(xb, torch.ones(len(yb), dtype=torch.bool)),
                1.0: AttackResult(xb, torch.arange(len(yb)) % 2 == 0)}

    out = evaluate_attack(model, (x, y), keyed, batch_size=30)       # batches of 30, 30, 30, 10
    assert out["robust"] == {0.5: 100, 1.0: 15 + 15 + 15 + 5}
    assert out["accuracy"][1.0] == pytest.approx(0.5)


@pytest.mark.parametrize("norm,eps", [("linf", LINF_EPS), ("l2", L2_EPS)])
def test_early_stop_keeps_every_robustness_flag(trained, norm, eps):
    """Dropping broken examples from the batch changes nothing an accuracy is computed from (float64, so
    that batch-size-dependent rounding cannot flip a sign), and x_adv of a broken example is misclassified."""
    model, x, y = trained
    model, x = copy.deepcopy(model).double(), x.double()
    kw = dict(norm=norm, eps=eps, step=eps / 4, steps=6, restarts=2, record=[0, 1, 3, 6], seed=3)
    full, fast = pgd(model, x, y, **kw), pgd(model, x, y, early_stop=True, **kw)
    assert 0 < int(full.robust.sum()) < len(y)          # some examples break, some do not: both paths used
    assert torch.equal(full.robust, fast.robust)
    assert torch.equal(full.extra["first_broken"], fast.extra["first_broken"])
    for k in kw["record"]:
        assert torch.equal(full.robust_at[k], fast.robust_at[k])
    robust = fast.robust
    # unbroken: attacked to the end along the same path (up to batch-size-dependent float64 rounding)
    assert torch.allclose(fast.x_adv[robust], full.x_adv[robust], rtol=0, atol=1e-9)
    with torch.no_grad():
        assert not (model(fast.x_adv[~robust]).argmax(1) == y[~robust]).any()
    assert fast.extra["robust_at_max_loss"] is None and full.extra["robust_at_max_loss"] is not None
    assert PGD(norm, eps, eps / 4, 6, 2, early_stop=True, seed=3, record=(0, 1, 3, 6))(model, x, y).robust.equal(robust)
