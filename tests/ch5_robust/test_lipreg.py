"""Lipschitz regulariser of thesis Eq. 5.56 (Section 5.5) and the whole-network bound, against independent
computations: dense matrices of batch norms and convolutions, a brute-force trigonometric-polynomial evaluation of
LipBound on both grids, hand sums of the l2 term, and empirical Lipschitz ratios of a small Wide ResNet."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from toeplitznet.bounds import exact_spectral_norm, lipbound, lipbound_certification_factor, power_method
from toeplitznet.models import WideBasic, wide_resnet
from toeplitznet.models.normalize import Standardize
from toeplitznet.regularizers import LipschitzRegularizer, bn_lipschitz, layer_bounds, product_of_bounds
from toeplitznet.robust import jacobian_norm


def _randomize_bn(model, seed=0):
    """Non-trivial running statistics and affine parameters (negative gammas included)."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_var.copy_(0.2 + 2 * torch.rand(c, generator=g))
            m.running_mean.copy_(torch.randn(c, generator=g))
            with torch.no_grad():
                m.weight.copy_(torch.randn(c, generator=g))
                m.bias.copy_(torch.randn(c, generator=g))
    return model


def _dense(fn, in_shape):
    """Matrix of a linear map given as a function on tensors of ``in_shape`` (column k = fn(e_k))."""
    n = math.prod(in_shape)
    eye = torch.eye(n, dtype=torch.float64).reshape(n, *in_shape)
    with torch.no_grad():
        return fn(eye).reshape(n, -1).T


def _brute_lipbound(kernel, omegas):
    """sqrt(sum_i max_omega sum_j |f_ij(omega)|^2), i over the smaller channel dimension, by explicit sums."""
    k = np.asarray(kernel.detach().double())
    if k.shape[0] > k.shape[1]:
        k = k.transpose(1, 0, 2, 3)
    kh, kw = k.shape[2:]
    a = np.arange(kh)[:, None]
    b = np.arange(kw)[None, :]
    best = np.zeros(k.shape[0])
    for w1 in omegas:
        for w2 in omegas:
            phase = np.exp(-1j * (a * w1 + b * w2))
            f = (k * phase).sum(axis=(2, 3))  # (outer, inner)
            best = np.maximum(best, (np.abs(f) ** 2).sum(axis=1))
    return float(np.sqrt(best.sum()))


@pytest.fixture(scope="module")
def wrn():
    torch.manual_seed(0)
    return _randomize_bn(wide_resnet(16, 2, normalize="cifar10"))


# ------------------------------------------------------------------ batch norm
def test_bn_bound_is_sigma1_of_the_dense_affine_map():
    torch.manual_seed(1)
    bn = _randomize_bn(nn.Sequential(nn.BatchNorm2d(5)))[0].double().eval()
    with torch.no_grad():
        bn.weight[2] = -5.0  # the largest |gamma / sqrt(var + eps)| is negative
    shape = (5, 2, 3)
    lin = _dense(lambda e: bn(e) - bn(torch.zeros(1, *shape, dtype=torch.float64)), shape)
    dense = float(torch.linalg.matrix_norm(lin, ord=2))
    assert float(bn_lipschitz(bn).detach()) == pytest.approx(dense, rel=1e-10)
    # the same through the regulariser (c1 = 0, c2 = 1: the sum of logs)
    model = nn.Sequential(nn.Conv2d(5, 5, 3, padding=1), bn).double()
    reg = LipschitzRegularizer(model, c1=0.0, c2=1.0)
    assert reg.terms()["log_bn"].item() == pytest.approx(math.log(dense), rel=1e-10)
    assert reg.bn_bounds()[0].item() == pytest.approx(dense, rel=1e-10)


