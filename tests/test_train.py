"""Tests of toeplitznet.train against independently known facts.

Tiny models on tiny synthetic data: the whole file runs in a few seconds on CPU.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from toeplitznet.train import (ConfigMismatchError, EpochShuffleSampler, LRSchedule, ModelEMA,
                               TrainConfig, Trainer, TrainingDivergedError, deterministic_view,
                               evaluate, schedule_report, thesis_preset, train)

TESTS_DIR = Path(__file__).resolve().parent
SRC_DIR = TESTS_DIR.parent / "src"


# ----------------------------------------------------------------------------- fixtures
def _data(n_train=400, n_test=200, d=10, seed=0):
    """Linearly separable binary data: y = [x . w* > 0]."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n_train + n_test, d, generator=g)
    w = torch.randn(d, generator=g)
    y = (x @ w > 0).long()
    train_set = TensorDataset(x[:n_train], y[:n_train])
    test_loader = DataLoader(TensorDataset(x[n_train:], y[n_train:]), batch_size=100)
    return train_set, test_loader


def _mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 2))


# a config that exercises dropout (RNG), EMA, momentum and a schedule boundary
RESUME_CFG = {"epochs": 3, "batch_size": 50, "optimizer": "sgd", "lr": 0.05, "momentum": 0.9,
              "schedule": {"type": "multistep", "milestones": [2], "gamma": 0.5},
              "ema_decay": 0.9, "log_every": 3, "seed": 7, "progress": False}


class _Crash(Exception):
    pass


def _run(out_dir, cfg=RESUME_CFG, hooks=None, model_seed=0, resume="auto"):
    train_set, test_loader = _data()
    model = _mlp(model_seed)
    metrics = train(model, train_set, {"test": test_loader}, cfg, out_dir, hooks=hooks, resume=resume)
    return model, metrics


def _crash_after_epoch(n):
    def on_epoch_end(trainer, record):
        if record["epoch"] == n:
            raise _Crash(f"simulated crash after epoch {n}")
    return {"on_epoch_end": on_epoch_end}


def _assert_same_weights(m1, m2):
    s1, s2 = m1.state_dict(), m2.state_dict()
    assert s1.keys() == s2.keys()
    for k in s1:
        assert torch.equal(s1[k], s2[k]), k


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    """The uninterrupted 3-epoch run (directory A)."""
    out = tmp_path_factory.mktemp("A")
    model, metrics = _run(out)
    return out, model, metrics


# ----------------------------------------------------------------------------- schedules
def test_piecewise_schedule_step_unit():
    s = LRSchedule({"type": "piecewise", "boundaries": [3, 5], "values": [1.0, 0.5, 0.1]},
                   base_lr=1.0, steps_per_epoch=10, batch_size=1)
    # "after 3 steps": updates 0,1,2 use 1.0; updates 3,4 use 0.5; from update 5 on 0.1
    assert [s(k) for k in range(8)] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.1, 0.1, 0.1]


def test_piecewise_schedule_epoch_unit():
    s = LRSchedule({"type": "piecewise", "boundaries": [1, 2], "values": [0.3, 0.2, 0.1], "unit": "epoch"},
                   base_lr=0.3, steps_per_epoch=2, batch_size=1)
    assert [s(k) for k in range(6)] == [0.3, 0.3, 0.2, 0.2, 0.1, 0.1]


def test_multistep_schedule():
    s = LRSchedule({"type": "multistep", "milestones": [2, 4], "gamma": 0.1},
                   base_lr=1.0, steps_per_epoch=3, batch_size=1)
    expected = [1.0] * 6 + [0.1] * 6 + [0.01] * 3  # epochs 0-1, 2-3, 4
    got = [s(k) for k in range(15)]
    assert got == pytest.approx(expected, rel=1e-12)


def test_exponential_schedule():
    # YouTube-8M style: lr 2e-4, x0.8 every 4M examples; batch 1000 -> a decay every 4000 updates
    s = LRSchedule({"type": "exponential", "decay": 0.8, "every_examples": 4_000_000},
                   base_lr=2e-4, steps_per_epoch=100, batch_size=1000)
    assert s(0) == 2e-4 and s(3999) == 2e-4
    assert s(4000) == pytest.approx(1.6e-4, rel=1e-12)
    assert s(7999) == pytest.approx(1.6e-4, rel=1e-12)
    assert s(8000) == pytest.approx(1.28e-4, rel=1e-12)
    rep = s.report(total_steps=9000)
    assert rep["reached"] == [4_000_000, 8_000_000] and rep["reached_steps"] == [4000, 8000]
    smooth = LRSchedule({"type": "exponential", "decay": 0.8, "every_examples": 4_000_000,
                         "staircase": False}, base_lr=2e-4, steps_per_epoch=100, batch_size=1000)
    assert smooth(2000) == pytest.approx(2e-4 * math.sqrt(0.8), rel=1e-12)


