"""Bounded C&W-ℓ2 (foolbox 3.3.4 underneath): the projected points are within the bound, an example counts as
broken only if its projected point is misclassified (recomputed here), the broken sets grow with the bound,
and model state is restored."""
import copy

import pytest
import torch

from attack_models import check_state, load_trained, mixed_state
from toeplitznet.attacks import bounded_cw_l2

fb = pytest.importorskip("foolbox")
BOUNDS = (0.3, 0.6, 1.0, 2.0)
FAST = dict(binary_search_steps=5, steps=50)


@pytest.fixture
def trained():
    return load_trained()


@pytest.fixture(scope="module")
def cw():
    model, x, y = load_trained()
    x, y = x[:40], y[:40]
    return model, x, y, bounded_cw_l2(model, x, y, bounds=BOUNDS, **FAST)


def test_projected_points_are_within_the_bound_and_judged_by_the_model(cw):
    model, x, y, out = cw
    assert list(out) == list(BOUNDS)
    for b, res in out.items():
        norms = (res.x_adv - x).flatten(1).norm(dim=1)
        assert norms.max() <= b + 1e-5
        assert res.x_adv.min() >= 0 and res.x_adv.max() <= 1
        with torch.no_grad():
            correct = model(res.x_adv).argmax(1) == y
        assert torch.equal(res.robust, correct)        # broken <=> the projected point is misclassified
    accs = [out[b].accuracy for b in BOUNDS]
    assert accs[0] > 0.8 and accs[-1] < 0.1            # informative: C&W finds adversarials, the bound binds


def test_broken_sets_grow_with_the_bound(cw):
    _, _, _, out = cw
    for small, large in zip(BOUNDS, BOUNDS[1:]):
        assert (out[large].robust <= out[small].robust).all()
    # every example whose minimal adversarial fits in the ball is broken there
    cw_norm = out[BOUNDS[0]].extra["cw_norm"]
    for b, res in out.items():
        assert not res.robust[cw_norm <= b - 1e-5].any()


def test_only_the_projected_point_counts_not_foolbox_success(trained, monkeypatch):
    """A fake C&W returns far-away misclassified points and claims success at every bound: at a small bound
    the projection of such a point is still correctly classified, so the example must stay robust."""
    model, x, y = trained
    x, y = x[:20], y[:20]
    far = x.roll(1, dims=0)                            # an example of another class, correctly classified
    with torch.no_grad():
        assert (model(far).argmax(1) != y).all()

    def fake_call(self, fmodel, inputs, criterion, *, epsilons, **kw):
        k = len(epsilons)
        return [far] * k, [far] * k, torch.ones((k, len(inputs)), dtype=torch.bool)

    monkeypatch.setattr(fb.attacks.L2CarliniWagnerAttack, "__call__", fake_call)
    out = bounded_cw_l2(model, x, y, bounds=(0.05, 100.0))
    assert out[0.05].robust.all()                      # foolbox's success flag is not trusted
    assert out[0.05].extra["foolbox_success"].all()
    assert not out[100.0].robust.any()                 # unprojected (norm < 100): the far point itself
    torch.testing.assert_close(out[100.0].x_adv, far)


def test_model_state_restored_and_eval_mode(trained):
    base, x, y = trained
    x, y = x[:10], y[:10]
    model = copy.deepcopy(base)
    state = mixed_state(model)
    out = bounded_cw_l2(model, x, y, bounds=(0.6,), binary_search_steps=2, steps=20)
    check_state(model, state)                         # foolbox/eagerpy call backward(): grads must not move
    ref = bounded_cw_l2(base, x, y, bounds=(0.6,), binary_search_steps=2, steps=20)
    torch.testing.assert_close(out[0.6].x_adv, ref[0.6].x_adv)


class _Ring(torch.nn.Module):
    """Predicts class 1 (wrong for label 0) iff the input's ℓ2 distance to ``x0`` is in (0.4, 0.6) or > 0.9."""

    def __init__(self, x0):
        super().__init__()
        self.register_buffer("x0", x0)

    def forward(self, x):
        d = (x - self.x0).flatten(1).norm(dim=1)
        wrong = (((d > 0.4) & (d < 0.6)) | (d > 0.9)).float()
        return torch.stack([1 - wrong, wrong], dim=1)


def test_a_point_broken_at_a_small_bound_is_carried_to_larger_bounds(monkeypatch):
    x0 = torch.full((3, 1, 4, 4), 0.5)
    direction = torch.full_like(x0, 0.25)                   # unit ℓ2 norm over 16 pixels; stays inside [0, 1]
    far = x0 + direction * torch.tensor([0.45, 0.45, 0.45]).view(3, 1, 1, 1)        # all at 0.45: "minimal"
    model, y = _Ring(x0), torch.zeros(3, dtype=torch.long)

    def fake_call(self, fmodel, inputs, criterion, *, epsilons, **kw):
        k = len(epsilons)
        return [far] * k, [far] * k, torch.ones((k, len(inputs)), dtype=torch.bool)

    monkeypatch.setattr(fb.attacks.L2CarliniWagnerAttack, "__call__", fake_call)
    # at bound 0.5 the point itself (norm 0.45 <= 0.5) is misclassified; at 0.3 its projection is not
    out = bounded_cw_l2(model, x0, y, bounds=(0.3, 0.5, 0.8))
    assert out[0.3].robust.all() and not out[0.5].robust.any() and not out[0.8].robust.any()
    # a minimal adversarial at distance 1.0: projections at 0.3 (correct), 0.5 (wrong), 0.8 (correct again)
    far = x0 + direction
    out = bounded_cw_l2(model, x0, y, bounds=(0.8, 0.5, 0.3))
    assert list(out) == [0.8, 0.5, 0.3]                      # the caller's order
    assert out[0.3].robust.all() and not out[0.5].robust.any()
    assert not out[0.8].robust.any()                         # carried: the 0.5 point is inside the 0.8 ball
    torch.testing.assert_close(out[0.8].x_adv, out[0.5].x_adv)
    assert ((out[0.8].x_adv - x0).flatten(1).norm(dim=1) <= 0.8 + 1e-6).all()