def test_bn_without_running_stats_is_refused():
    model = nn.Sequential(nn.Conv2d(2, 2, 3), nn.BatchNorm2d(2, track_running_stats=False))
    with pytest.raises(ValueError, match="running"):
        LipschitzRegularizer(model, c1=0, c2=1)
    assert float(LipschitzRegularizer(model, c1=0, c2=1, bn=False)()) != 0.0


# ------------------------------------------------------------------ conv terms
def test_conv_terms_are_log_lipbound_of_every_conv(wrn):
    convs = [m for m in wrn.modules() if isinstance(m, nn.Conv2d)]
    # WRN-16-2: stem + 3 stages x 2 blocks x 2 convs + three 1x1 shortcuts (one of them strided)
    assert len(convs) == 16 and sum(m.kernel_size == (1, 1) for m in convs) == 3
    assert sum(m.stride == (2, 2) for m in convs) == 4
    c2 = 0.008
    reg = LipschitzRegularizer(wrn, c1=0.0, c2=c2)
    per_layer = [float(lipbound(m.weight.detach(), 10)) for m in convs]
    terms = reg.terms()
    assert float(terms["log_conv"]) == pytest.approx(sum(math.log(v) for v in per_layer), rel=1e-5)
    log_bn = sum(math.log(float(bn_lipschitz(m))) for m in wrn.modules() if isinstance(m, nn.BatchNorm2d))
    assert float(reg()) == pytest.approx(c2 * (sum(math.log(v) for v in per_layer) + log_bn), rel=1e-5)
    # bound values against an explicit evaluation of the trigonometric polynomials on Eq. 5.51's grid
    thesis_grid = 2 * np.pi * np.arange(10) / 10
    for m, v in zip(convs[:5], reg.conv_bounds()[:5]):
        assert float(v) == pytest.approx(_brute_lipbound(m.weight, thesis_grid), rel=1e-5)


def test_linspace_grid_is_the_2020_code_grid(wrn):
    convs = [m for m in wrn.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]
    reg = LipschitzRegularizer(wrn, c1=0.0, c2=1.0, grid="linspace", samples=10)
    vals = reg.conv_bounds()
    allconvs = [m for m in wrn.modules() if isinstance(m, nn.Conv2d)]
    lin = np.linspace(0, 2 * np.pi, 10)
    for m in convs[:4]:
        got = float(vals[allconvs.index(m)])
        assert got == pytest.approx(_brute_lipbound(m.weight, lin), rel=1e-5)
    thesis = LipschitzRegularizer(wrn, c1=0.0, c2=1.0, grid="thesis", samples=10).conv_bounds()
    assert not torch.allclose(vals, thesis)  # the two grids differ for 3x3 kernels


def test_certified_factor_optional(wrn):
    plain = LipschitzRegularizer(wrn, c1=0.0, c2=1.0).terms()["log_conv"]
    cert = LipschitzRegularizer(wrn, c1=0.0, c2=1.0, certified=True).terms()["log_conv"]
    n3 = sum(1 for m in wrn.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3))
    assert float(cert - plain) == pytest.approx(n3 * math.log(lipbound_certification_factor(3, 10)), rel=1e-5)


# ------------------------------------------------------------------ power method
def test_power_method_term_matches_dense_sigma1():
    torch.manual_seed(2)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.Conv2d(3, 2, 3, stride=2, padding=1)).double()
    dense = [
        float(torch.linalg.matrix_norm(_dense(lambda e: model[0](e) - model[0](torch.zeros_like(e[:1])), (2, 6, 6)), ord=2)),
        float(torch.linalg.matrix_norm(_dense(lambda e: model[2](e) - model[2](torch.zeros_like(e[:1])), (3, 6, 6)), ord=2)),
    ]
    assert dense[0] == pytest.approx(exact_spectral_norm(model[0].weight, 6, padding=1), rel=1e-8)
    conv_only = LipschitzRegularizer(model, c1=0.0, c2=1.0, method="power_method", input_shape=(2, 6, 6),
                                     power_iters=300, bn=False)
    got = conv_only.conv_bounds().detach()
    assert got.tolist() == pytest.approx(dense, rel=1e-6)
    ten = LipschitzRegularizer(model, c1=0.0, c2=1.0, method="power_method", input_shape=(2, 6, 6)).conv_bounds()
    for v, d in zip(ten.tolist(), dense):  # 10 iterations: a lower estimate close to sigma_1
        assert 0.9 * d < v <= d * (1 + 1e-9)