def test_thesis_schedule_boundaries_reached():
    # Ch. 4: 200 epochs x (50000 / 200 = 250 steps) = 50000 steps; boundaries 40K, 60K, 80K
    rep = schedule_report(thesis_preset("ch4_cifar10"), steps_per_epoch=250)
    assert rep["total_steps"] == 50_000
    assert rep["reached"] == [40_000]
    assert rep["not_reached"] == [60_000, 80_000]
    assert rep["lr_last"] == 2.5e-5
    # Ch. 5 CIFAR: milestones at epochs 60, 120, 160 of 200 are all reached
    rep5 = schedule_report(thesis_preset("ch5_cifar_wrn"), steps_per_epoch=250)
    assert rep5["reached"] == [60, 120, 160] and rep5["not_reached"] == []
    assert rep5["lr_last"] == pytest.approx(1e-4, rel=1e-12)
    # App. C: batch 400 -> 125 steps/epoch x 200 = 25000 steps > 20000
    repc = schedule_report(thesis_preset("appC_cifar_wrn"), steps_per_epoch=125)
    assert repc["reached"] == [7500, 15000, 20000]
    # a boundary exactly at the last step is not reached (no update used the new value)
    assert LRSchedule({"type": "piecewise", "boundaries": [10], "values": [1.0, 0.5]}, 1.0, 5, 1
                      ).report(10)["reached"] == []


def test_trainer_applies_schedule_and_reports_boundaries(tmp_path):
    train_set, test_loader = _data(n_train=200)
    lrs = []
    cfg = {"epochs": 2, "batch_size": 50, "optimizer": "sgd", "lr": 0.1, "progress": False,
           "schedule": {"type": "piecewise", "boundaries": [3, 100], "values": [0.1, 0.01, 0.001]}}
    hooks = {"on_step_end": lambda tr, step, loss: lrs.append(tr.optimizer.param_groups[0]["lr"])}
    m = train(_mlp(), train_set, {"test": test_loader}, cfg, tmp_path, hooks=hooks)
    assert lrs == [0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.01, 0.01]
    assert m["steps"] == 8 and m["steps_per_epoch"] == 4
    assert m["schedule_boundaries_reached"] == [3]
    assert m["schedule_boundaries_not_reached"] == [100]


# ----------------------------------------------------------------------------- learning
def test_linear_model_learns_separable_data(tmp_path):
    train_set, test_loader = _data(n_train=1000, n_test=500)
    torch.manual_seed(0)
    model = nn.Linear(10, 2)
    m = train(model, train_set, {"test": test_loader},
              {"epochs": 10, "batch_size": 50, "lr": 0.05, "progress": False}, tmp_path)
    assert m["final_eval"]["test"]["accuracy"] > 0.95
    assert m["final_eval"]["test"]["n"] == 500
    assert m["history"][-1]["train"]["loss"] < m["history"][0]["train"]["loss"]
    assert m["n_params"] == 22 and m["epochs_completed"] == 10 and m["steps"] == 200
    assert m["step_trace"]["step"][:3] == [50, 100, 150]  # default log_every=50
    assert (tmp_path / "metrics.json").exists() and (tmp_path / "final.json").exists()


def test_evaluate_hand_computed():
    model = nn.Linear(1, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0], [-1.0]]))  # logits (x, -x)
    x = torch.tensor([[1.0], [2.0], [-1.0], [3.0]])
    y = torch.tensor([0, 0, 0, 1])
    res = evaluate(model, DataLoader(TensorDataset(x, y), batch_size=3), "cpu")
    # predictions 0,0,1,0 -> 2 of 4 correct; CE(label 0) = log(1+e^{-2x}), CE(label 1) = log(1+e^{2x})
    expected = (math.log1p(math.exp(-2)) + math.log1p(math.exp(-4)) + math.log1p(math.exp(2))
                + math.log1p(math.exp(6))) / 4
    assert res["accuracy"] == 0.5 and res["n"] == 4
    assert res["loss"] == pytest.approx(expected, rel=1e-6)


def test_ema_hand_computed():
    model = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)
    ema = ModelEMA(model, decay=0.5)
    with torch.no_grad():
        model.weight.fill_(1.0)
    ema.update(model)
    assert ema.module.weight.item() == 0.5
    ema.update(model)
    assert ema.module.weight.item() == 0.75


