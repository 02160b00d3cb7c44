"""Batch-norm folding in the product-of-bounds certificate (``product_of_bounds(fold_bn=True)``, docs/lipreg.md
"Folding batch norms"), against independent computations: the spectral norm of input Jacobians (a lower estimate
of the true constant), dense matrices of ``conv o D`` / ``D o conv`` and of the head built column by column, a
hand composition of the folded per-layer values, and the ``certified`` evaluation."""

import math

import pytest
import torch
from torch import nn

from toeplitznet.models import WideBasic, wide_resnet
from toeplitznet.regularizers import layer_bounds, product_of_bounds
from toeplitznet.runs import robust_eval

SHAPE = (1, 8, 8)


def _randomize_bn(model, seed=0):
    """Non-trivial running statistics and affine parameters (negative gammas, variances over a decade)."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            dt = m.running_var.dtype
            with torch.no_grad():
                m.running_var.copy_(10 ** (2 * torch.rand(c, generator=g, dtype=dt) - 1))
                m.running_mean.copy_(torch.randn(c, generator=g, dtype=dt))
                m.weight.copy_(torch.randn(c, generator=g, dtype=dt))
                m.bias.copy_(torch.randn(c, generator=g, dtype=dt))
    return model


def _scale(bn):
    """Per-channel eval-mode scale, computed from the definition of batch norm."""
    return bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)


def _dense(fn, in_shape):
    """Matrix of a linear map on tensors of ``in_shape`` (column k = fn(e_k)), float64."""
    n = math.prod(in_shape)
    eye = torch.eye(n, dtype=torch.float64).reshape(n, *in_shape)
    with torch.no_grad():
        return fn(eye).reshape(n, -1).T


def _sigma1(a):
    return float(torch.linalg.matrix_norm(a, ord=2))


def _max_jacobian_sigma1(net, seed, draws, scaled=True):
    """Largest input-Jacobian sigma_1 of ``net`` over ``draws`` random float64 inputs of SHAPE (with ``scaled``,
    draw k is multiplied by 1 + k % 3, to reach BN-scale inputs): a lower estimate of its Lipschitz constant."""
    g = torch.Generator().manual_seed(seed)
    best = 0.0
    for k in range(draws):
        x = torch.randn(*SHAPE, generator=g, dtype=torch.float64) * ((1 + k % 3) if scaled else 1)
        jac = torch.autograd.functional.jacobian(lambda v: net(v[None])[0], x)
        best = max(best, _sigma1(jac.reshape(jac.shape[0], -1)))
    return best


@pytest.fixture(scope="module")
def wrn():
    torch.manual_seed(0)
    return _randomize_bn(wide_resnet(10, 1, in_channels=1).double()).eval()


def test_folded_bound_is_valid_and_tighter(wrn):
    exact_u = product_of_bounds(wrn, SHAPE, method="exact")
    exact_f = product_of_bounds(wrn, SHAPE, method="exact", fold_bn=True)
    lip_u = product_of_bounds(wrn, SHAPE)  # LipBound, certified
    lip_f = product_of_bounds(wrn, SHAPE, fold_bn=True)
    assert exact_f < exact_u and lip_f < lip_u
    assert exact_f <= lip_f * (1 + 1e-9)  # LipBound (certified) upper-bounds sigma_1 layer by layer
    # lower estimate of the true constant: largest Jacobian spectral norm over random inputs (and BN-scale inputs)
    best = _max_jacobian_sigma1(wrn, seed=1, draws=12)
    assert 0 < best <= exact_f
    assert wrn.training is False


def test_folded_bound_keeps_the_training_flag(wrn):
    wrn.train()
    try:
        product_of_bounds(wrn, SHAPE, method="exact", fold_bn=True)
        assert wrn.training
    finally:
        wrn.eval()


def test_default_is_unfolded(wrn):
    assert product_of_bounds(wrn, SHAPE) == product_of_bounds(wrn, SHAPE, fold_bn=False)
    rows = layer_bounds(wrn, SHAPE)
    assert all("folded_bound" not in r for r in rows) and all(r["kind"] != "head" for r in rows)


def test_folded_conv_exact_is_the_dense_spectral_norm():
    torch.manual_seed(2)
    block = _randomize_bn(nn.Sequential(WideBasic(3, 4, stride=2)), seed=3).double().eval()
    b = block[0]
    rows = {r["name"]: r for r in layer_bounds(block, (3, 6, 6), method="exact", fold_bn=True)}
    # conv1 o D1 on the block input (3 x 6 x 6)
    s1 = _scale(b.bn1)
    dense1 = _dense(lambda e: b.conv1(e * s1[None, :, None, None]), (3, 6, 6))
    assert rows["0.conv1"]["folded_bound"] == pytest.approx(_sigma1(dense1), rel=1e-8)
    assert rows["0.conv1"]["folded_bn"] == "0.bn1"
    # conv2 (stride 2) o D2 on conv1's output (4 x 6 x 6)
    s2 = _scale(b.bn2)
    dense2 = _dense(lambda e: b.conv2(e * s2[None, :, None, None]), (4, 6, 6))
    assert rows["0.conv2"]["folded_bound"] == pytest.approx(_sigma1(dense2), rel=1e-8)
    # the 1x1 shortcut reads the raw input: not folded
    assert rows["0.shortcut"]["folded_bound"] is None
    # the block bound is the hand composition
    expect = rows["0.conv1"]["folded_bound"] * rows["0.conv2"]["folded_bound"] + rows["0.shortcut"]["bound"]
    assert product_of_bounds(block, (3, 6, 6), method="exact", fold_bn=True) == pytest.approx(expect, rel=1e-12)


def test_folded_grouped_conv_matches_dense():
    """Input-channel folding of a grouped kernel (the index map of the scale over groups)."""
    from toeplitznet.regularizers.lipschitz import _folded_kernel

    torch.manual_seed(5)
    conv = nn.Conv2d(4, 6, 3, padding=1, groups=2, bias=False).double()
    bn = _randomize_bn(nn.Sequential(nn.BatchNorm2d(4).double()), seed=6)[0].eval()
    w = _folded_kernel(conv, bn, "in")
    s = _scale(bn)
    x = torch.randn(2, 4, 5, 5, dtype=torch.float64)
    with torch.no_grad():
        got = nn.functional.conv2d(x, w, padding=1, groups=2)
        ref = conv(x * s[None, :, None, None])
    assert torch.allclose(got, ref, atol=1e-12)


def _dense_head(net):
    """sigma_1 of x -> linear(pool(D x)) (no activation, no bias) on the 2x2 map of an 8x8 input, densely."""
    s = _scale(net.bn)
    c = net.bn.num_features
    h = w = 2  # 8 -> 8 -> 4 -> 2 after the two stride-2 stages

    def head_map(e):
        return net.linear(net.pool(e * s[None, :, None, None]).flatten(1)) - net.linear.bias

    return _sigma1(_dense(head_map, (c, h, w)))


def _hand_composition(net, rows, head, act):
    """stem * prod_blocks (act^2 * folded conv1 * folded conv2 + shortcut) * act * head, from layer_bounds rows."""
    by = {r["name"]: r for r in rows}
    prod = by["conv1"]["bound"]
    for stage in ("layer1", "layer2", "layer3"):
        for i, blk in enumerate(getattr(net, stage)):
            short = by[f"{stage}.{i}.shortcut"]["bound"] if isinstance(blk.shortcut, nn.Conv2d) else 1.0
            f1, f2 = by[f"{stage}.{i}.conv1"]["folded_bound"], by[f"{stage}.{i}.conv2"]["folded_bound"]
            prod *= act * act * f1 * f2 + short
    return prod * act * head


def test_head_is_the_dense_spectral_norm(wrn):
    rows = layer_bounds(wrn, SHAPE, method="exact", fold_bn=True)
    head = next(r for r in rows if r["kind"] == "head")
    dense = _dense_head(wrn)
    assert head["bound"] == pytest.approx(dense, rel=1e-10)
    # it really is ||W D|| / sqrt(HW), below the unfolded ||W|| max|D|
    s = _scale(wrn.bn)
    assert head["bound"] == pytest.approx(_sigma1(wrn.linear.weight.detach() * s[None, :]) / 2, rel=1e-10)
    assert head["bound"] < _sigma1(wrn.linear.weight.detach()) * float(s.abs().max())
    # and the network bound is the hand composition of the folded rows
    expect = _hand_composition(wrn, rows, dense, 1.0)
    assert product_of_bounds(wrn, SHAPE, method="exact", fold_bn=True) == pytest.approx(expect, rel=1e-9)


def test_leaky_slope_enters_the_folded_bound():
    torch.manual_seed(7)
    m = _randomize_bn(wide_resnet(10, 1, in_channels=1, leaky_slope=-1.5).double(), seed=8).eval()
    rows = layer_bounds(m, SHAPE, method="exact", fold_bn=True)
    expect = _hand_composition(m, rows, _dense_head(m), 1.5)
    bound = product_of_bounds(m, SHAPE, method="exact", fold_bn=True)
    assert bound == pytest.approx(expect, rel=1e-9)
    assert _max_jacobian_sigma1(m, seed=11, draws=4, scaled=False) <= bound


def test_torchvision_resnet_folding():
    tvm = pytest.importorskip("torchvision.models")
    torch.manual_seed(9)
    net = _randomize_bn(tvm.resnet18(num_classes=5).double(), seed=10).eval()
    shape = (3, 16, 16)
    u = product_of_bounds(net, shape, strict=True)
    f = product_of_bounds(net, shape, fold_bn=True, strict=True)
    assert f < u
    rows = {r["name"]: r for r in layer_bounds(net, shape, fold_bn=True)}
    assert rows["layer2.0.downsample.0"]["folded_bn"] == "layer2.0.downsample.1"
    # output-channel folding of the stem: D K is bn(conv(x)) - bn(conv(0)), densely, against LipBound-free exact
    ex = {r["name"]: r for r in layer_bounds(net, shape, method="exact", fold_bn=True)}
    dense = _dense(lambda e: net.bn1(net.conv1(e)) - net.bn1(net.conv1(torch.zeros_like(e[:1]))), shape)
    assert ex["conv1"]["folded_bound"] == pytest.approx(_sigma1(dense), rel=1e-8)
    # a block conv (64 channels on the 4x4 map after the stem and max pooling): D K densely
    blk = net.layer1[0]
    dense = _dense(lambda e: blk.bn1(blk.conv1(e)) - blk.bn1(blk.conv1(torch.zeros_like(e[:1]))), (64, 4, 4))
    assert ex["layer1.0.conv1"]["folded_bound"] == pytest.approx(_sigma1(dense), rel=1e-8)
    x = torch.rand(1, *shape, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(lambda v: net(v), x)
    assert _sigma1(jac.reshape(5, -1)) <= product_of_bounds(net, shape, method="exact", fold_bn=True)


def test_certified_eval_reports_the_folded_certificate():
    torch.manual_seed(0)
    m = _randomize_bn(wide_resnet(10, 1, in_channels=1)).eval()
    x, y = torch.rand(12, *SHAPE), torch.randint(0, 10, (12,))
    with torch.no_grad():
        y[:6] = m(x[:6]).argmax(1)  # some correctly classified examples
    data = ((None, None), (x, y))
    # a radius the folded bound certifies for the best example: max_i margin_i / (sqrt2 L_folded), by hand
    with torch.no_grad():
        logits = m(x).double()
    correct = logits.argmax(1) == y
    top2 = logits.topk(2, dim=1).values
    best_margin = float((top2[:, 0] - top2[:, 1])[correct].max())
    r_star = 0.999 * best_margin / (math.sqrt(2) * product_of_bounds(m, SHAPE, fold_bn=True))
    radii = [0.0, r_star / 10, r_star, 1e-3]
    spec = {"radii": radii, "input_shape": list(SHAPE), "examples": None, "batch_size": 5}
    out = robust_eval.certified(m, data, spec, "cpu")
    for k in ("product_of_bounds", "natural_accuracy", "certified_accuracy", "n", "product_of_bounds_folded",
              "certified_accuracy_folded"):
        assert k in out
    assert out["product_of_bounds"] == pytest.approx(product_of_bounds(m, SHAPE), rel=1e-12)
    assert out["product_of_bounds_folded"] == pytest.approx(product_of_bounds(m, SHAPE, fold_bn=True), rel=1e-12)
    assert out["product_of_bounds_folded"] < out["product_of_bounds"]
    assert set(out["certified_accuracy_folded"]) == set(out["certified_accuracy"])
    for r, acc in out["certified_accuracy"].items():
        assert out["certified_accuracy_folded"][r] >= acc
    # natural_accuracy is a float32 mean
    assert out["certified_accuracy_folded"]["0"] == out["certified_accuracy"]["0"] <= out["natural_accuracy"] + 1e-6
    assert any(out["certified_accuracy_folded"][r] > out["certified_accuracy"][r] for r in out["certified_accuracy"])
    # the spec key switches the main numbers to the folded bound
    on = robust_eval.certified(m, data, dict(spec, fold_bn=True), "cpu")
    assert on["product_of_bounds"] == pytest.approx(out["product_of_bounds_folded"], rel=1e-12)
    assert on["certified_accuracy"] == out["certified_accuracy_folded"]


def test_folding_probe_leaves_the_rng_alone(wrn):
    """The pooling-size probe is a forward pass; a model drawing noise in forward must not shift later draws."""
    from toeplitznet.robust.noise import NoisyInput

    noisy = NoisyInput(wrn, "gaussian", 0.1)
    torch.manual_seed(123)
    ref = torch.rand(3)
    torch.manual_seed(123)
    folded = product_of_bounds(noisy, SHAPE, fold_bn=True)  # LipBound path: the only forward pass is the probe
    assert torch.equal(torch.rand(3), ref)
    assert folded == pytest.approx(product_of_bounds(wrn, SHAPE, fold_bn=True), rel=1e-12)


def test_wide_resnet_without_batch_norms():
    """norm='none' (not in the thesis): no BN module, the regulariser has no BN term, and the product of exact
    conv norms is the hand composition of dense per-layer spectral norms, above every input Jacobian's sigma_1."""
    from torch.nn.modules.batchnorm import _BatchNorm

    from toeplitznet.regularizers import LipschitzRegularizer

    torch.manual_seed(0)
    net = wide_resnet(10, 1, in_channels=1, norm="none", bias=True).double().eval()
    assert not any(isinstance(m, _BatchNorm) for m in net.modules())
    assert LipschitzRegularizer(net, c1=0.0, c2=1.0).bn_bounds().numel() == 0
    with pytest.raises(ValueError, match="norm must be one of"):
        wide_resnet(10, 1, norm="layer")
    # dense spectral norms of every conv at its input size (8x8 -> 8x8 -> 4x4 -> 2x2), biases removed
    sizes = {"conv1": (1, 8, 8), "layer1.0.conv1": (16, 8, 8), "layer1.0.conv2": (16, 8, 8),
             "layer2.0.conv1": (16, 8, 8), "layer2.0.conv2": (32, 8, 8), "layer2.0.shortcut": (16, 8, 8),
             "layer3.0.conv1": (32, 4, 4), "layer3.0.conv2": (64, 4, 4), "layer3.0.shortcut": (32, 4, 4)}
    mods = dict(net.named_modules())

    def linear_part(conv):
        return lambda e: conv(e) - (conv.bias[None, :, None, None] if conv.bias is not None else 0)

    dense = {n: _sigma1(_dense(linear_part(mods[n]), s)) for n, s in sizes.items()}
    rows = {r["name"]: r for r in layer_bounds(net, SHAPE, method="exact", fold_bn=True)}
    for n, v in dense.items():
        assert rows[n]["bound"] == pytest.approx(v, rel=1e-6), n
    expect = dense["conv1"]
    for st in ("layer1", "layer2", "layer3"):
        short = dense.get(f"{st}.0.shortcut", 1.0)
        expect *= dense[f"{st}.0.conv1"] * dense[f"{st}.0.conv2"] + short
    expect *= _sigma1(net.linear.weight.detach()) / 2          # global average pooling of a 2x2 map: 1/sqrt(4)
    got = product_of_bounds(net, SHAPE, method="exact", fold_bn=True)
    assert got == pytest.approx(expect, rel=1e-6)
    best = _max_jacobian_sigma1(net, seed=2, draws=8)
    assert 0 < best <= got