def test_stacked_power_method_equals_bounds_power_method(wrn):
    from toeplitznet.bounds import collect_conv_layers

    reg = LipschitzRegularizer(wrn, c1=0.0, c2=1.0, method="power_method")
    plan = reg._plan(None)
    assert max(len(idxs) for idxs, _ in plan.pm_groups) >= 3  # same-shaped layers are batched
    vals = reg.conv_bounds()
    infos = {i.module: i for i in collect_conv_layers(wrn, (1, 3, 32, 32))}
    for idxs, runner in plan.pm_groups:
        for i in idxs:
            m = plan.convs[i]
            info = infos[m]
            ref = power_method(m.weight, info.input_size, 10, padding=info.padding, stride=info.stride,
                               u0=runner.start.float(), grad_through_iterations=True)
            assert float(vals[i]) == pytest.approx(float(ref), rel=1e-5)
    # fixed start: identical values at every call
    assert torch.equal(vals, reg.conv_bounds())


# ------------------------------------------------------------------ exclusions, gradients, l2
def test_linear_layers_are_not_in_the_lipschitz_sum(wrn):
    reg = LipschitzRegularizer(wrn, c1=0.0, c2=1.0)
    before = float(reg())
    head = wrn.net.linear
    old_w, old_b = head.weight.detach().clone(), head.bias.detach().clone()
    with torch.no_grad():
        head.weight.mul_(7.0).add_(1.0)
        head.bias.add_(3.0)
    try:
        assert float(reg()) == before
        # with C1 > 0 only the l2 term moves, by exactly the change of the head's norms
        reg1 = LipschitzRegularizer(wrn, c1=0.5, c2=1.0)
        new = float(reg1())
        delta = (head.weight.norm() - old_w.norm() + head.bias.norm() - old_b.norm()).item()
        with torch.no_grad():
            head.weight.copy_(old_w)
            head.bias.copy_(old_b)
        assert new - float(reg1()) == pytest.approx(0.5 * delta, rel=1e-4)
    finally:
        with torch.no_grad():
            head.weight.copy_(old_w)
            head.bias.copy_(old_b)
    # a Linear in the middle is not in the Lipschitz sum either (as in the author's code)
    mlp = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
    r = LipschitzRegularizer(mlp, c1=0.0, c2=1.0, bn=False)
    v = float(r())
    with torch.no_grad():
        mlp[2].weight.mul_(10)
    assert float(r()) == v
    assert v == pytest.approx(math.log(float(lipbound(mlp[0].weight.detach()))), rel=1e-6)


