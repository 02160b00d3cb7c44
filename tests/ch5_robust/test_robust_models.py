"""The networks of thesis Section 5.5: Wide ResNet (CIFAR, WRN-28-10, L6248) and ResNet-101 (ImageNet, L6262).
Parameter counts are computed by hand from the architectures, not by the code under test."""

import pytest
import torch
from torch import nn

from toeplitznet.models import MODEL_FAMILIES, InputNormalized, WideResNet, build_model, count_parameters, wide_resnet


def wrn_params_by_hand(depth, k, classes, bias=False, in_ch=3):
    """Stem conv3x3, per block BN(cin) conv3x3(cin->cout) BN(cout) conv3x3(cout->cout) [+ 1x1 shortcut], final
    BN and linear head."""
    n = (depth - 4) // 6
    b = 1 if bias else 0
    total = 9 * in_ch * 16 + b * 16
    cin = 16
    for cout in (16 * k, 32 * k, 64 * k):
        for _ in range(n):
            total += 2 * cin + (9 * cin * cout + b * cout) + 2 * cout + (9 * cout * cout + b * cout)
            if cin != cout:
                total += cin * cout + b * cout
            cin = cout
    return total + 2 * cin + cin * classes + classes


def resnet101_params_by_hand(classes=1000):
    total = 7 * 7 * 3 * 64 + 2 * 64
    cin = 64
    for planes, blocks in ((64, 3), (128, 4), (256, 23), (512, 3)):
        for i in range(blocks):
            total += cin * planes + 2 * planes + 9 * planes * planes + 2 * planes + planes * 4 * planes + 8 * planes
            if i == 0:
                total += cin * 4 * planes + 8 * planes
            cin = 4 * planes
    return total + cin * classes + classes


def test_wrn_28_10_parameter_count_and_forward():
    assert wrn_params_by_hand(28, 10, 10) == 36_479_194  # "36.5M", Zagoruyko & Komodakis Table 1
    model = build_model({"family": "wide_resnet", "depth": 28, "widen": 10, "seed": 0})
    assert count_parameters(model) == 36_479_194
    assert count_parameters(wide_resnet(28, 10, 10, bias=True)) == wrn_params_by_hand(28, 10, 10, bias=True) == 36_489_290
    model.eval()
    with torch.no_grad():
        out = model(torch.rand(2, 3, 32, 32))
    assert out.shape == (2, 10) and torch.isfinite(out).all()


@pytest.mark.parametrize("depth,k,classes", [(10, 1, 10), (16, 4, 100), (22, 2, 10)])
def test_small_wrn_counts_and_structure(depth, k, classes):
    model = wide_resnet(depth, k, classes)
    assert count_parameters(model) == wrn_params_by_hand(depth, k, classes)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    n = (depth - 4) // 6
    shortcuts = 3 if k > 1 else 2  # the first stage keeps 16 channels when k = 1
    assert len(convs) == 1 + 6 * n + shortcuts
    assert all(m.bias is None for m in convs)
    # feature maps 32 -> 32 -> 16 -> 8 before the global pooling
    sizes = []
    hooks = [getattr(model, f"layer{i}").register_forward_hook(lambda m, i, o: sizes.append(o.shape[-1]))
             for i in (1, 2, 3)]
    x = torch.rand(3, 3, 32, 32, requires_grad=True)
    out = model(x)
    for h in hooks:
        h.remove()
    assert sizes == [32, 16, 8] and out.shape == (3, classes)
    out.sum().backward()
    assert x.grad is not None and all(p.grad is not None for p in model.parameters())


def test_wrn_options():
    with pytest.raises(ValueError, match="6n"):
        wide_resnet(27, 1)
    m = wide_resnet(10, 1, dropout=0.3, leaky_slope=0.1)
    assert any(isinstance(x, nn.Dropout) and x.p == 0.3 for x in m.modules())
    assert m.leaky_slope == 0.1 and m.layer1[0].leaky_slope == 0.1
    # standard PyTorch BN momentum everywhere (the author's final BN had 0.9)
    assert all(b.momentum == 0.1 for b in m.modules() if isinstance(b, nn.BatchNorm2d))
    m.eval()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(m(x), m(x))  # dropout off in eval
        assert not torch.equal(m.train()(x), m.train()(x))  # and on in training


def test_normalisation_inside_the_model():
    torch.manual_seed(0)
    net = wide_resnet(10, 1, normalize="cifar10")
    assert isinstance(net, InputNormalized) and isinstance(net.net, WideResNet)
    from toeplitznet.data import MEAN, STD

    x = torch.rand(2, 3, 32, 32)
    mean = torch.tensor(MEAN["cifar10"]).view(1, 3, 1, 1)
    std = torch.tensor(STD["cifar10"]).view(1, 3, 1, 1)
    net.eval()
    with torch.no_grad():
        assert torch.allclose(net(x), net.net((x - mean) / std), atol=1e-6)
    # build_model: dataset gives the classes, normalize the standardisation, seed the weights
    spec = {"family": "wide_resnet", "depth": 10, "widen": 1, "dataset": "cifar100", "normalize": "cifar100", "seed": 3}
    a, b = build_model(spec), build_model(spec)
    assert isinstance(a, InputNormalized) and a.net.linear.out_features == 100
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert build_model({"family": "wide_resnet", "depth": 10, "widen": 1, "num_classes": 7}).linear.out_features == 7
    with pytest.raises(TypeError):
        build_model({"family": "wide_resnet", "depth": 10, "widen": 1, "width": 3})


def test_resnet101():
    assert {"wide_resnet", "resnet101"} <= set(MODEL_FAMILIES)
    model = build_model({"family": "resnet101", "seed": 0})
    assert isinstance(model, InputNormalized)  # ImageNet standardisation by default
    from toeplitznet.data import STD

    assert model.normalize.std.tolist() == pytest.approx(list(STD["imagenet"]))
    assert count_parameters(model) == resnet101_params_by_hand() == 44_549_160
    bare = build_model({"family": "resnet101", "normalize": None, "dataset": "cifar10"})
    assert not isinstance(bare, InputNormalized) and bare.fc.out_features == 10
    model.eval()
    with torch.no_grad():
        assert model(torch.rand(1, 3, 64, 64)).shape == (1, 1000)
