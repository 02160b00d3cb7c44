"""Run one training job on N processes (GPUs) under ``torchrun``.

Usage::

    python -m torch.distributed.run --standalone --nproc_per_node=8 \\
        -m toeplitznet.runs.ddp_worker payload.json

or, from Python, :func:`launch_entry` (which writes the payload and calls
:func:`toeplitznet.train.distributed.launch`). The payload is a JSON object::

    {"entry": "package.module:function", "kwargs": {...}}

Every process imports ``package.module``, calls
:func:`~toeplitznet.train.distributed.init_from_env` (process group, ``cuda:LOCAL_RANK``), then
``function(**kwargs)``, then :func:`~toeplitznet.train.distributed.cleanup`. The entry builds the
model and the data exactly as in a single process (same seeds on every rank) and calls
:func:`toeplitznet.train.train`, which detects the process group and trains with DDP; it should
write its own outputs on rank 0 only (``toeplitznet.train.is_main()``). Without ``torchrun`` the
same command runs the entry in one process.

:func:`_toy_entry` is a small example (a seeded MLP on seeded synthetic data) used by the tests.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

__all__ = ["load_entry", "run_payload", "write_payload", "launch_entry", "main"]

MODULE = "toeplitznet.runs.ddp_worker"


def load_entry(spec: str) -> Callable:
    """The callable named by ``"package.module:function"`` (``function`` may be dotted)."""
    if not isinstance(spec, str) or ":" not in spec:
        raise ValueError(f"entry must be 'package.module:function', got {spec!r}")
    mod_name, _, attr = spec.partition(":")
    obj: Any = importlib.import_module(mod_name)
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"entry {spec!r}: module {mod_name!r} has no attribute {attr!r}") from None
    if not callable(obj):
        raise ValueError(f"entry {spec!r} is not callable")
    return obj


def run_payload(payload: Mapping[str, Any]) -> Any:
    """``init_from_env()``, ``entry(**kwargs)``, ``cleanup()``; returns what the entry returns."""
    from ..train.distributed import cleanup, init_from_env

    unknown = sorted(set(payload) - {"entry", "kwargs"})
    if unknown:
        raise ValueError(f"unknown payload key {unknown[0]!r}; allowed: 'entry', 'kwargs'")
    fn = load_entry(payload.get("entry"))
    kwargs = payload.get("kwargs") or {}
    if not isinstance(kwargs, Mapping):
        raise ValueError(f"payload 'kwargs' must be a JSON object, got {type(kwargs).__name__}")
    init_from_env()
    result = fn(**kwargs)
    # Not in a ``finally``: when the entry raises, the process group is left to the process exit,
    # so that the traceback is printed before the other ranks' collectives fail on the closed
    # connections (torchrun then reports this rank, not a waiting one, as the root cause).
    cleanup()
    return result


def write_payload(path: str | os.PathLike, entry: str, kwargs: Mapping[str, Any] | None = None) -> Path:
    """Write ``{"entry": entry, "kwargs": kwargs}`` to ``path`` (JSON); returns the path."""
    if not isinstance(entry, str) or ":" not in entry:
        raise ValueError(f"entry must be 'package.module:function', got {entry!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"entry": entry, "kwargs": dict(kwargs or {})}, indent=2, sort_keys=True))
    return path


def launch_entry(nproc: int, entry: str, kwargs: Mapping[str, Any] | None = None, *,
                 payload_path: str | os.PathLike, env: Mapping[str, str] | None = None,
                 timeout: float | None = None, stream: Any = True):
    """Write the payload to ``payload_path`` and run it on ``nproc`` processes with
    :func:`toeplitznet.train.distributed.launch`; returns its ``CompletedProcess``.

    Raises :class:`~toeplitznet.train.DistributedLaunchError` naming the failed rank.
    """
    from ..train.distributed import launch

    p = write_payload(payload_path, entry, kwargs)
    return launch(nproc, MODULE, [str(p)], env=env, timeout=timeout, stream=stream)


def _record(fn: Callable) -> Callable:
    """torchrun's ``@record``: the failing rank's traceback goes into torchrun's error summary."""
    try:
        from torch.distributed.elastic.multiprocessing.errors import record
    except ImportError:  # pragma: no cover
        return fn
    return record(fn)


