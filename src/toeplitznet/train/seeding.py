"""Seeding helpers, the epoch-pure shuffling sampler and RNG-state capture.

Determinism contract of the trainer: at the start of epoch ``e`` every RNG
(Python ``random``, NumPy's global RNG, torch CPU and CUDA generators, the
train loader's own generator if any) is re-seeded from ``(seed, e)``, and the
data order comes from :class:`EpochShuffleSampler`, a pure function of
``(seed, e)``. Resuming at an epoch boundary therefore does not depend on any
pickled loader state.
"""

from __future__ import annotations

import hashlib
import os
import random
from typing import Iterator, Sized

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from ..runtime import seed_everything

__all__ = [
    "set_seed", "seed_worker", "epoch_seed", "sampler_seed", "EpochShuffleSampler",
    "make_train_loader", "get_rng_state", "set_rng_state", "seed_epoch",
]


def set_seed(seed: int) -> None:
    """Seed Python ``random``, NumPy's global RNG and torch (CPU and all CUDA devices)
    via :func:`toeplitznet.runtime.seed_everything`.

    Parameters
    ----------
    seed : int
        Any non-negative integer (NumPy receives ``seed % 2**32``).

    Notes
    -----
    This does not make cuDNN/cuBLAS kernels deterministic; for that use
    ``TrainConfig(deterministic=True)`` (which calls
    ``torch.use_deterministic_algorithms(True)``; set the environment variable
    ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` before CUDA is initialised).
    """
    seed_everything(seed)  # torch is imported by this module, so it is seeded too


def seed_worker(worker_id: int) -> None:  # noqa: ARG001 - DataLoader signature
    """``worker_init_fn`` for DataLoader: seeds ``random``/NumPy of a worker from
    the torch seed that the DataLoader gave it (itself derived from the loader's
    generator, which the trainer re-seeds every epoch)."""
    s = torch.initial_seed() % 2**32
    random.seed(s)
    np.random.seed(s)


def sampler_seed(seed: int, epoch: int) -> int:
    """Seed of the shuffle permutation of epoch ``epoch`` (0-based)."""
    return int(seed) * 1000003 + int(epoch)


def epoch_seed(seed: int, epoch: int, stream: str = "global") -> int:
    """A 63-bit seed for RNG stream ``stream`` of epoch ``epoch``, decorrelated
    from :func:`sampler_seed` by hashing."""
    h = hashlib.sha256(f"toeplitznet:{int(seed)}:{int(epoch)}:{stream}".encode()).digest()
    return int.from_bytes(h[:8], "little") >> 1


class EpochShuffleSampler(Sampler[int]):
    """Random permutation of ``range(n)`` that depends only on ``(seed, epoch)``.

    The permutation of epoch ``e`` is
    ``torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1000003 + e))``.
    Call :meth:`set_epoch` before iterating (the trainer does it).

    Parameters
    ----------
    data_source : Sized or int
        The dataset (or its length).
    seed : int
    shuffle : bool
        ``False`` gives the identity order (for evaluation).
    """

    def __init__(self, data_source: Sized | int, seed: int = 0, shuffle: bool = True):
        self.n = int(data_source) if isinstance(data_source, int) else len(data_source)
        self.seed = int(seed)
        self.shuffle = bool(shuffle)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def permutation(self, epoch: int | None = None) -> torch.Tensor:
        e = self.epoch if epoch is None else int(epoch)
        if not self.shuffle:
            return torch.arange(self.n)
        g = torch.Generator().manual_seed(sampler_seed(self.seed, e))
        return torch.randperm(self.n, generator=g)

    def __iter__(self) -> Iterator[int]:
        return iter(self.permutation().tolist())

    def __len__(self) -> int:
        return self.n

    def state_dict(self) -> dict:
        return {"seed": self.seed, "epoch": self.epoch, "n": self.n, "shuffle": self.shuffle}

    def load_state_dict(self, state: dict) -> None:
        self.seed, self.epoch = int(state["seed"]), int(state["epoch"])


def make_train_loader(dataset: Dataset, batch_size: int, seed: int, *, shuffle: bool = True,
                      drop_last: bool = False, num_workers: int = 0, pin_memory: bool = False,
                      **kwargs) -> DataLoader:
    """A DataLoader whose order and worker seeds are pure functions of ``(seed, epoch)``.

    Uses :class:`EpochShuffleSampler`, a dedicated ``torch.Generator`` (which the
    trainer re-seeds every epoch, fixing the workers' base seed) and
    :func:`seed_worker`. ``persistent_workers`` is refused: persistent workers
    keep the seeds of the first epoch iterated, which differs after a resume.
    """
    if kwargs.get("persistent_workers"):
        raise ValueError("persistent_workers=True breaks bit-identical resume; leave it off")
    return DataLoader(
        dataset, batch_size=batch_size, sampler=EpochShuffleSampler(dataset, seed, shuffle),
        drop_last=drop_last, num_workers=num_workers, pin_memory=pin_memory,
        worker_init_fn=seed_worker, generator=torch.Generator().manual_seed(int(seed)), **kwargs,
    )


def seed_epoch(loader, seed: int, epoch: int) -> None:
    """Re-seed every RNG for 0-based epoch ``epoch`` and tell the loader's samplers."""
    set_seed(epoch_seed(seed, epoch))
    for obj in (getattr(loader, "sampler", None), getattr(loader, "batch_sampler", None),
                getattr(getattr(loader, "batch_sampler", None), "sampler", None)):
        if obj is not None and hasattr(obj, "set_epoch"):
            obj.set_epoch(epoch)
    gen = getattr(loader, "generator", None)
    if isinstance(gen, torch.Generator):
        gen.manual_seed(epoch_seed(seed, epoch, "loader"))
    sampler = getattr(loader, "sampler", None)
    sgen = getattr(sampler, "generator", None)
    if isinstance(sgen, torch.Generator) and sgen is not gen:
        sgen.manual_seed(sampler_seed(seed, epoch))


# ---------------------------------------------------------------- RNG state capture
def get_rng_state() -> dict:
    """All global RNG states, in a form ``torch.load(weights_only=True)`` accepts."""
    np_state = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": {"name": np_state[0], "keys": torch.from_numpy(np_state[1].astype(np.int64)),
                  "pos": int(np_state[2]), "has_gauss": int(np_state[3]),
                  "cached_gaussian": float(np_state[4])},
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "pid": os.getpid(),
    }
    return state


def set_rng_state(state: dict) -> None:
    """Inverse of :func:`get_rng_state` (CUDA states restored when the device count matches)."""
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    n = state["numpy"]
    np.random.set_state((n["name"], n["keys"].numpy().astype(np.uint32), n["pos"],
                         n["has_gauss"], n["cached_gaussian"]))
    torch.set_rng_state(state["torch"].cpu())
    cuda = state.get("cuda") or []
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([s.cpu() for s in cuda])
