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


def _ddp_spec(out_dir, nproc):
    """A Section 5.5 run spec (WRN-10-1, AT + LipReg, augmentation) on 64 random 28x28 images."""
    return {"id": "ddp_probe", "inputs": {}, "checkpoint_dir": str(out_dir),
            "model": {"family": "wide_resnet", "depth": 10, "widen": 1, "num_classes": 10, "in_channels": 1,
                      "normalize": "fashion_mnist", "seed": 0},
            "data": {"dataset": "fashion_mnist", "source": "fashion_mnist", "features": None, "flatten": False,
                     "train_subset": None, "test_subset": None, "eval_batch_size": 16},
            "train": {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": False, "weight_decay": 0.0,
                      "schedule": {"type": "constant"}, "epochs": 2, "batch_size": 16, "seed": 0,
                      "label_smoothing": 0.0, "ema_decay": None, "eval_every": 10**6, "log_every": 1,
                      "device": "cpu", "progress": False, "amp": "none", "channels_last": False, "drop_last": True},
            "robust": {"attack": {"norm": "linf", "eps": 0.1, "step": 0.05, "steps": 2, "random_start": True,
                                  "labels": "labels", "mode": "eval"},
                       "regularizer": {"method": "lipbound", "c1": 1e-4, "c1_form": "norms", "c2": 0.008,
                                       "samples": 10, "grid": "thesis", "outer": "cout", "power_iters": 10,
                                       "input_shape": [1, 28, 28]},
                       "augment": {"crop_padding": 2, "flip": True}, "nproc": nproc},
            "labels": {}, "count": {}}


@pytest.mark.slow
def test_train_run_code_on_two_processes(tmp_path):
    """rule train_run's code with nproc = 2 (torchrun, gloo): rank 0's checkpoint and metrics come back to the
    parent, the regulariser and the attack ran on both ranks, and a second launch gives the same weights."""
    import numpy as np

    from toeplitznet.data import datasets as ds
    from toeplitznet.models import count_parameters
    from toeplitznet.runs import train_job

    data = tmp_path / "fashion_mnist"
    data.mkdir()
    rng = np.random.default_rng(0)
    for name, arr in (("train-images-idx3-ubyte.gz", rng.integers(0, 256, (64, 28, 28), dtype=np.uint8)),
                      ("train-labels-idx1-ubyte.gz", rng.integers(0, 10, 64, dtype=np.uint8)),
                      ("t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (16, 28, 28), dtype=np.uint8)),
                      ("t10k-labels-idx1-ubyte.gz", rng.integers(0, 10, 16, dtype=np.uint8))):
        ds.write_idx(data / name, arr)
    inputs = {"manifest": str(tmp_path / "MANIFEST.json")}  # the data root is the manifest's folder
    weights = []
    for k in range(2):
        p = _ddp_spec(tmp_path / f"run{k}", 2)
        model, metrics, thesis_count, n_train, n_test = train_job._fit_distributed(p, inputs, 0, 2)
        assert (n_train, n_test) == (64, 16) and thesis_count == count_parameters(model)
        assert metrics["run"]["world_size"] == 2 and metrics["run"]["backend"] == "gloo"
        assert metrics["steps"] == 2 * 4                       # 64 / global batch 16, 2 epochs
        hist = metrics["history"]
        assert len(hist) == 2 and all(h["train"]["n"] == 64 for h in hist)
        assert all(h["train"]["extra_loss"] is not None and h["train"]["extra_loss"] != 0 for h in hist)
        weights.append({k2: v.clone() for k2, v in model.state_dict().items()})

    from toeplitznet.models import build_model

    init = build_model(_ddp_spec(tmp_path, 2)["model"]).state_dict()
    moved = [k2 for k2 in init if init[k2].is_floating_point() and not torch.equal(init[k2], weights[0][k2])]
    assert moved, "training changed no weight"
    for k2 in weights[0]:                                 # seeded permutation, augmentation and attack draws
        assert torch.equal(weights[0][k2], weights[1][k2]), k2