@_record
def main(argv: Sequence[str] | None = None) -> int:
    """``python -m toeplitznet.runs.ddp_worker <payload.json>``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 1:
        print("usage: python -m toeplitznet.runs.ddp_worker <payload.json>", file=sys.stderr)
        return 2
    payload = json.loads(Path(argv[0]).read_text())
    if not isinstance(payload, Mapping):
        raise ValueError(f"{argv[0]}: the payload must be a JSON object")
    run_payload(payload)
    return 0


# ------------------------------------------------------------------------------------ example
class _SimulatedCrash(RuntimeError):
    pass


def _toy_entry(out_dir: str, epochs: int = 3, batch_size: int = 16, n_train: int = 101, seed: int = 0,
               lr: float = 0.05, crash_after_epoch: int | None = None, crash_rank: int = 0,
               adversarial: bool = True, extra_l2: float = 1e-3, resume: str = "auto",
               as_loader: bool = False, config: Mapping[str, Any] | None = None) -> dict:
    """Example entry: a seeded MLP (no batch norm, no dropout) trained with SGD + momentum on seeded
    synthetic 4-class data; writes ``weights.pt`` (rank 0) and returns the metrics.

    ``adversarial`` adds an FGSM ``on_batch`` hook (computed per rank on its share of the batch)
    and ``extra_l2`` an L2 ``extra_loss``, to exercise both hooks under DDP.
    ``crash_after_epoch`` makes rank ``crash_rank`` raise in ``on_epoch_end`` after that epoch
    (after its checkpoint), simulating a crash. ``n_train=101`` with ``batch_size=16`` leaves a
    last batch of 5 samples, split 3 + 2 over two ranks. ``as_loader`` passes a
    :func:`~toeplitznet.train.make_train_loader` loader instead of the dataset (rebuilt per rank
    under DDP).
    """
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    from ..train import atomic_torch_save, is_main, make_train_loader, train
    from ..train import distributed as d

    g = torch.Generator().manual_seed(1000 + seed)
    x = torch.randn(n_train + 64, 8, generator=g)
    y = (x @ torch.randn(8, 4, generator=g)).argmax(dim=1)
    train_set = TensorDataset(x[:n_train], y[:n_train])
    test = DataLoader(TensorDataset(x[n_train:], y[n_train:]), batch_size=32)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 4))

    def fgsm(m, xb, yb, eps=0.05):
        xb = xb.detach().clone().requires_grad_(True)
        loss = nn.functional.cross_entropy(m(xb), yb)
        (grad,) = torch.autograd.grad(loss, xb)
        return (xb + eps * grad.sign()).detach(), yb

    def on_epoch_end(trainer, record):
        if crash_after_epoch is not None and record["epoch"] == crash_after_epoch and d.rank() == crash_rank:
            raise _SimulatedCrash(f"simulated crash on rank {crash_rank} after epoch {crash_after_epoch}")

    hooks = {"on_epoch_end": on_epoch_end}
    if adversarial:
        hooks["on_batch"] = fgsm
    if extra_l2:
        hooks["extra_loss"] = lambda m: extra_l2 * sum((p ** 2).sum() for p in m.parameters())
    cfg = {"optimizer": "sgd", "lr": lr, "momentum": 0.9, "weight_decay": 1e-4, "epochs": epochs,
           "batch_size": batch_size, "seed": seed, "log_every": 2, "ema_decay": 0.9,
           "schedule": {"type": "multistep", "milestones": [2], "gamma": 0.5}, "progress": False,
           "device": "cpu", **dict(config or {})}
    data = make_train_loader(train_set, batch_size, seed) if as_loader else train_set
    metrics = train(model, data, {"test": test}, cfg, out_dir, hooks=hooks, resume=resume)
    if is_main():
        atomic_torch_save(model.state_dict(), Path(out_dir) / "weights.pt")
    return metrics


if __name__ == "__main__":
    sys.exit(main())
