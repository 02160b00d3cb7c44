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
    "DistributedEpochSampler", "make_train_loader", "make_distributed_train_loader",
    "get_rng_state", "set_rng_state", "seed_epoch",
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


class DistributedEpochSampler(EpochShuffleSampler):
    """Rank ``rank``'s share of the :class:`EpochShuffleSampler` permutation (DDP).

    Every rank computes the same global permutation ``perm`` of epoch ``e`` (a pure function of
    ``(seed, e)``, independent of the rank and the world size) and takes ``perm[rank::world_size]``.
    Batching that share by ``batch_size // world_size`` gives, at update ``i``, exactly the
    strided slice ``global_batch_i[rank::world_size]`` of the single-process batch
    ``global_batch_i = perm[i * batch_size:(i + 1) * batch_size]``: the union over ranks of the
    samples of an update is the single-process batch, so a W-process run follows the same
    trajectory as a one-process run with the same (global) ``batch_size``.

    With ``drop_last`` the permutation is first cut to ``(n // batch_size) * batch_size``
    samples (the single-process loader drops the same last partial batch). Without it, the last
    global batch of ``r = n % batch_size`` samples is split the same way, so the ranks get
    ``ceil((r - rank) / world_size)`` samples each (unequal when ``world_size`` does not divide
    ``r``; the trainer weights the ranks' losses so that the update still uses the global mean);
    ``0 < r < world_size`` would leave a rank without a sample and is refused.

    Parameters
    ----------
    data_source : Sized or int
    seed : int
    shuffle : bool
    rank, world_size : int
    batch_size : int
        The global batch size (a multiple of ``world_size``).
    drop_last : bool
    """

    def __init__(self, data_source: Sized | int, seed: int = 0, shuffle: bool = True, *, rank: int,
                 world_size: int, batch_size: int, drop_last: bool = False):
        super().__init__(data_source, seed, shuffle)
        self.rank, self.world_size = int(rank), int(world_size)
        self.batch_size, self.drop_last = int(batch_size), bool(drop_last)
        if not 0 <= self.rank < self.world_size:
            raise ValueError(f"rank {rank} outside [0, {world_size})")
        if self.batch_size % self.world_size:
            raise ValueError(f"invalid training config: 'batch_size': the global batch size "
                             f"{batch_size} is not divisible by the world size {world_size}")
        r = self.n % self.batch_size
        if not self.drop_last and 0 < r < self.world_size:
            raise ValueError(
                f"invalid training config: 'drop_last': the last batch of an epoch has {r} samples "
                f"({self.n} training samples, batch_size {self.batch_size}), fewer than the "
                f"{self.world_size} processes, so some would get none; set drop_last: true or "
                f"choose another batch_size")

    @property
    def n_used(self) -> int:
        """Samples of the global permutation used per epoch (all ranks together)."""
        return (self.n // self.batch_size) * self.batch_size if self.drop_last else self.n

    def global_batch_size(self, i: int) -> int:
        """Number of samples (over all ranks) of the ``i``-th update (0-based) of an epoch."""
        return max(0, min(self.batch_size, self.n_used - i * self.batch_size))

    def global_batches(self) -> int:
        """Updates per epoch (the same on every rank and in the single-process loader)."""
        return -(-self.n_used // self.batch_size)

    def __iter__(self) -> Iterator[int]:
        return iter(self.permutation()[:self.n_used][self.rank::self.world_size].tolist())

    def __len__(self) -> int:
        return len(range(self.rank, self.n_used, self.world_size))

    def state_dict(self) -> dict:
        return {**super().state_dict(), "rank": self.rank, "world_size": self.world_size,
                "batch_size": self.batch_size, "drop_last": self.drop_last}


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


def make_distributed_train_loader(dataset: Dataset, batch_size: int, seed: int, *, rank: int,
                                  world_size: int, shuffle: bool = True, drop_last: bool = False,
                                  num_workers: int = 0, pin_memory: bool = False, **kwargs) -> DataLoader:
    """Rank ``rank``'s loader of a DDP run: :class:`DistributedEpochSampler` batched by the per-rank
    batch ``batch_size // world_size`` (``batch_size`` is the global batch of one update).

    Same seeding as :func:`make_train_loader`; the loader's ``batch_size`` is the per-rank one.
    """
    if kwargs.get("persistent_workers"):
        raise ValueError("persistent_workers=True breaks bit-identical resume; leave it off")
    sampler = DistributedEpochSampler(dataset, seed, shuffle, rank=rank, world_size=world_size,
                                      batch_size=batch_size, drop_last=drop_last)
    kwargs.setdefault("worker_init_fn", seed_worker)
    return DataLoader(
        dataset, batch_size=batch_size // world_size, sampler=sampler, drop_last=False,
        num_workers=num_workers, pin_memory=pin_memory,
        generator=torch.Generator().manual_seed(int(seed)), **kwargs,
    )


def seed_epoch(loader, seed: int, epoch: int, *, rank: int = 0, world_size: int = 1) -> None:
    """Re-seed every RNG for 0-based epoch ``epoch`` and tell the loader's samplers.

    In a DDP run (``world_size > 1``) the global RNGs and the loader generator of rank ``r`` are
    seeded from the streams ``"global/rank<r>"`` and ``"loader/rank<r>"``, so that dropout masks,
    random attack starts and augmentations differ between ranks (they would otherwise repeat the
    same random numbers on every rank's share of the batch); the data order (the sampler's
    permutation) is the same on every rank. Everything stays a pure function of
    ``(seed, epoch, rank, world_size)``, so resume remains bit-identical.
    """
    suffix = f"/rank{int(rank)}" if world_size > 1 else ""
    set_seed(epoch_seed(seed, epoch, "global" + suffix))
    for obj in (getattr(loader, "sampler", None), getattr(loader, "batch_sampler", None),
                getattr(getattr(loader, "batch_sampler", None), "sampler", None)):
        if obj is not None and hasattr(obj, "set_epoch"):
            obj.set_epoch(epoch)
    gen = getattr(loader, "generator", None)
    if isinstance(gen, torch.Generator):
        gen.manual_seed(epoch_seed(seed, epoch, "loader" + suffix))
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