@pytest.mark.parametrize("method", ["lipbound", "power_method"])
def test_gradients_flow_into_convs_and_bn_gamma_only(wrn, method):
    wrn.zero_grad(set_to_none=True)
    LipschitzRegularizer(wrn, c1=0.0, c2=1.0, method=method)().backward()
    convs = [m for m in wrn.modules() if isinstance(m, nn.Conv2d)]
    bns = [m for m in wrn.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all(m.weight.grad is not None and m.weight.grad.abs().sum() > 0 for m in convs)
    for m in bns:
        g = m.weight.grad
        assert g is not None and int((g != 0).sum()) == 1  # the arg-max channel of |gamma / sqrt(var + eps)|
        assert m.bias.grad is None and not m.running_var.requires_grad
    g = wrn.net.linear.weight.grad  # only the (here 0-weighted) l2 term reaches the head
    assert g is None or float(g.abs().sum()) == 0.0
    wrn.zero_grad(set_to_none=True)


def test_c1_term_by_hand(wrn):
    by_hand = 0.0
    for m in wrn.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            by_hand += np.linalg.norm(m.weight.detach().numpy().ravel())
            if m.bias is not None:
                by_hand += np.linalg.norm(m.bias.detach().numpy())
    reg = LipschitzRegularizer(wrn, c1=3e-4, c2=0.008)
    t = reg.terms()
    assert float(t["l2"]) == pytest.approx(by_hand, rel=1e-5)
    assert float(reg()) == pytest.approx(3e-4 * by_hand + 0.008 * float(t["log_conv"] + t["log_bn"]), rel=1e-6)
    assert reg.weight_decay == 0.0
    wd = LipschitzRegularizer(wrn, c1=3e-4, c2=0.008, c1_form="weight_decay")
    assert wd.weight_decay == 3e-4 and "l2" not in wd.terms()
    assert float(wd()) == pytest.approx(0.008 * float(t["log_conv"] + t["log_bn"]), rel=1e-6)


def test_bad_options():
    m = nn.Sequential(nn.Conv2d(1, 1, 3))
    for kw in ({"method": "svd"}, {"grid": "random"}, {"c1_form": "l1"}, {"c2_form": "hinge"}):
        with pytest.raises(ValueError):
            LipschitzRegularizer(m, c1=0, c2=1, **kw)


def test_hinge_form_and_linear_layers_by_hand():
    """c2_form='log_hinge' sums max(log bound, 0) per layer; linear=True adds every Linear's exact sigma_1 (SVD)."""
    torch.manual_seed(3)
    net = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Conv2d(3, 2, 3), nn.Flatten(), nn.Linear(2 * 4 * 4, 5))
    with torch.no_grad():
        net[0].weight.mul_(20.0)     # a bound above 1
        net[2].weight.mul_(0.05)     # a bound below 1
    bounds = [float(lipbound(m.weight.detach())) for m in (net[0], net[2])]
    assert bounds[0] > 1 > bounds[1]
    s1 = float(np.linalg.svd(net[4].weight.detach().numpy(), compute_uv=False)[0])
    plain = LipschitzRegularizer(net, c1=0.0, c2=1.0, bn=False)
    hinge = LipschitzRegularizer(net, c1=0.0, c2=1.0, bn=False, c2_form="log_hinge")
    both = LipschitzRegularizer(net, c1=0.0, c2=2.0, bn=False, c2_form="log_hinge", linear=True)
    assert float(plain()) == pytest.approx(math.log(bounds[0]) + math.log(bounds[1]), rel=1e-5)
    assert float(hinge()) == pytest.approx(math.log(bounds[0]), rel=1e-5)
    assert float(both.linear_bounds()[0]) == pytest.approx(s1, rel=1e-5)
    assert float(both()) == pytest.approx(2.0 * (math.log(bounds[0]) + max(math.log(s1), 0.0)), rel=1e-5)
    # the hinge gives no gradient to a layer already below 1, and the head gets one only with linear=True
    net.zero_grad(set_to_none=True)
    both().backward()
    assert net[2].weight.grad is None or float(net[2].weight.grad.abs().sum()) == 0.0
    assert float(net[0].weight.grad.abs().sum()) > 0
    assert (net[4].weight.grad is not None and float(net[4].weight.grad.abs().sum()) > 0) == (s1 > 1)


