"""Figure 5.4's per-example input-Jacobian norm against torch.autograd.functional.jacobian and a linear model
whose Jacobian is known in closed form."""

import pytest
import torch
from torch import nn

from toeplitznet.robust import jacobian_norm


def tiny_cnn(seed=0, classes=5):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 4, 3, stride=2),
                          nn.LeakyReLU(0.1), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, classes))
    with torch.no_grad():
        model[1].running_var.uniform_(0.5, 2.0)
        model[1].running_mean.normal_()
        model[1].weight.normal_()
    return model.double()


def exact_norms(model, x):
    model.eval()
    out = []
    for xi in x:
        jac = torch.autograd.functional.jacobian(lambda z: model(z.unsqueeze(0))[0], xi).reshape(-1, xi.numel())
        out.append((torch.linalg.matrix_norm(jac, ord=2), torch.linalg.matrix_norm(jac, ord="fro")))
    return torch.tensor([a for a, _ in out]), torch.tensor([b for _, b in out])


def test_against_the_exact_jacobian():
    model = tiny_cnn()
    x = torch.rand(6, 2, 7, 7, dtype=torch.float64)
    spec, fro = exact_norms(model, x)
    model.train()
    power = jacobian_norm(model, x, method="power")  # 20 iterations
    assert model.training  # mode restored
    assert torch.allclose(power, spec, rtol=1e-3)
    assert bool((power <= spec * (1 + 1e-9)).all())  # the power method approaches sigma_1 from below
    assert torch.allclose(jacobian_norm(model, x, method="exact"), spec, rtol=1e-8)
    assert torch.allclose(jacobian_norm(model, x), spec, rtol=1e-8)  # auto: exact for 5 classes
    assert torch.allclose(jacobian_norm(model, x, norm="frobenius"), fro, rtol=1e-8)


def test_examples_do_not_mix():
    model = tiny_cnn(1)
    x = torch.rand(5, 2, 7, 7, dtype=torch.float64)
    model.train()  # BN in training mode would couple the batch: the function evaluates in eval mode
    batched = jacobian_norm(model, x, method="power", iters=30)
    single = torch.cat([jacobian_norm(model, x[i:i + 1], method="power", iters=30) for i in range(5)])
    assert torch.allclose(batched, single, rtol=1e-6)
    chunked = jacobian_norm(model, x, method="power", iters=30, batch_size=2)
    assert torch.allclose(batched, chunked, rtol=1e-6)
    assert len(set(batched.tolist())) == 5


def test_linear_model_closed_form():
    torch.manual_seed(2)
    w = torch.randn(4, 12, dtype=torch.float64)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 4)).double()
    with torch.no_grad():
        model[1].weight.copy_(w)
    x = torch.randn(3, 3, 2, 2, dtype=torch.float64)
    sigma = torch.linalg.svdvals(w)[0]
    for method in ("power", "exact"):
        assert torch.allclose(jacobian_norm(model, x, method=method, iters=100), sigma.expand(3), rtol=1e-8)
    assert torch.allclose(jacobian_norm(model, x, norm="frobenius"), w.norm().expand(3), rtol=1e-10)


def test_bad_arguments():
    model = tiny_cnn()
    x = torch.rand(1, 2, 7, 7, dtype=torch.float64)
    with pytest.raises(ValueError):
        jacobian_norm(model, x, norm="nuclear")
    with pytest.raises(ValueError):
        jacobian_norm(model, x, method="svd")