def test_epoch_order_is_pure_function_of_seed_and_epoch():
    s = EpochShuffleSampler(10, seed=3)
    s.set_epoch(2)
    expected = torch.randperm(10, generator=torch.Generator().manual_seed(3 * 1000003 + 2)).tolist()
    assert list(s) == expected
    s.set_epoch(1)
    assert list(s) != expected
    s.set_epoch(2)
    assert list(s) == expected


# ----------------------------------------------------------------------------- resume
def test_resume_after_crash_is_bit_identical(reference_run, tmp_path):
    _, model_a, metrics_a = reference_run
    with pytest.raises(_Crash):
        _run(tmp_path, hooks=_crash_after_epoch(1))
    ck = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert ck["epoch"] == 1 and ck["global_step"] == 8
    assert not (tmp_path / "final.json").exists()
    steps = []
    model_b, metrics_b = _run(tmp_path, hooks={"on_step_end": lambda t, s, l: steps.append(s)},
                              model_seed=123)  # different init: must be overwritten by the resume
    assert steps == list(range(9, 25))  # only epochs 2 and 3 were trained
    _assert_same_weights(model_a, model_b)
    assert deterministic_view(metrics_a) == deterministic_view(metrics_b)
    assert metrics_b["run"]["log"][-1]["resumed_at_epoch"] == 1
    # the EMA weights are part of the state too
    ema_a = torch.load(reference_run[0] / "checkpoint.pt", weights_only=True)["ema"]["module"]
    ema_b = torch.load(tmp_path / "checkpoint.pt", weights_only=True)["ema"]["module"]
    assert all(torch.equal(ema_a[k], ema_b[k]) for k in ema_a)


_KILL_SCRIPT = """
import os, signal, sys
sys.path[:0] = [{src!r}, {tests!r}]
import test_train as t
def on_step_end(trainer, step, loss):
    if step == {kill_step}:
        os.kill(os.getpid(), signal.SIGKILL)
t._run({out!r}, hooks={{"on_step_end": on_step_end}})
"""


def test_resume_after_sigkill_mid_epoch_is_bit_identical(reference_run, tmp_path):
    _, model_a, metrics_a = reference_run
    script = _KILL_SCRIPT.format(src=str(SRC_DIR), tests=str(TESTS_DIR), out=str(tmp_path),
                                 kill_step=11)  # 8 steps/epoch: step 11 is inside epoch 2
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(SRC_DIR)})
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    ck = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert ck["epoch"] == 1
    model_b, metrics_b = _run(tmp_path)
    _assert_same_weights(model_a, model_b)
    assert deterministic_view(metrics_a) == deterministic_view(metrics_b)


def test_finished_run_returns_immediately(reference_run):
    out, model_a, metrics_a = reference_run
    steps = []
    model_c, metrics_c = _run(out, hooks={"on_step_end": lambda t, s, l: steps.append(s)}, model_seed=99)
    assert steps == []
    assert metrics_c == metrics_a  # the stored final.json, timings included
    _assert_same_weights(model_a, model_c)  # final weights are loaded into the model


def test_changed_config_with_checkpoint_raises(tmp_path):
    with pytest.raises(_Crash):
        _run(tmp_path, hooks=_crash_after_epoch(1))
    changed = {**RESUME_CFG, "lr": 0.1}
    with pytest.raises(ConfigMismatchError, match=r"lr: 0\.05 -> 0\.1"):
        _run(tmp_path, cfg=changed)
    # cosmetic keys are not part of the identity
    assert TrainConfig.from_dict({**RESUME_CFG, "device": "cpu", "progress": True}).hash() == \
        TrainConfig.from_dict(RESUME_CFG).hash()
    # a different architecture is detected too
    train_set, test_loader = _data()
    with pytest.raises(ConfigMismatchError, match="model"):
        train(nn.Sequential(nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 2)), train_set,
              {"test": test_loader}, RESUME_CFG, tmp_path)
    # resume="never" starts over
    _, m = _run(tmp_path, cfg=changed, resume="never")
    assert m["epochs_completed"] == 3 and "resumed_at_epoch" not in m["run"]["log"][-1]
    # and a finished run with another config is refused as well
    with pytest.raises(ConfigMismatchError):
        _run(tmp_path, cfg=RESUME_CFG)


