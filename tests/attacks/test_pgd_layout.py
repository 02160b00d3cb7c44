"""The memory layout of PGD's passes (``memory_format``): channels_last on the CPU by default, only the inputs
converted, results in the caller's layout, the same attack as in NCHW (up to float rounding), exactly the same
where nothing is converted (float64) and a fallback for models that ``view`` activations."""
import pytest
import torch
from torch import nn

from toeplitznet.attacks import pgd, pgd_train


class Spy(nn.Module):
    """Records whether each input the attack passes is channels_last."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.seen = inner, []

    def forward(self, x):
        self.seen.append(x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous())
        return self.inner(x)


class Net3(nn.Module):
    """A 3-channel conv net (for 1 channel, NCHW and NHWC strides coincide) flattening with ``flatten``."""

    def __init__(self, view: bool = False):
        super().__init__()
        torch.manual_seed(0)
        self.view = view
        self.conv1, self.bn = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.conv2, self.fc = nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.Linear(8 * 4 * 4, 5)
        with torch.no_grad():
            self.bn.running_mean.uniform_(-0.2, 0.2)
            self.bn.running_var.uniform_(0.5, 2.0)

    def forward(self, x):
        h = torch.relu(self.conv2(torch.relu(self.bn(self.conv1(x)))))
        return self.fc(h.view(h.shape[0], -1) if self.view else h.flatten(1))


def _data(n=32, dtype=torch.float32):
    model = Net3().eval().to(dtype)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 3, 8, 8, generator=g, dtype=dtype)
    with torch.no_grad():
        y = model(x).argmax(1)
    return model, x, y


def test_auto_runs_channels_last_and_returns_the_callers_layout():
    model, x, y = _data()
    spy = Spy(model)
    res = pgd(spy, x, y, eps=0.05, step=0.02, steps=3, seed=0)
    assert spy.seen and all(spy.seen)
    assert res.x_adv.is_contiguous() and res.x_adv.shape == x.shape
    spy.seen.clear()
    pgd(spy, x, y, eps=0.05, step=0.02, steps=3, seed=0, memory_format="preserve")
    assert spy.seen and not any(spy.seen)
    spy.seen.clear()
    xt = pgd_train(spy, x, y, eps=0.05, step=0.02, steps=3, generator=0)
    assert all(spy.seen) and xt.is_contiguous()
    with pytest.raises(ValueError, match="memory_format"):
        pgd(model, x, y, eps=0.1, step=0.1, steps=1, memory_format="nhwc")


def test_same_attack_in_either_layout():
    model, x, y = _data(64)
    a = pgd(model, x, y, eps=0.05, step=0.02, steps=10, restarts=2, seed=3, record=range(11))
    b = pgd(model, x, y, eps=0.05, step=0.02, steps=10, restarts=2, seed=3, record=range(11), memory_format="preserve")
    assert 0.1 < float(b.robust.float().mean()) < 0.9      # an informative regime
    # float rounding of the two convolution algorithms can flip a gradient sign at a tie: allow one example
    assert abs(int(a.robust.sum()) - int(b.robust.sum())) <= 1
    assert (a.robust != b.robust).sum() <= 1
    close = (a.x_adv - b.x_adv).flatten(1).abs().amax(1) < 1e-4
    assert close.float().mean() >= 0.9


def test_float64_is_never_converted_so_results_are_identical():
    model, x, y = _data(dtype=torch.float64)
    spy = Spy(model)
    a = pgd(spy, x, y, eps=0.05, step=0.02, steps=5, seed=1)
    assert spy.seen and not any(spy.seen)
    b = pgd(model, x, y, eps=0.05, step=0.02, steps=5, seed=1, memory_format="preserve")
    assert torch.equal(a.x_adv, b.x_adv) and torch.equal(a.robust, b.robust)


def test_a_model_that_views_activations_falls_back_to_the_input_layout():
    _, x, y = _data(12)
    model = Net3(view=True).eval()
    with pytest.raises(RuntimeError, match="view"):
        model(x.contiguous(memory_format=torch.channels_last))   # the premise
    a = pgd(model, x, y, eps=0.1, step=0.03, steps=4, seed=0)
    b = pgd(model, x, y, eps=0.1, step=0.03, steps=4, seed=0, memory_format="preserve")
    assert torch.equal(a.x_adv, b.x_adv) and torch.equal(a.robust, b.robust)
    with pytest.raises(RuntimeError, match="view"):   # an explicit request is not second-guessed
        pgd(model, x, y, eps=0.1, step=0.03, steps=4, seed=0, memory_format="channels_last")
