"""The attack evaluations of rule evaluate_run (toeplitznet.runs.robust_eval) on a small Wide ResNet: the same
numbers as the library called directly, batching that does not change them, and certified ≤ natural."""
import pytest
import torch

from toeplitznet.attacks import pgd
from toeplitznet.models import build_model
from toeplitznet.runs import robust_eval


@pytest.fixture(scope="module")
def model_and_data():
    torch.manual_seed(0)
    m = build_model({"family": "wide_resnet", "depth": 10, "widen": 1, "num_classes": 10, "in_channels": 1,
                     "seed": 0}).eval()
    x, y = torch.rand(12, 1, 12, 12), torch.randint(0, 10, (12,))
    return m, ((None, None), (x, y))


def test_pgd_eval_is_the_attack_summed_over_batches(model_and_data):
    m, data = model_and_data
    spec = {"norm": "linf", "eps": 0.05, "step": 0.02, "steps": 3, "restarts": 1, "record": [1, 2],
            "examples": 10, "batch_size": 10}
    out = robust_eval.pgd(m, data, spec, "cpu")
    x, y = data[1][0][:10], data[1][1][:10]
    direct = pgd(m, x, y, norm="linf", eps=0.05, step=0.02, steps=3, restarts=1, record=[1, 2], seed=0)
    assert out["accuracy"] == pytest.approx(float(direct.robust.float().mean()))
    assert out["robust_at"]["1"] >= out["robust_at"]["2"] >= out["accuracy"]
    assert out["accuracy"] <= out["accuracy_at_max_loss"] and out["n"] == 10


def test_certified_is_at_most_natural(model_and_data):
    m, data = model_and_data
    out = robust_eval.certified(m, data, {"radii": [0.0, 0.1], "input_shape": [1, 12, 12], "examples": None,
                                          "batch_size": 5}, "cpu")
    assert out["product_of_bounds"] > 0
    assert out["certified_accuracy"]["0.1"] <= out["certified_accuracy"]["0"] <= out["natural_accuracy"]


def test_jacobian_eval_one_value_per_example(model_and_data):
    m, data = model_and_data
    out = robust_eval.jacobian_norm(m, data, {"norm": "spectral", "iters": 3, "examples": 4, "batch_size": 2}, "cpu")
    assert out["n"] == 4 and len(out["values"]) == 4 and all(v > 0 for v in out["values"])
