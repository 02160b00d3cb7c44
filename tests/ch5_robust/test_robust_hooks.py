"""The training hooks of the robustness runs (toeplitznet.runs.robust): augmentation by hand, the adversarial
batch (ball, labels, mode), the regulariser hook, and a run spec trained end to end by rule train_run's code,
also on 2 processes (torchrun, gloo)."""
import itertools

import pytest
import torch
import torch.nn.functional as F

from toeplitznet.runs import robust


def test_random_crop_and_flip_are_windows_of_the_padded_image():
    torch.manual_seed(0)
    x = torch.rand(12, 2, 6, 5)
    p = 2
    out = robust.augment(x, p, True)
    xp = F.pad(x, (p, p, p, p))
    for i in range(len(x)):
        windows = [xp[i, :, a:a + 6, b:b + 5] for a, b in itertools.product(range(2 * p + 1), range(2 * p + 1))]
        windows += [w.flip(2) for w in windows]
        assert any(torch.equal(out[i], w) for w in windows), i
    assert torch.equal(robust.augment(x, 0, False), x)
    # the draws come from torch's global RNG (seeded per epoch by the trainer): same seed, same batch
    torch.manual_seed(3)
    a = robust.augment(x, p, True)
    torch.manual_seed(3)
    assert torch.equal(a, robust.augment(x, p, True))


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))


def test_adversarial_batch_in_the_ball_labels_and_mode():
    m = _model().train()
    x, y = torch.rand(20, 3, 2, 2), torch.randint(0, 3, (20,))
    spec = {"norm": "linf", "eps": 0.05, "step": 0.02, "steps": 3, "random_start": True, "labels": "labels",
            "mode": "eval"}
    xa = robust.attack_batch(m, x, y, spec)
    assert m.training                                   # the trainer's mode is restored
    assert (xa - x).abs().max() <= 0.05 + 1e-6 and xa.min() >= 0 and xa.max() <= 1
    assert F.cross_entropy(m(xa), y) > F.cross_entropy(m(x), y)
    # labels: predictions attacks the model's own predictions (the author's code), not y
    pred = m(x).argmax(1)
    torch.manual_seed(1)
    a = robust.attack_batch(m, x, y, {**spec, "labels": "predictions", "random_start": False})
    torch.manual_seed(1)
    b = robust.attack_batch(m, x, pred, {**spec, "random_start": False})
    assert torch.allclose(a, b)


def test_hooks_of_a_spec():
    m = _model()
    assert robust.training_hooks(m, None) == {} and robust.training_hooks(m, {"augment": {}}) == {}
    conv = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                               torch.nn.Flatten(), torch.nn.Linear(4 * 16, 3))
    reg = {"method": "lipbound", "c1": 0.0, "c1_form": "norms", "c2": 0.5, "samples": 10, "grid": "thesis",
           "outer": "cout", "power_iters": 10, "input_shape": [1, 4, 4]}
    hooks = robust.training_hooks(conv, {"augment": {"crop_padding": 0, "flip": False}, "attack": None,
                                         "regularizer": reg})
    assert set(hooks) == {"extra_loss"}
    from toeplitznet.bounds import lipbound

    bn = conv[1]
    bn_bound = (bn.weight.abs() / torch.sqrt(bn.running_var + bn.eps)).max()
    want = 0.5 * (torch.log(lipbound(conv[0].weight.detach(), n_samples=10, outer="cout")) + torch.log(bn_bound))
    assert float(hooks["extra_loss"](conv).detach()) == pytest.approx(float(want), rel=1e-5)
