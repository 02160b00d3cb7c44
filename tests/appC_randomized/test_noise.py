"""Noise injection on the image (toeplitznet.robust.noise): stated sds (statistical tests against the
distributions' closed forms), fresh draws in eval mode, and the model-spec wrapper."""
import math

import pytest
import torch
from scipy import stats

from toeplitznet.models import build_model
from toeplitznet.regularizers import product_of_bounds
from toeplitznet.robust import NoisyInput, sample_noise, sd_on_unit_scale, uniform_sd


@pytest.mark.parametrize("dist, ref", [("gaussian", lambda sd: stats.norm(scale=sd)),
                                       ("laplace", lambda sd: stats.laplace(scale=sd / math.sqrt(2))),
                                       ("uniform", lambda sd: stats.uniform(-math.sqrt(3) * sd, 2 * math.sqrt(3) * sd))])
@pytest.mark.parametrize("sd", [0.05, 0.3])
def test_noise_has_the_stated_sd_and_law(dist, ref, sd):
    g = torch.Generator().manual_seed(0)
    n = sample_noise(torch.zeros(200_000, dtype=torch.float64), dist, sd, generator=g).numpy()
    # sd within 4 standard errors (the sample sd's standard error is about sd * sqrt((kurtosis - 1) / 4n))
    assert abs(n.std() - sd) < 4 * sd * math.sqrt(5 / (4 * len(n)))
    assert abs(n.mean()) < 4 * sd / math.sqrt(len(n))
    # and the law itself: Kolmogorov-Smirnov against scipy's distribution
    assert stats.kstest(n[:20_000], ref(sd).cdf).pvalue > 1e-3


def test_scale_conversions():
    assert sd_on_unit_scale(0.5) == 0.25 and sd_on_unit_scale(0.5, "unit") == 0.5
    assert uniform_sd(0.2) == pytest.approx(0.2 / math.sqrt(3))
    with pytest.raises(ValueError, match="scale"):
        sd_on_unit_scale(0.1, "bytes")
    with pytest.raises(ValueError, match="distribution"):
        sample_noise(torch.zeros(3), "cauchy", 0.1)


def test_fresh_noise_in_eval_mode_and_the_spec_wrapper():
    spec = {"family": "wide_resnet", "depth": 10, "widen": 1, "num_classes": 10, "in_channels": 1,
            "normalize": "fashion_mnist", "seed": 0}
    plain = build_model(spec).eval()
    noisy = build_model({**spec, "noise": {"dist": "gaussian", "sd": 0.1}}).eval()
    assert isinstance(noisy, NoisyInput) and noisy.sd == 0.1
    noisy.model.load_state_dict(plain.state_dict())
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        a, b = noisy(x), noisy(x)
        assert not torch.allclose(a, b)                         # a new draw per call, also in eval mode
        noisy.active = False
        assert torch.equal(noisy(x), plain(x))
        noisy.active = True
        torch.manual_seed(5)
        want = plain(x + 0.1 * torch.randn(x.shape))
        torch.manual_seed(5)
        assert torch.allclose(noisy(x), want, atol=1e-6)        # the noise is added to the image
    # a translation keeps the Lipschitz bound
    assert product_of_bounds(noisy, (1, 28, 28)) == pytest.approx(product_of_bounds(plain, (1, 28, 28)))
    with pytest.raises(TypeError, match="noise"):
        build_model({**spec, "noise": {"dist": "gaussian"}})
