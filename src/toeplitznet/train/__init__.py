"""The one shared, resumable, deterministic trainer used by every study.

Usage
-----
>>> from toeplitznet.train import TrainConfig, train, make_train_loader
>>> cfg = TrainConfig.from_dict({"optimizer": "adam", "lr": 5e-5, "epochs": 200,
...                              "batch_size": 200, "seed": 0})            # doctest: +SKIP
>>> metrics = train(model, train_set, {"test": test_loader}, cfg, "results/run0")  # doctest: +SKIP

Files in ``out_dir``
--------------------
``checkpoint.pt``
    Written atomically (temporary file, fsync, ``os.replace``) after every
    epoch: model, optimizer, schedule position, EMA, completed epochs, global
    step, RNG states (Python, NumPy, torch CPU/CUDA, loader generator and
    sampler), metric history, step trace and the run's identity (config hash,
    parameter shapes, data size). Loaded with ``torch.load(weights_only=True)``.
``checkpoint_prev.pt``
    The previous epoch's checkpoint (fallback if the latest is unreadable);
    deleted once the run finishes.
``metrics.json``
    Rewritten atomically after every epoch (``status: "running"``), at the end
    (``"finished"``) or on divergence (``"diverged"``).
``final.json``
    Same content as the finished ``metrics.json``; its presence marks the run
    as done.
``diverged.json``
    Written before :class:`TrainingDivergedError` is raised.

Resume semantics
----------------
Calling :func:`train` (or :meth:`Trainer.fit`) again with the same ``out_dir``:

* if ``final.json`` exists and matches, no training happens: the final
  weights are loaded into the model and the stored metrics are returned;
* else if a checkpoint exists and matches, training continues at the start of
  the epoch after the checkpoint (an interrupted epoch is replayed entirely);
* a stored run whose identity differs (any hashed config key, the model's
  parameter names/shapes/dtypes, the number of steps per epoch or training
  examples) raises :class:`ConfigMismatchError` listing the differences, unless
  ``resume="force"`` (continue anyway) or ``resume="never"`` (delete the
  previous state and start over);
* a ``diverged.json`` left by an earlier attempt is removed and training is
  retried from the last good checkpoint.

Determinism: at the start of epoch ``e`` every RNG is re-seeded from
``(seed, e)`` and the data order is the permutation seeded with
``seed * 1000003 + e`` (:class:`EpochShuffleSampler`), and evaluation does not
consume the training RNG streams. Hence on CPU a run killed at any point and
resumed ends with weights and metrics bit-identical to an uninterrupted run
(compare with :func:`deterministic_view`, which drops wall-clock fields). On
CUDA this additionally requires ``deterministic=True`` (which calls
``torch.use_deterministic_algorithms(True, warn_only=True)`` and turns cuDNN
benchmarking off); without it the trainer enables cuDNN benchmarking.

Multi-process training: run the entry point under ``torchrun`` (one process per GPU; see
:func:`launch` and :mod:`toeplitznet.runs.ddp_worker`); :func:`train` then uses
``DistributedDataParallel`` with ``batch_size`` as the global batch, the seeded epoch permutation
split over the ranks (:class:`DistributedEpochSampler`), rank 0 writing checkpoints (of the
unwrapped model, interchangeable with single-process ones), metrics and logs, and every rank
resuming from the same checkpoint. Details in ``docs/training.md``.

Learning-rate schedules are pure functions of the update index, see
:class:`LRSchedule`; ``metrics["schedule_boundaries_reached"]`` lists the
boundaries that some update actually used (e.g. ``[40000]`` only for the
thesis's Chapter 4 CIFAR-10 setting), and :func:`schedule_report` gives the
same before training.
"""

from .config import COSMETIC_KEYS, TrainConfig, normalize_schedule
from .distributed import (DistributedLaunchError, barrier, cleanup, init_from_env, is_main, launch,
                          world)
from .ema import ModelEMA
from .storage import atomic_torch_save, atomic_write_json, load_checkpoint
from .presets import THESIS_PRESETS, thesis_preset
from .schedules import LRSchedule, schedule_report
from .seeding import (DistributedEpochSampler, EpochShuffleSampler, epoch_seed,
                      make_distributed_train_loader, make_train_loader, sampler_seed, seed_worker,
                      set_seed)
from .trainer import (ConfigMismatchError, Hooks, Trainer, TrainingDivergedError,
                      deterministic_view, evaluate, load_weights, resolve_device, train)

__all__ = [
    "TrainConfig", "COSMETIC_KEYS", "normalize_schedule",
    "LRSchedule", "schedule_report",
    "Trainer", "train", "evaluate", "Hooks", "load_weights", "deterministic_view", "resolve_device",
    "TrainingDivergedError", "ConfigMismatchError",
    "ModelEMA",
    "set_seed", "seed_worker", "epoch_seed", "sampler_seed", "EpochShuffleSampler", "make_train_loader",
    "DistributedEpochSampler", "make_distributed_train_loader",
    "init_from_env", "is_main", "world", "barrier", "cleanup", "launch", "DistributedLaunchError",
    "atomic_torch_save", "atomic_write_json", "load_checkpoint",
    "THESIS_PRESETS", "thesis_preset",
]