def test_checkpoint_write_is_atomic(reference_run, tmp_path, monkeypatch):
    _, model_a, metrics_a = reference_run
    with pytest.raises(_Crash):
        _run(tmp_path, hooks=_crash_after_epoch(1))
    real_save = torch.save

    def partial_save(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 truncated checkpoint")  # starts like a zip, then dies
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(torch, "save", partial_save)
    with pytest.raises(OSError, match="simulated"):
        _run(tmp_path)  # trains epoch 2, then fails while writing its checkpoint
    monkeypatch.setattr(torch, "save", real_save)
    ck = torch.load(tmp_path / "checkpoint.pt", weights_only=True)  # previous one, intact
    assert ck["epoch"] == 1
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []
    # and the run still completes bit-identically
    model_b, metrics_b = _run(tmp_path)
    _assert_same_weights(model_a, model_b)
    assert deterministic_view(metrics_a) == deterministic_view(metrics_b)


def test_corrupt_latest_checkpoint_falls_back_to_previous(tmp_path):
    with pytest.raises(_Crash):
        _run(tmp_path, hooks=_crash_after_epoch(2))
    assert torch.load(tmp_path / "checkpoint_prev.pt", weights_only=True)["epoch"] == 1
    (tmp_path / "checkpoint.pt").write_bytes(b"garbage")
    steps = []
    _run(tmp_path, hooks={"on_step_end": lambda t, s, l: steps.append(s)})
    assert steps[0] == 9  # resumed after epoch 1
    assert not (tmp_path / "checkpoint_prev.pt").exists()  # pruned once finished


# ----------------------------------------------------------------------------- divergence
class _NaNAt(nn.Module):
    """Linear model whose k-th training forward pass returns NaN."""

    def __init__(self, k):
        super().__init__()
        self.lin = nn.Linear(10, 2)
        self.k, self.calls = k, 0

    def forward(self, x):
        out = self.lin(x)
        if self.training:
            self.calls += 1
            if self.calls == self.k:
                out = out * float("nan")
        return out


def test_nan_loss_raises_diverged_error(tmp_path):
    train_set, test_loader = _data(n_train=200)
    torch.manual_seed(0)
    cfg = {"epochs": 3, "batch_size": 50, "lr": 0.01, "progress": False}
    with pytest.raises(TrainingDivergedError, match=r"at step 7 \(epoch 2, lr=0\.01\)") as ei:
        train(_NaNAt(7), train_set, {"test": test_loader}, cfg, tmp_path)
    assert ei.value.step == 7 and ei.value.epoch == 2 and math.isnan(ei.value.loss)
    import json
    marker = json.loads((tmp_path / "diverged.json").read_text())
    assert marker["step"] == 7 and marker["last_checkpoint_epoch"] == 1
    assert json.loads((tmp_path / "metrics.json").read_text())["status"] == "diverged"


def test_huge_lr_diverges(tmp_path):
    train_set, _ = _data(n_train=200)
    torch.manual_seed(0)
    cfg = {"epochs": 20, "batch_size": 50, "optimizer": "sgd", "lr": 1e30, "progress": False}
    with pytest.raises(TrainingDivergedError, match=r"non-finite loss .* at step \d+") as ei:
        train(nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 2)), train_set, {}, cfg, tmp_path)
    assert ei.value.lr == 1e30


# ----------------------------------------------------------------------------- config
@pytest.mark.parametrize("bad, key", [
    ({"epochs": -1}, "epochs"),
    ({"epochs": 0}, "epochs"),
    ({"optimizer": "adagrad"}, "optimizer"),
    ({"learning_rate": 0.1}, "learning_rate"),
    ({"lr": 0}, "lr"),
    ({"batch_size": 0}, "batch_size"),
    ({"ema_decay": 1.5}, "ema_decay"),
    ({"loss": "hinge"}, "loss"),
    ({"schedule": {"type": "cosine"}}, "schedule.type"),
    ({"schedule": {"type": "piecewise", "boundaries": [10], "values": [0.1]}, "lr": 0.1}, "schedule.values"),
    ({"schedule": {"type": "piecewise", "boundaries": [20, 10], "values": [0.1, 0.2, 0.3]}, "lr": 0.1},
     "schedule.boundaries"),
    ({"schedule": {"type": "multistep", "milestones": [5], "gama": 0.1}}, "schedule.gama"),
    ({"nesterov": True, "optimizer": "sgd"}, "nesterov"),
])
def test_invalid_config_names_the_key(bad, key):
    with pytest.raises(ValueError, match=f"'{key}'"):
        TrainConfig.from_dict(bad)


