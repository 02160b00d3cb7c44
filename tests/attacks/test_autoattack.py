"""AutoAttack from torchattacks components: the reference settings reach the attack objects, the per-point
worst case is at least as strong as PGD, outputs are verified points of the ball, and state is restored."""
import copy

import pytest
import torch

from attack_models import N_CLASSES, NoisyModel, check_state, load_trained, mixed_state
from toeplitznet.attacks import autoattack, autoattack_components, pgd

torchattacks = pytest.importorskip("torchattacks")
FAST = dict(steps=20, square_queries=100)


@pytest.fixture
def trained():
    return load_trained()


def test_reference_settings_reach_the_attacks(trained):
    model, _, _ = trained
    comps = dict(autoattack_components(model, norm="linf", eps=8 / 255, n_classes=10, seed=7))
    assert list(comps) == ["apgd-ce", "apgd-t", "fab-t", "square"]
    apgd, apgdt, fab, square = comps.values()
    assert isinstance(apgd, torchattacks.APGD) and isinstance(apgdt, torchattacks.APGDT)
    assert isinstance(fab, torchattacks.FAB) and isinstance(square, torchattacks.Square)
    for a in (apgd, apgdt, fab, square):
        assert a.eps == 8 / 255 and a.norm == "Linf" and a.seed == 7 and a.n_restarts == 1
    for a in (apgd, apgdt, fab):
        assert a.steps == 100                       # torchattacks' AutoAttack leaves its default of 10
    assert apgd.loss == "ce" and apgd.eot_iter == 1 and apgd.thr_decr == 0.75
    assert apgdt.n_target_classes == 9 and apgdt.eot_iter == 1 and apgdt.thr_decr == 0.75
    assert fab.n_target_classes == 9 and fab.multi_targeted
    assert (fab.alpha_max, fab.eta, fab.beta) == (0.1, 1.05, 0.9)
    assert square.n_queries == 5000 and square.p_init == 0.8 and square.loss == "margin"
    assert square.rescale_schedule is False
    # targets are capped at n_classes - 1, and never n_classes - 1 = 99 on CIFAR-100
    many = dict(autoattack_components(model, eps=0.1, n_classes=100))
    assert many["apgd-t"].n_target_classes == 9 and many["fab-t"].n_target_classes == 9
    few = dict(autoattack_components(model, eps=0.1, n_classes=5))
    assert few["apgd-t"].n_target_classes == 4 and few["fab-t"].n_target_classes == 4
    rand = autoattack_components(model, norm="l2", eps=0.5, version="rand", n_classes=10)
    assert [n for n, _ in rand] == ["apgd-ce", "apgd-dlr"]
    for (_, a), loss in zip(rand, ("ce", "dlr")):
        assert a.loss == loss and a.eot_iter == 20 and a.steps == 100 and a.norm == "L2" and a.n_restarts == 1


def test_custom_settings_reach_the_attacks(trained):
    model, _, _ = trained
    comps = dict(autoattack_components(model, norm="l2", eps=0.5, n_classes=10, steps=7, n_target_classes=3,
                                       square_queries=123, seed=4))
    assert all(a.norm == "L2" and a.seed == 4 for a in comps.values())
    assert comps["apgd-ce"].steps == comps["apgd-t"].steps == comps["fab-t"].steps == 7
    assert comps["apgd-t"].n_target_classes == comps["fab-t"].n_target_classes == 3
    assert comps["square"].n_queries == 123
    rand = dict(autoattack_components(model, eps=0.1, version="rand", n_classes=10, eot_iter=5))
    assert rand["apgd-ce"].eot_iter == rand["apgd-dlr"].eot_iter == 5
    with pytest.raises(ValueError):
        autoattack_components(model, eps=0.1, n_classes=3)
    with pytest.raises(ValueError):
        autoattack_components(model, eps=0.1, n_classes=10, version="plus")


def test_torchattacks_own_autoattack_differs_from_the_reference(trained):
    """The premise of building the components ourselves (torchattacks 3.5.1, issue #196)."""
    model, _, _ = trained
    own = torchattacks.AutoAttack(model, norm="Linf", eps=8 / 255, version="standard", n_classes=100, seed=0)
    apgd, apgdt, fab, square = own._autoattack.attacks
    assert apgd.steps == 10 and apgdt.n_target_classes == 99 and square.rescale_schedule is True


@pytest.mark.parametrize("norm,eps", [("linf", 0.12), ("l2", 0.8)])
def test_at_least_as_strong_as_pgd_and_outputs_verified(trained, norm, eps):
    model, x, y = trained
    p = pgd(model, x, y, norm=norm, eps=eps, step=eps / 4, steps=10)
    res = autoattack(model, x, y, norm=norm, eps=eps, n_classes=N_CLASSES, **FAST)
    assert res.accuracy <= p.accuracy
    assert 0 < res.accuracy < 1
    d = (res.x_adv - x).flatten(1)
    assert (d.abs().amax(1).max() <= eps + 1e-6) if norm == "linf" else (d.norm(dim=1).max() <= eps + 1e-5)
    assert res.x_adv.min() >= 0 and res.x_adv.max() <= 1
    with torch.no_grad():
        correct = model(res.x_adv).argmax(1) == y
    assert torch.equal(res.robust, correct)
    assert torch.equal(res.x_adv[res.robust], x[res.robust])
    after = list(res.extra["robust_after"].values())
    assert after == sorted(after, reverse=True) and after[-1] == pytest.approx(res.accuracy)
    assert res.extra["clean_accuracy"] >= after[0]
    assert torch.equal(res.extra["broken_by"] == -1, res.robust)


def test_state_rng_and_determinism(trained):
    base, x, y = trained
    x, y = x[:30], y[:30]
    model = copy.deepcopy(base)
    state = mixed_state(model)
    torch.manual_seed(123)
    rng = torch.get_rng_state()
    a = autoattack(model, x, y, eps=0.05, n_classes=N_CLASSES, steps=5, square_queries=20)   # all 4 attacks run
    assert torch.equal(torch.get_rng_state(), rng)          # torchattacks reseeds the global RNG; restored
    check_state(model, state)                               # FAB calls backward(): grads must not move
    assert a.extra["robust_after"]["square"] > 0.5
    b = autoattack(base, x, y, eps=0.05, n_classes=N_CLASSES, steps=5, square_queries=20)
    assert torch.equal(a.x_adv, b.x_adv) and torch.equal(a.robust, b.robust)


def test_rand_version_on_a_randomised_model(trained):
    base, x, y = trained
    noisy = NoisyModel(base, sigma=0.1)
    res = autoattack(noisy, x, y, eps=0.12, version="rand", n_classes=N_CLASSES, steps=10, eot_iter=2)
    assert list(res.extra["robust_after"]) == ["apgd-ce", "apgd-dlr"]
    assert res.accuracy < res.extra["clean_accuracy"]
    assert (res.x_adv - x).abs().max() <= 0.12 + 1e-6
    with pytest.raises(ValueError):
        autoattack(base, x, y, eps=0.1, n_classes=N_CLASSES + 1, steps=1)


@pytest.mark.slow
def test_reference_settings_end_to_end(trained):
    """The full standard version (100 iterations, 9 targets, 5000 Square queries) on 20 examples."""
    model, x, y = trained
    x, y = x[:20], y[:20]
    res = autoattack(model, x, y, eps=0.12, n_classes=N_CLASSES)
    p = pgd(model, x, y, eps=0.12, step=0.03, steps=100, restarts=2)
    assert res.accuracy <= p.accuracy
    with torch.no_grad():
        assert torch.equal(res.robust, model(res.x_adv).argmax(1) == y)
