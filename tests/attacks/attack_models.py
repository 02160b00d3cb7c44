"""Shared fixtures of the attack tests: a tiny CNN trained in about a second on synthetic 10-class images.

Data: 10 random prototypes of shape 1x8x8 in [0.15, 0.85], examples = clip(prototype + 0.12 N(0, 1), 0, 1).
The network standardises inside (inputs stay in [0, 1]) and has batch norm and dropout, so that a wrong mode
during an attack changes its outputs. Cached per process (``functools.cache``): every test module that
asks gets the same trained weights; tests must not modify them (use ``copy.deepcopy``).
"""
from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn

N_CLASSES = 10
SHAPE = (1, 8, 8)


class TinyCNN(nn.Module):
    def __init__(self, n_classes: int = N_CLASSES):
        super().__init__()
        self.register_buffer("mean", torch.tensor(0.5))
        self.register_buffer("std", torch.tensor(0.25))
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(32 * 4 * 4, n_classes)

    def forward(self, x):
        x = (x - self.mean) / self.std
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.conv2(x))
        return self.fc(self.drop(x.flatten(1)))


class NoisyModel(nn.Module):
    """A randomised model: Gaussian noise of std ``sigma`` on the input at every forward (global RNG)."""

    def __init__(self, model: nn.Module, sigma: float):
        super().__init__()
        self.model, self.sigma = model, sigma

    def forward(self, x):
        return self.model(x + self.sigma * torch.randn_like(x))


def make_data(n: int, seed: int):
    g = torch.Generator().manual_seed(1234)
    protos = 0.15 + 0.7 * torch.rand((N_CLASSES, *SHAPE), generator=g)
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % N_CLASSES
    x = (protos[y] + 0.12 * torch.randn((n, *SHAPE), generator=g)).clamp(0, 1)
    return x, y


@functools.cache
def _train():
    torch.manual_seed(0)
    x, y = make_data(600, seed=1)
    model = TinyCNN()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _epoch in range(10):
        perm = torch.randperm(len(x))
        for i in range(0, len(x), 100):
            b = perm[i:i + 100]
            opt.zero_grad()
            F.cross_entropy(model(x[b]), y[b], label_smoothing=0.1).backward()
            opt.step()
    model.eval()
    for p in model.parameters():
        p.grad = None
    xt, yt = make_data(100, seed=2)
    return model, xt, yt


def load_trained():
    """``(model, x_test, y_test)``: the cached trained TinyCNN (put back in eval mode) and 100 test examples."""
    model, x, y = _train()
    model.eval()
    return model, x, y


def mixed_state(model):
    """Put ``model`` in a mixed state (train mode with ``bn1`` in eval, one frozen parameter, known ``.grad``
    tensors); returns the recorded state for :func:`check_state` after an attack."""
    model.train()
    model.bn1.eval()                                   # a mixed mode: must come back exactly
    params = list(model.parameters())
    params[0].requires_grad_(False)
    for i, p in enumerate(params[1:], 1):
        p.grad = torch.full_like(p, float(i))
    modes = [m.training for m in model.modules()]
    values = [None if p.grad is None else p.grad.clone() for p in params]
    return modes, [p.requires_grad for p in params], [p.grad for p in params], values


def check_state(model, state):
    """Assert that modes, ``requires_grad`` and the very ``.grad`` tensors (and values) are as recorded."""
    modes, flags, grads, values = state
    assert [m.training for m in model.modules()] == modes
    params = list(model.parameters())
    assert [p.requires_grad for p in params] == flags
    for p, g, v in zip(params, grads, values):
        assert p.grad is g
        if v is not None:
            assert torch.equal(p.grad, v)