# ------------------------------------------------------------------ whole-network bound
def test_layer_bounds_lists_every_layer(wrn):
    rows = layer_bounds(wrn, (3, 32, 32))
    kinds = [r["kind"] for r in rows]
    assert kinds.count("conv") == 16 and kinds.count("linear") == 1 and kinds[0] == "normalize"
    assert kinds.count("batchnorm") == sum(isinstance(m, nn.BatchNorm2d) for m in wrn.modules())
    std = wrn.normalize.std
    assert rows[0]["bound"] == pytest.approx(float(1 / std.min()), rel=1e-6)
    lin = next(r for r in rows if r["kind"] == "linear")
    assert lin["bound"] == pytest.approx(float(np.linalg.svd(wrn.net.linear.weight.detach().numpy())[1][0]), rel=1e-5)
    small = wide_resnet(10, 1)
    exact = layer_bounds(small, (3, 12, 12), method="exact")
    cert = layer_bounds(small, (3, 12, 12), certified=True)
    assert [e["name"] for e in exact] == [c["name"] for c in cert]
    for e, c in zip(exact, cert):
        if e["kind"] == "conv":
            assert e["bound"] <= c["bound"] * (1 + 1e-6)


def test_residual_composition_by_hand():
    torch.manual_seed(3)
    block = _randomize_bn(nn.Sequential(WideBasic(4, 4)))[0].eval()
    rows = {r["name"]: r["bound"] for r in layer_bounds(block, (4, 8, 8), certified=True)}
    branch = rows["bn1"] * rows["conv1"] * rows["bn2"] * rows["conv2"]
    assert product_of_bounds(block, (4, 8, 8)) == pytest.approx(branch + 1.0, rel=1e-9)
    down = _randomize_bn(nn.Sequential(WideBasic(4, 6, stride=2)))[0].eval()
    rows = {r["name"]: r["bound"] for r in layer_bounds(down, (4, 8, 8), certified=True)}
    branch = rows["bn1"] * rows["conv1"] * rows["bn2"] * rows["conv2"]
    assert product_of_bounds(down, (4, 8, 8)) == pytest.approx(branch + rows["shortcut"], rel=1e-9)
    # sequential pieces: standardisation then a linear layer is exactly ||W||_2 / min(std)
    lin = nn.Linear(6, 3)
    seq = nn.Sequential(Standardize([0.1, 0.2, 0.3], [0.5, 0.25, 2.0]), lin)
    expect = float(torch.linalg.matrix_norm(lin.weight.detach(), ord=2)) / 0.25
    assert product_of_bounds(seq, (6,)) == pytest.approx(expect, rel=1e-6)


def test_unknown_structure_warns_or_raises():
    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 3)

        def forward(self, x):
            return self.a(x) + x

    with pytest.warns(UserWarning, match="sequential"):
        product_of_bounds(Odd(), (3,))
    with pytest.raises(ValueError):
        product_of_bounds(Odd(), (3,), strict=True)


def test_product_of_bounds_upper_bounds_the_empirical_lipschitz_constant():
    torch.manual_seed(4)
    model = _randomize_bn(wide_resnet(10, 1, normalize="cifar10")).eval()
    shape = (3, 16, 16)  # small images keep the ARPACK references fast
    bound = product_of_bounds(model, shape)
    exact_bound = product_of_bounds(model, shape, method="exact")
    uncertified = product_of_bounds(model, shape, certified=False)
    n3 = sum(1 for m in model.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3))
    # the factor multiplies every 3x3 conv bound; residual sums (1 + branch) grow by less than the full product
    assert uncertified < bound < uncertified * lipbound_certification_factor(3, 10) ** n3
    assert exact_bound <= bound
    x = torch.rand(16, *shape)
    with torch.no_grad():
        ratios = []
        for scale in (1e-3, 1e-1, 1.0):
            x2 = (x + scale * torch.randn_like(x)).clamp(0, 1)
            ratios.append(((model(x) - model(x2)).norm(dim=1) / (x - x2).flatten(1).norm(dim=1)).max())
        far = ((model(x) - model(x.flip(0))).norm(dim=1) / (x - x.flip(0)).flatten(1).norm(dim=1)).max()
    empirical = float(max(max(ratios), far))
    jac = float(jacobian_norm(model, x).max())
    assert 0 < empirical <= exact_bound and 0 < jac <= exact_bound
    assert not model.training
