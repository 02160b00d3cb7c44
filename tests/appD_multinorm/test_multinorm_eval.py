"""The Appendix D evaluations (toeplitznet.runs.multinorm_eval) on a small trained model: per-example norms
against numpy on PGD run directly with the same seeds, accuracies and the union from the flags, the natural
accuracy by hand, EoT re-evaluation on a noisy model, the C&W records."""
import numpy as np
import pytest
import torch

from toeplitznet.attacks import pgd
from toeplitznet.runs import multinorm_eval as E
from toeplitznet.runs.evaluate import EVALUATIONS, _function


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    x = torch.rand(40, 1, 4, 4)
    y = (x.reshape(40, -1)[:, :8].sum(1) > x.reshape(40, -1)[:, 8:].sum(1)).long()
    m = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    opt = torch.optim.Adam(m.parameters(), 0.05)
    for _ in range(100):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(m(x), y).backward()
        opt.step()
    return m.eval(), ((None, None), (x, y))


SPEC = {"kind": "adv_norms", "examples": 24, "natural_examples": None, "batch_size": 10, "eot_samples": 1,
        "accounting": "reevaluate", "attacks": {
            "pgd_linf": {"norm": "linf", "eps": 0.1, "step": 0.04, "steps": 4, "restarts": 1},
            "pgd_l2": {"norm": "l2", "eps": 0.4, "step": 0.15, "steps": 4, "restarts": 1}}}


def test_kinds_are_registered():
    assert EVALUATIONS["adv_norms"].endswith("multinorm_eval:adv_norms")
    assert _function("adv_norms") is E.adv_norms and _function("cw_regions") is E.cw_regions


def test_norms_flags_and_accuracies_against_a_direct_computation(setup):
    model, data = setup
    out = E.adv_norms(model, data, SPEC, "cpu")
    x, y = data[1][0][:24], data[1][1][:24]
    assert out["n"] == 24 and out["n_natural"] == 40
    with torch.no_grad():
        assert out["natural_accuracy"] == pytest.approx(float((model(data[1][0]).argmax(1) == data[1][1]).float().mean()))
    flags = {}
    for name, a in SPEC["attacks"].items():
        robust, linf, l2 = [], [], []
        for b, i in enumerate(range(0, 24, 10)):
            res = pgd(model, x[i:i + 10], y[i:i + 10], norm=a["norm"], eps=a["eps"], step=a["step"], steps=a["steps"],
                      restarts=1, random_start=True, seed=b)
            d = (res.x_adv - x[i:i + 10]).numpy().reshape(len(res.x_adv), -1)
            linf += list(np.abs(d).max(1))
            l2 += list(np.sqrt((d.astype(np.float64) ** 2).sum(1)))
            with torch.no_grad():
                robust += list((model(res.x_adv).argmax(1) == y[i:i + 10]).numpy())
        rec = out["attacks"][name]
        np.testing.assert_allclose(rec["linf"], linf, rtol=1e-6)
        np.testing.assert_allclose(rec["l2"], l2, rtol=1e-5)
        assert rec["robust"] == [bool(v) for v in robust]
        assert rec["accuracy"] == pytest.approx(np.mean(robust))
        assert max(rec[a["norm"]]) <= a["eps"] + 1e-5                   # inside its own ball
        flags[name] = robust
    union = np.mean(np.logical_and(flags["pgd_linf"], flags["pgd_l2"]))
    assert out["union_accuracy"] == pytest.approx(union)
    # on a deterministic model the two accountings agree
    assert E.adv_norms(model, data, {**SPEC, "accounting": "any_iterate"}, "cpu")["attacks"]["pgd_l2"]["robust"] == \
        out["attacks"]["pgd_l2"]["robust"]
    with pytest.raises(ValueError, match="accounting"):
        E.adv_norms(model, data, {**SPEC, "accounting": "best"}, "cpu")


def test_noisy_models_are_evaluated_with_eot(setup):
    from toeplitznet.robust.noise import NoisyInput

    model, data = setup
    noisy = NoisyInput(model, "gaussian", 0.05).eval()
    torch.manual_seed(0)
    out = E.adv_norms(noisy, data, {**SPEC, "eot_samples": 4, "examples": 10}, "cpu")
    assert out["eot_samples"] == 4 and len(out["attacks"]["pgd_linf"]["robust"]) == 10
    # natural accuracy: the mean softmax of 4 draws, by hand with the same draws
    torch.manual_seed(11)
    nat, _ = E.natural_accuracy(noisy, data, {"natural_examples": 20, "eot_samples": 4, "batch_size": 40}, "cpu")
    torch.manual_seed(11)
    x, y = data[1][0][:20], data[1][1][:20]
    with torch.no_grad():
        p = sum(model(x + torch.randn(x.shape) * 0.05).softmax(1) for _ in range(4))
    assert nat == pytest.approx(float((p.argmax(1) == y).float().mean()))


def test_cw_records(setup):
    pytest.importorskip("foolbox")
    model, data = setup
    spec = {"kind": "cw_regions", "binary_search_steps": 4, "steps": 20, "lr": 0.05, "initial_const": 0.01,
            "confidence": 0.0, "examples": 12, "batch_size": 6}
    out = E.cw_regions(model, data, spec, "cpu")
    assert out["n"] == 12 and out["dim"] == 16 and any(out["found"])
    for f, a, b in zip(out["found"], out["linf"], out["l2"]):
        assert (a is None) == (not f) and (b is None) == (not f)
        if f:
            assert a <= b + 1e-7 <= 4 * a + 1e-6                       # ||d||_inf <= ||d||_2 <= sqrt(16) ||d||_inf
