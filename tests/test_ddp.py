"""Multi-process (DDP) training under torchrun: CPU processes with the gloo backend.

The fast tests check the rank split of the seeded permutation and the errors in one process; the
``slow`` ones start ``torchrun`` with 2 processes (about 8-10 s each on 2 cores) and compare weights
with a 1-process run and with an interrupted-and-resumed 2-process run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch.utils.data import TensorDataset

from toeplitznet.runs import ddp_worker
from toeplitznet.runs.ddp_worker import _SimulatedCrash, _toy_entry, launch_entry
from toeplitznet.train import (DistributedEpochSampler, DistributedLaunchError, TrainConfig, Trainer,
                               deterministic_view, distributed, make_train_loader)
from toeplitznet.train.seeding import seed_epoch

TESTS_DIR = Path(__file__).resolve().parent
ENTRY = "toeplitznet.runs.ddp_worker:_toy_entry"
EPOCHS = 3
LAUNCH_TIMEOUT_S = 180


def _launch(tmp, name, **kwargs):
    return launch_entry(2, ENTRY, {"epochs": EPOCHS, **kwargs}, payload_path=Path(tmp) / f"{name}.json",
                        timeout=LAUNCH_TIMEOUT_S)


def _weights(out_dir):
    return torch.load(Path(out_dir) / "weights.pt", weights_only=True)


def _final(out_dir):
    return json.loads((Path(out_dir) / "final.json").read_text())


def _checkpoint(out_dir):
    return torch.load(Path(out_dir) / "checkpoint.pt", weights_only=True)


def _assert_close(a, b, atol):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], rtol=0, atol=atol), (k, (a[k] - b[k]).abs().max().item())


# ------------------------------------------------------------------------------------ one process
@pytest.mark.parametrize("n, drop_last", [(101, False), (101, True), (96, False), (100, False)])
@pytest.mark.parametrize("world", [2, 4])
def test_rank_shards_are_the_single_process_batches(n, drop_last, world):
    """perm[rank::world], batched by B/world, gives at every update exactly the samples of the
    single-process batch B of the same epoch (the last partial batch and drop_last included)."""
    B, seed, epoch = 16, 3, 2
    data = TensorDataset(torch.arange(n))
    single = make_train_loader(data, B, seed, drop_last=drop_last)
    seed_epoch(single, seed, epoch)
    global_batches = [set(x.tolist()) for (x,) in single]
    shards = []
    for r in range(world):
        s = DistributedEpochSampler(n, seed, rank=r, world_size=world, batch_size=B, drop_last=drop_last)
        s.set_epoch(epoch)
        idx = list(s)
        assert len(idx) == len(s)
        shards.append([idx[i:i + B // world] for i in range(0, len(idx), B // world)])
        assert len(shards[-1]) == s.global_batches() == len(global_batches)
    for i, gb in enumerate(global_batches):
        parts = [set(sh[i]) for sh in shards]
        assert set().union(*parts) == gb and sum(map(len, parts)) == len(gb)
        assert DistributedEpochSampler(n, seed, rank=0, world_size=world, batch_size=B,
                                       drop_last=drop_last).global_batch_size(i) == len(gb)


def test_batch_size_not_divisible_by_world_size_names_the_key(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match=r"'batch_size'.*not divisible by the world size 4"):
        distributed.per_rank_batch_size(50, 4)
    assert distributed.per_rank_batch_size(48, 4) == 12
    with pytest.raises(ValueError, match="'batch_size'"):
        DistributedEpochSampler(100, rank=0, world_size=3, batch_size=16)
    # a last batch of 2 samples cannot feed 4 ranks (without drop_last)
    with pytest.raises(ValueError, match="'drop_last'"):
        DistributedEpochSampler(98, rank=0, world_size=4, batch_size=16)
    # the trainer checks it before any collective: pretend to be rank 0 of 3
    monkeypatch.setattr(distributed, "current", lambda: distributed.DistInfo(0, 3, 0, "gloo"))
    monkeypatch.setattr(distributed, "is_distributed", lambda: True)
    data = TensorDataset(torch.randn(30, 2), torch.zeros(30, dtype=torch.long))
    with pytest.raises(ValueError, match=r"invalid training config: 'batch_size': the global batch size 10"):
        Trainer(torch.nn.Linear(2, 2), data, {}, {"batch_size": 10, "device": "cpu"}, tmp_path)
    with pytest.raises(ValueError, match="EpochShuffleSampler"):
        Trainer(torch.nn.Linear(2, 2), torch.utils.data.DataLoader(data, batch_size=9), {},
                {"batch_size": 9, "device": "cpu"}, tmp_path)
    with pytest.raises(ValueError, match="'sync_bn': torch.nn.SyncBatchNorm needs CUDA"):
        Trainer(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2)), data, {},
                {"batch_size": 9, "device": "cpu", "sync_bn": True}, tmp_path)


def test_new_config_keys_keep_old_hashes():
    base = TrainConfig.from_dict({"optimizer": "sgd", "lr": 0.1, "momentum": 0.9})
    assert "sync_bn" not in base.hashed_dict() and "channels_last" not in base.hashed_dict()
    assert TrainConfig.from_dict({**base.to_dict(), "channels_last": True}).hash() == base.hash()
    assert TrainConfig.from_dict({**base.to_dict(), "sync_bn": True}).hash() != base.hash()
    for key in ("sync_bn", "channels_last"):
        with pytest.raises(ValueError, match=f"'{key}'"):
            TrainConfig.from_dict({key: "yes"})


def test_helpers_in_a_single_process(monkeypatch):
    for v in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(v, raising=False)
    info = distributed.init_from_env()
    assert (info.rank, info.world_size, info.backend, info.is_main) == (0, 1, None, True)
    assert distributed.world() == 1 and distributed.is_main() and not distributed.is_distributed()
    distributed.barrier()  # no-op
    assert distributed.broadcast_object({"a": 1}) == {"a": 1}
    distributed.cleanup()
    with pytest.raises(ValueError, match="package.module:function"):
        ddp_worker.load_entry("toeplitznet.runs.ddp_worker")
    assert ddp_worker.load_entry(ENTRY) is _toy_entry


def _fail_on_rank(fail_rank: int, message: str) -> None:
    """Entry of test_launch_names_the_failing_rank (imported by the workers from tests/)."""
    if distributed.rank() == fail_rank:
        raise ValueError(message)
    distributed.barrier()  # the other rank waits; torchrun stops it once fail_rank has died


# ------------------------------------------------------------------------------------ torchrun
@pytest.fixture(scope="module")
def two_process_run(tmp_path_factory):
    """The uninterrupted 2-process run (global batch 16 = 2 x 8)."""
    tmp = tmp_path_factory.mktemp("ddp_ref")
    out = tmp / "run"
    _launch(tmp, "ref", out_dir=str(out))
    return out


@pytest.mark.slow
def test_two_processes_match_one_process(two_process_run, tmp_path):
    """Same weights as one process with the global batch (MLP without batch norm or dropout, SGD with
    momentum, FGSM on_batch hook, L2 extra_loss, EMA, an unevenly split last batch of 5 = 3 + 2)."""
    m1 = _toy_entry(str(tmp_path / "single"), epochs=EPOCHS)
    w1, w2 = _weights(tmp_path / "single"), _weights(two_process_run)
    _assert_close(w1, w2, atol=1e-5)
    ck = _checkpoint(two_process_run)
    assert not any(k.startswith("module.") for k in ck["model"])  # the unwrapped model
    _assert_close(ck["ema"]["module"], _checkpoint(tmp_path / "single")["ema"]["module"], atol=1e-5)
    m2 = _final(two_process_run)
    assert m2["run"]["world_size"] == 2 and m2["run"]["backend"] == "gloo"
    assert m1["steps"] == m2["steps"] == EPOCHS * 7 and m1["steps_per_epoch"] == m2["steps_per_epoch"]
    assert m1["identity"] == m2["identity"] and m1["run_hash"] == m2["run_hash"]
    for r1, r2 in zip(m1["history"], m2["history"]):
        assert r1["train"]["n"] == r2["train"]["n"] == 101
        assert r2["train"]["loss"] == pytest.approx(r1["train"]["loss"], rel=1e-5)
        assert r2["train"]["extra_loss"] == pytest.approx(r1["train"]["extra_loss"], rel=1e-5)
        assert r2["eval"]["test"]["n"] == 64
        assert r2["eval"]["test"]["loss"] == pytest.approx(r1["eval"]["test"]["loss"], rel=1e-4)


@pytest.mark.slow
def test_two_process_crash_and_resume_is_identical(two_process_run, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(DistributedLaunchError, match="simulated crash on rank 0 after epoch 1") as ei:
        _launch(tmp_path, "crash", out_dir=str(out), crash_after_epoch=1, crash_rank=0)
    assert ei.value.rank == 0 and ei.value.exitcode == 1
    ck = _checkpoint(out)
    assert ck["epoch"] == 1 and ck["global_step"] == 7 and not (out / "final.json").exists()
    _launch(tmp_path, "resume", out_dir=str(out))
    a, b = _checkpoint(two_process_run), _checkpoint(out)
    for i, st in a["optimizer"]["state"].items():  # SGD momentum buffers
        assert torch.equal(st["momentum_buffer"], b["optimizer"]["state"][i]["momentum_buffer"])
    _assert_close(_weights(two_process_run), _weights(out), atol=0)
    _assert_close(a["ema"]["module"], b["ema"]["module"], atol=0)
    ma, mb = _final(two_process_run), _final(out)
    assert deterministic_view(ma) == deterministic_view(mb)
    assert mb["run"]["log"][-1]["resumed_at_epoch"] == 1 and mb["run"]["log"][-1]["world_size"] == 2


@pytest.mark.slow
def test_single_process_checkpoint_resumes_in_two_processes(two_process_run, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(_SimulatedCrash):
        _toy_entry(str(out), epochs=EPOCHS, crash_after_epoch=1)
    assert _checkpoint(out)["epoch"] == 1
    _launch(tmp_path, "resume", out_dir=str(out), as_loader=True)  # a make_train_loader loader, rebuilt per rank
    _assert_close(_weights(two_process_run), _weights(out), atol=1e-5)
    log = _final(out)["run"]["log"]
    assert [e["world_size"] for e in log] == [1, 2] and log[-1]["resumed_at_epoch"] == 1


@pytest.mark.slow
def test_launch_names_the_failing_rank(tmp_path):
    with pytest.raises(DistributedLaunchError, match=r"rank 1 \(local rank 1\) exited with code 1") as ei:
        launch_entry(2, "test_ddp:_fail_on_rank", {"fail_rank": 1, "message": "bad input on rank one"},
                     payload_path=tmp_path / "p.json", env={"PYTHONPATH": str(TESTS_DIR)},
                     timeout=LAUNCH_TIMEOUT_S)
    err = ei.value
    assert err.rank == 1 and err.exitcode == 1 and err.returncode != 0
    assert "ValueError: bad input on rank one" in str(err)