def test_config_accepts_yaml_style_values():
    cfg = TrainConfig.from_dict({"schedule": {"type": "piecewise", "boundaries": [40000],
                                              "values": ["5e-5", "2.5e-5"]}})
    assert cfg.lr == 5e-5 and cfg.schedule["values"] == [5e-5, 2.5e-5] and cfg.schedule["unit"] == "step"


def test_loader_batch_size_must_match_config(tmp_path):
    train_set, _ = _data()
    with pytest.raises(ValueError, match="'batch_size'"):
        Trainer(_mlp(), DataLoader(train_set, batch_size=32), {}, {"batch_size": 50}, tmp_path)


# ----------------------------------------------------------------------------- hooks & misc
def test_hooks_and_max_steps(tmp_path):
    train_set, test_loader = _data(n_train=400)
    seen = {"batches": 0}

    def on_batch(model, x, y):
        seen["batches"] += 1
        model.eval()  # e.g. an attack; the trainer must switch back to train mode
        return x + 0.0, y

    def extra_loss(model):
        assert model.training
        return 0.01 * sum((p ** 2).sum() for p in model.parameters())

    m = train(_mlp(), train_set, {"test": test_loader},
              {"epochs": 3, "batch_size": 50, "max_steps": 10, "progress": False}, tmp_path,
              hooks={"on_batch": on_batch, "extra_loss": extra_loss})
    assert seen["batches"] == 10 and m["steps"] == 10
    assert m["epochs_completed"] == 2 and m["history"][-1]["train"]["n"] == 100
    assert m["history"][-1]["train"]["extra_loss"] > 0
    assert "test" in m["final_eval"]
    with pytest.raises(ValueError, match="unknown hook"):
        Trainer(_mlp(), train_set, {}, {"batch_size": 50}, tmp_path / "x", hooks={"on_bach": on_batch})


@pytest.mark.parametrize("with_generator", [False, True])
def test_mse_loss_and_plain_shuffled_loader_resume(tmp_path, with_generator):
    """A plain shuffle=True DataLoader is also resumed bit-identically: its
    RandomSampler draws from the global RNG or from the loader's generator,
    both re-seeded every epoch."""
    train_set, test_loader = _data()
    cfg = {"epochs": 3, "batch_size": 50, "loss": "mse", "lr": 0.01, "progress": False}

    def run(out, hooks=None):
        model = _mlp()
        gen = torch.Generator().manual_seed(0) if with_generator else None
        return model, train(model, DataLoader(train_set, batch_size=50, shuffle=True, generator=gen),
                            {"test": test_loader}, cfg, out, hooks=hooks)

    model_a, m_a = run(tmp_path / "a")
    with pytest.raises(_Crash):
        run(tmp_path / "b", hooks=_crash_after_epoch(2))
    model_b, m_b = run(tmp_path / "b")
    _assert_same_weights(model_a, model_b)
    assert deterministic_view(m_a) == deterministic_view(m_b)
    assert 0 <= m_a["final_eval"]["test"]["accuracy"] <= 1


class _NoisyDataset(torch.utils.data.Dataset):
    """Random augmentation in __getitem__ (torch RNG of whichever process loads it)."""

    def __len__(self):
        return 12

    def __getitem__(self, i):
        return torch.full((2,), float(i)) + torch.rand(2), i


def test_worker_order_and_augmentation_depend_only_on_seed_and_epoch():
    from toeplitznet.train import make_train_loader
    from toeplitznet.train.seeding import seed_epoch

    loader = make_train_loader(_NoisyDataset(), batch_size=4, seed=5, num_workers=2)

    def epoch_batches(e):
        seed_epoch(loader, 5, e)
        return torch.cat([x for x, _ in loader])

    torch.manual_seed(1234)  # unrelated global state must not matter
    b1 = epoch_batches(1)
    epoch_batches(0)
    torch.manual_seed(99)
    assert torch.equal(b1, epoch_batches(1))
    assert not torch.equal(b1, epoch_batches(2))


def test_bf16_autocast_and_top_k(tmp_path):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(200, 10, generator=g), torch.randint(0, 5, (200,), generator=g)
    loader = DataLoader(TensorDataset(x, y), batch_size=100)
    torch.manual_seed(0)
    m = train(nn.Linear(10, 5), TensorDataset(x, y), {"val": loader},
              {"epochs": 1, "batch_size": 50, "amp": "bf16", "top_k": [5], "progress": False}, tmp_path)
    assert m["final_eval"]["val"]["top5"] == 1.0  # 5 classes: top-5 always right
    assert 0.0 <= m["final_eval"]["val"]["accuracy"] <= 1.0
