"""The shared, resumable training loop."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

from ..runtime import device_name, resolve_device
from . import distributed as _dist
from .config import TrainConfig
from .ema import ModelEMA
from .storage import (CHECKPOINT, CHECKPOINT_PREV, DIVERGED, FINAL, METRICS, atomic_torch_save,
                 atomic_write_json, load_checkpoint, read_json)
from .schedules import LRSchedule
from .seeding import (EpochShuffleSampler, get_rng_state, make_distributed_train_loader, make_train_loader,
                      seed_epoch, seed_worker, set_rng_state)

try:  # tqdm is a dependency of the project, but keep the trainer usable without it
    from tqdm.auto import tqdm
except ImportError:  # pragma: no cover
    tqdm = None

__all__ = ["Trainer", "train", "evaluate", "Hooks", "TrainingDivergedError",
           "ConfigMismatchError", "load_weights", "deterministic_view", "resolve_device"]

log = logging.getLogger("toeplitznet.train")

CHECKPOINT_FORMAT = 1
RESUME_MODES = ("auto", "force", "never")


class TrainingDivergedError(RuntimeError):
    """The training loss (or gradient norm) became NaN/inf.

    Attributes
    ----------
    step : int
        1-based number of the optimizer update that failed (``global_step + 1``).
    epoch : int
        1-based epoch.
    lr : float
        Learning rate of that update.
    loss : float
        The offending value (loss, or gradient norm when ``what == "gradient norm"``).
    what : str
    marker : pathlib.Path or None
        The ``diverged.json`` written before raising.
    """

    def __init__(self, step: int, epoch: int, lr: float, loss: float, what: str = "loss",
                 marker: Path | None = None, last_checkpoint_epoch: int | None = None):
        self.step, self.epoch, self.lr, self.loss, self.what = step, epoch, lr, loss, what
        self.marker = marker
        msg = (f"training diverged: non-finite {what} ({loss!r}) at step {step} "
               f"(epoch {epoch}, lr={lr:.6g})")
        if last_checkpoint_epoch is not None:
            msg += f"; last good checkpoint: end of epoch {last_checkpoint_epoch}"
        if marker is not None:
            msg += f"; marker written to {marker}"
        super().__init__(msg)


class ConfigMismatchError(RuntimeError):
    """``out_dir`` holds a checkpoint or a finished run of a different configuration."""


@dataclasses.dataclass
class Hooks:
    """Optional callbacks, so that studies extend the loop instead of forking it.

    Attributes
    ----------
    on_batch : callable ``(model, x, y) -> (x, y)``
        Applied to every training batch (already on the device) before the
        forward pass, e.g. to replace ``x`` by adversarial examples. It may
        change the model's mode and leave gradients in ``.grad``: the trainer
        puts the model back in train mode and zeroes the gradients afterwards.
    extra_loss : callable ``(model) -> scalar tensor``
        Added to the training loss (outside autocast), e.g. a Lipschitz
        regulariser. Its epoch mean is reported as ``train.extra_loss``.
    on_train_start : callable ``(trainer) -> None``
    on_step_end : callable ``(trainer, step, loss) -> None``
        After every update; ``step`` is the 1-based update count.
    on_epoch_end : callable ``(trainer, record) -> None``
        After the epoch's evaluation *and* checkpoint (an exception raised here
        simulates a crash after a completed epoch).
    on_train_end : callable ``(trainer, metrics) -> None``

    Under DDP (world size > 1) every hook runs on every rank. ``on_batch`` receives the rank's
    share of the global batch and the *unwrapped* model (``trainer.model``, not the DDP wrapper):
    an attack computed there needs no communication, and since attacks such as FGSM/PGD act per
    sample, the adversarial batch equals the single-process one. ``extra_loss`` also receives the
    unwrapped model and is added on every rank; DDP averages the parameter gradients over the ranks,
    and as every rank computes the same regulariser from the same weights, the average equals the
    single-process gradient of the regulariser. ``on_step_end`` gets the loss averaged over the
    global batch. Use ``trainer.is_main`` to act on rank 0 only; an exception raised on one rank
    ends the whole job (``torchrun`` stops the other ranks).
    """

    on_batch: Callable | None = None
    extra_loss: Callable | None = None
    on_train_start: Callable | None = None
    on_step_end: Callable | None = None
    on_epoch_end: Callable | None = None
    on_train_end: Callable | None = None


def _normalize_hooks(hooks: Any) -> Hooks:
    if hooks is None:
        return Hooks()
    if isinstance(hooks, Hooks):
        return hooks
    names = [f.name for f in dataclasses.fields(Hooks)]
    if isinstance(hooks, Mapping):
        unknown = sorted(set(hooks) - set(names))
        if unknown:
            raise ValueError(f"unknown hook {unknown[0]!r}; known hooks: {names}")
        return Hooks(**hooks)
    return Hooks(**{n: getattr(hooks, n, None) for n in names})


def _to(obj: Any, device: torch.device) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.to(device, non_blocking=True)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to(o, device) for o in obj)
    if isinstance(obj, dict):
        return {k: _to(v, device) for k, v in obj.items()}
    return obj


def _split_batch(batch: Any) -> tuple[Any, torch.Tensor]:
    if isinstance(batch, (list, tuple)) and len(batch) >= 2:
        return batch[0], batch[1]
    raise TypeError("a batch must be a (inputs, targets, ...) tuple or list, "
                    f"got {type(batch).__name__}")


def _unwrap_state(sd: Mapping[str, Any]) -> dict:
    """A state dict without the ``module.`` prefix a DDP/DataParallel wrapper adds."""
    keys = list(sd)
    if keys and all(k.startswith("module.") for k in keys):
        return {k[len("module."):]: v for k, v in sd.items()}
    return dict(sd)


def _channels_last(x: Any) -> Any:
    if isinstance(x, torch.Tensor) and x.ndim == 4:
        return x.contiguous(memory_format=torch.channels_last)
    return x


def _autocast(device: torch.device, amp: str):
    if amp == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


#: epsilon inside the logarithms of ``multilabel_bce`` (YouTube-8M starter code, ``losses.py``)
MULTILABEL_EPS = 1e-5


def _per_sample_loss(kind: str, out: torch.Tensor, y: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    out = out.float()
    if kind == "cross_entropy":
        return F.cross_entropy(out, y, reduction="none", label_smoothing=label_smoothing)
    if kind == "multilabel_bce":
        # probabilities in, multi-hot targets; the YouTube-8M starter code's epsilon (losses.py)
        y = y.float().reshape(out.shape)
        return -(y * torch.log(out + MULTILABEL_EPS) + (1 - y) * torch.log(1 - out + MULTILABEL_EPS)).sum(dim=1)
    if not y.dtype.is_floating_point and out.ndim == 2:
        y = F.one_hot(y, out.shape[1])
    err = F.mse_loss(out, y.float().reshape(out.shape), reduction="none")
    return err.reshape(err.shape[0], -1).mean(dim=1)


def _loss(kind: str, out: torch.Tensor, y: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    return _per_sample_loss(kind, out, y, label_smoothing).mean()


def _class_labels(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor | None:
    """Integer class labels comparable with ``out.argmax(1)``, or None (not a classification)."""
    if out.ndim != 2:
        return None
    if y.dtype.is_floating_point:
        return y.argmax(dim=1) if y.shape == out.shape else None
    return y


def _correct(out: torch.Tensor, y: torch.Tensor, top_k=()) -> dict | None:
    """Counts of correct top-1 (and top-k) predictions, or None when labels are not classes."""
    y = _class_labels(out, y)
    if y is None:
        return None
    res = {"top1": int((out.argmax(dim=1) == y).sum())}
    for k in top_k:
        kk = min(k, out.shape[1])
        res[f"top{k}"] = int((out.topk(kk, dim=1).indices == y[:, None]).any(dim=1).sum())
    return res


@torch.no_grad()
def evaluate(model: nn.Module, loader, device: str | torch.device | None = None, *,
             loss: str = "cross_entropy", top_k=(), amp: str = "none", channels_last: bool = False) -> dict:
    """Accuracy and mean loss of ``model`` over ``loader``.

    Parameters
    ----------
    model : nn.Module
        Put in eval mode for the pass; its previous mode is restored.
    loader : iterable of (x, y, ...) batches
    device : str or torch.device, optional
        Defaults to the device of the model's first parameter.
    loss : {"cross_entropy", "mse", "multilabel_bce"}
        Per-sample loss averaged over the data set (no label smoothing). With ``"multilabel_bce"``
        the targets are multi-hot, ``accuracy`` is None and ``gap`` is GAP@20 over the whole loader
        (:class:`toeplitznet.metrics.GAPCalculator`).
    top_k : sequence of int
        Also report ``top{k}`` accuracies.
    amp : {"none", "bf16"}
    channels_last : bool
        Convert 4-d inputs to the ``channels_last`` memory format.

    Returns
    -------
    dict
        ``{"accuracy", "loss", "n"}`` plus ``"top{k}"``; ``accuracy`` is None
        when targets are not class labels.
    """
    if device is None:
        p = next(model.parameters(), None)
        device = p.device if p is not None else torch.device("cpu")
    device = resolve_device(device) if isinstance(device, str) else device
    was_training = model.training
    model.eval()
    n, loss_sum, counts = 0, 0.0, {}
    gap = None
    if loss == "multilabel_bce":
        from ..metrics.gap import GAPCalculator

        gap = GAPCalculator(top_k=20)
    try:
        for batch in loader:
            x, y = _split_batch(batch)
            x, y = _to(x, device), _to(y, device)
            if channels_last:
                x = _channels_last(x)
            with _autocast(device, amp):
                out = model(x)
            loss_sum += float(_per_sample_loss(loss, out, y).sum())
            if gap is not None:
                gap.accumulate(out.detach().float().cpu().numpy(), y.detach().cpu().numpy())
                n += int(y.shape[0])
                continue
            c = _correct(out, y, top_k)
            if c is not None:
                for k, v in c.items():
                    counts[k] = counts.get(k, 0) + v
            n += int(y.shape[0])
    finally:
        model.train(was_training)
    res = {"accuracy": counts["top1"] / n if n and "top1" in counts else None,
           "loss": loss_sum / n if n else None, "n": n}
    for k in top_k:
        res[f"top{k}"] = counts.get(f"top{k}", 0) / n if n and counts else None
    if gap is not None:
        res["gap"] = gap.value() if n else None
    return res


@contextlib.contextmanager
def _preserved_rng():
    """Run a block (evaluation) without consuming the training RNG streams."""
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


def _diff(old: Any, new: Any, prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in sorted(set(old) | set(new), key=str):
            key = f"{prefix}.{k}" if prefix else str(k)
            if k not in old:
                out.append(f"{key}: (absent) -> {new[k]!r}")
            elif k not in new:
                out.append(f"{key}: {old[k]!r} -> (absent)")
            else:
                out.extend(_diff(old[k], new[k], key))
        return out
    return [] if old == new else [f"{prefix}: {old!r} -> {new!r}"]


def deterministic_view(metrics: dict) -> dict:
    """Copy of a metrics dict without the entries that legitimately differ
    between two identical runs (wall times, throughput, resume log):
    the top-level ``timing`` and ``run`` and each history record's ``time``."""
    m = {k: v for k, v in metrics.items() if k not in ("timing", "run")}
    m["history"] = [{k: v for k, v in r.items() if k != "time"} for r in metrics.get("history", [])]
    return m


def load_weights(model: nn.Module, out_dir: str | os.PathLike, *, ema: bool = False) -> nn.Module:
    """Load the weights of the latest checkpoint in ``out_dir`` into ``model``.

    Parameters
    ----------
    ema : bool
        Load the EMA weights (the run must have used ``ema_decay``).
    """
    ckpt, path = load_checkpoint(out_dir)
    if ckpt is None:
        raise FileNotFoundError(f"no checkpoint in {out_dir}")
    if ema:
        if ckpt.get("ema") is None:
            raise ValueError(f"{path} has no EMA weights (run without ema_decay)")
        model.load_state_dict(_unwrap_state(ckpt["ema"]["module"]))
    else:
        model.load_state_dict(_unwrap_state(ckpt["model"]))
    return model


class Trainer:
    """Resumable, deterministic training loop shared by all studies.

    Parameters
    ----------
    model : nn.Module
        Moved to the configured device.
    train_loader : DataLoader or Dataset
        A Dataset is wrapped with :func:`~toeplitznet.train.make_train_loader`
        (``config.batch_size``, ``config.seed``, ``config.drop_last``,
        ``num_workers``). A DataLoader must have ``batch_size == config.batch_size``
        (or a custom batch sampler) and a length. For bit-identical resume its
        order must depend only on the epoch: a sampler with ``set_epoch``
        (:class:`~toeplitznet.train.EpochShuffleSampler`), or a plain
        ``shuffle=True`` loader (its RandomSampler draws from the global RNG or
        the loader's generator, both re-seeded every epoch).
    eval_loaders : dict of str -> iterable, optional
        Evaluated every ``eval_every`` epochs and after the last epoch.
    config : TrainConfig or dict
    out_dir : path
        Holds ``checkpoint.pt``, ``checkpoint_prev.pt``, ``metrics.json``,
        ``final.json`` and, after a divergence, ``diverged.json``.
    hooks : Hooks, dict or object with hook attributes, optional
    resume : {"auto", "force", "never"}
        ``"auto"``: continue from ``out_dir/checkpoint.pt`` if its identity
        (config hash, parameter shapes, data size) matches, raise
        :class:`ConfigMismatchError` otherwise; ``"force"``: continue even if it
        differs (logged); ``"never"``: delete previous state and start over.
    num_workers : int
        Only used when ``train_loader`` is a Dataset.
    ddp_kwargs : dict, optional
        Extra keyword arguments of :class:`~torch.nn.parallel.DistributedDataParallel`
        (e.g. ``{"find_unused_parameters": True}``); only used under DDP.

    Notes
    -----
    Multi-process training (DDP). When a process group of world size ``W > 1`` is initialised
    (:func:`~toeplitznet.train.distributed.init_from_env`, which the trainer also calls itself
    when ``torchrun``'s ``WORLD_SIZE > 1`` is set), the model is wrapped in
    :class:`~torch.nn.parallel.DistributedDataParallel` (one GPU per process, ``cuda:LOCAL_RANK``;
    no ``device_ids`` on CPU/gloo). ``config.batch_size`` is the global batch: each rank trains
    on ``batch_size / W`` samples per update (an error names ``batch_size`` if not divisible),
    taken by :class:`~toeplitznet.train.DistributedEpochSampler` from the same seeded epoch
    permutation, so the ranks together see exactly the single-process batches (``drop_last``
    included) and, for models without batch norm or randomness, end with the single-process
    weights up to float rounding. ``train_loader`` must then be a Dataset or a loader from
    :func:`~toeplitznet.train.make_train_loader` (it is rebuilt per rank). Only rank 0 evaluates
    and writes checkpoints, metrics and logs (the other ranks wait for it); every rank loads the
    checkpoint on resume. Checkpoints hold the unwrapped model's state dict, so single- and
    multi-process checkpoints are interchangeable (the world size is not part of the identity).
    See ``docs/training.md``.

    Resume semantics. A checkpoint is written atomically after every epoch
    (after its evaluation); the previous one is kept as ``checkpoint_prev.pt``
    and used if the latest is unreadable. A run restarts at the beginning of
    the epoch following the last checkpoint, so an interrupted epoch is
    replayed from its start. Because every RNG and the data order of epoch
    ``e`` are re-derived from ``(seed, e)`` and evaluation does not touch the
    training RNG streams, a resumed CPU run ends with bit-identical weights and
    metrics (up to timings, see :func:`deterministic_view`) to an uninterrupted
    one. On CUDA this also needs ``deterministic=True``. When ``final.json``
    exists (and matches), :meth:`fit` loads the final weights into ``model``
    (and the EMA) and returns the stored metrics without training.
    """

    def __init__(self, model: nn.Module, train_loader, eval_loaders: Mapping[str, Any] | None = None,
                 config: TrainConfig | Mapping | None = None, out_dir: str | os.PathLike = ".",
                 hooks: Any = None, resume: str = "auto", num_workers: int = 0,
                 ddp_kwargs: Mapping[str, Any] | None = None):
        self.config = TrainConfig.from_dict(config if config is not None else {})
        if resume not in RESUME_MODES:
            raise ValueError(f"resume must be one of {RESUME_MODES}, got {resume!r}")
        self.resume = resume
        cfg = self.config
        if not _dist.is_distributed() and _dist._env_int("WORLD_SIZE", 1) > 1:
            _dist.init_from_env()
        self.dist = _dist.current()
        self.rank, self.world_size = self.dist.rank, self.dist.world_size
        self.is_main = self.rank == 0
        self.device = resolve_device(cfg.device, who="Trainer (TrainConfig)")
        if self.world_size > 1 and self.device.type == "cuda":
            own = torch.cuda.current_device()  # cuda:LOCAL_RANK, set by init_from_env
            if self.device.index is not None and self.device.index != own:
                raise ValueError(f"invalid training config: 'device': {cfg.device!r}, but under DDP "
                                 f"process {self.rank} uses its own GPU cuda:{own}; set device: auto or cuda")
            self.device = torch.device("cuda", own)
        if cfg.deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.backends.cudnn.benchmark = False
            torch.backends.cudnn.deterministic = True
        elif self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True

        self._shard = None  # the DistributedEpochSampler under DDP
        if self.world_size > 1:
            train_loader = self._distributed_loader(train_loader, num_workers)
            self._shard = train_loader.sampler
        else:
            if isinstance(train_loader, Dataset) and not isinstance(train_loader, DataLoader):
                train_loader = make_train_loader(train_loader, cfg.batch_size, cfg.seed,
                                                 drop_last=cfg.drop_last, num_workers=num_workers,
                                                 pin_memory=self.device.type == "cuda")
            self._check_loader_batch(train_loader)
        if getattr(train_loader, "persistent_workers", False) and self.is_main:
            log.warning("persistent_workers=True: worker RNG seeds do not follow the epoch, "
                        "so a resumed run may differ from an uninterrupted one")
        try:
            self.steps_per_epoch = len(train_loader)
        except TypeError as exc:
            raise ValueError("the train loader must have a length (steps per epoch)") from exc
        if self.steps_per_epoch < 1:
            raise ValueError("the train loader is empty")
        if self._shard is not None and self.steps_per_epoch != self._shard.global_batches():
            raise RuntimeError(f"rank {self.rank}: {self.steps_per_epoch} local batches but "
                               f"{self._shard.global_batches()} global ones")  # pragma: no cover
        self.train_loader = train_loader
        self.eval_loaders = dict(eval_loaders or {})
        self.out_dir = Path(out_dir)
        self.hooks = _normalize_hooks(hooks)

        model = model.to(self.device)
        if cfg.sync_bn and self.world_size > 1:
            if self.device.type != "cuda":
                raise ValueError("invalid training config: 'sync_bn': torch.nn.SyncBatchNorm needs CUDA "
                                 "(NCCL); with CPU processes leave it off (batch-norm statistics are then "
                                 "computed per rank)")
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        self.channels_last = bool(cfg.channels_last and self.device.type == "cuda")
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.model = model  # the unwrapped module: hooks, EMA, evaluation and checkpoints use it
        self.optimizer = self._build_optimizer()
        self.schedule = LRSchedule.from_config(cfg, self.steps_per_epoch)
        self.ema = ModelEMA(self.model, cfg.ema_decay) if cfg.ema_decay is not None else None
        self.ddp_model = None
        if self.world_size > 1:
            from torch.nn.parallel import DistributedDataParallel

            kw = dict(ddp_kwargs or {})
            if self.device.type == "cuda":
                kw.setdefault("device_ids", [self.device.index])
                kw.setdefault("output_device", self.device.index)
            self.ddp_model = DistributedDataParallel(self.model, **kw)  # broadcasts rank 0's weights
        self._net = self.ddp_model if self.ddp_model is not None else self.model  # the forward path

        self.planned_steps = cfg.epochs * self.steps_per_epoch
        if cfg.max_steps is not None:
            self.planned_steps = min(self.planned_steps, cfg.max_steps)
        self.n_params = sum(p.numel() for p in self.model.parameters())
        self.n_trainable = sum(p.numel() for p in self.model.parameters() if p.requires_grad)
        self.identity = self._identity()
        self.run_hash = hashlib.sha256(
            json.dumps(self.identity, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]

        # mutable state (what a checkpoint stores)
        self.epoch = 0           # completed epochs
        self.global_step = 0     # completed optimizer updates
        self.history: list[dict] = []
        self.trace: dict[str, list] = {"step": [], "loss": [], "lr": []}
        self.timing = {"train_s": 0.0, "eval_s": 0.0, "checkpoint_s": 0.0, "samples": 0}
        self.run_log: list[dict] = []
        self.metrics: dict | None = None

    # ------------------------------------------------------------ construction
    def _check_loader_batch(self, loader) -> None:
        lb = getattr(loader, "batch_size", None)
        if lb is not None and lb != self.config.batch_size:
            raise ValueError(f"invalid training config: 'batch_size': config says {self.config.batch_size} "
                             f"but the train loader yields batches of {lb}")

    def _distributed_loader(self, data, num_workers: int) -> DataLoader:
        """This rank's loader: the seeded epoch permutation split over the ranks."""
        cfg, world = self.config, self.world_size
        _dist.per_rank_batch_size(cfg.batch_size, world)
        seed, shuffle, drop_last = cfg.seed, True, cfg.drop_last
        opts: dict[str, Any] = {"num_workers": num_workers, "pin_memory": self.device.type == "cuda"}
        if isinstance(data, DataLoader):
            if not isinstance(data.sampler, EpochShuffleSampler) or data.batch_size is None:
                raise ValueError(
                    f"under DDP (world size {world}) the training data must be a Dataset or a loader "
                    "made by toeplitznet.train.make_train_loader (an EpochShuffleSampler with a "
                    f"batch_size), so that the ranks can split one seeded permutation; got a loader "
                    f"with {type(data.sampler).__name__}")
            self._check_loader_batch(data)
            if data.persistent_workers:
                raise ValueError("persistent_workers=True breaks bit-identical resume; leave it off")
            seed, shuffle, drop_last = data.sampler.seed, data.sampler.shuffle, data.drop_last
            opts = {"num_workers": data.num_workers, "pin_memory": data.pin_memory,
                    "collate_fn": data.collate_fn, "worker_init_fn": data.worker_init_fn or seed_worker,
                    "timeout": data.timeout}
            if data.num_workers > 0 and data.prefetch_factor is not None:
                opts["prefetch_factor"] = data.prefetch_factor
            data = data.dataset
        elif not isinstance(data, Dataset):
            raise ValueError(f"under DDP the training data must be a Dataset or a DataLoader, got "
                             f"{type(data).__name__}")
        return make_distributed_train_loader(data, cfg.batch_size, seed, rank=self.rank, world_size=world,
                                             shuffle=shuffle, drop_last=drop_last, **opts)

    def _info(self, msg: str, *args) -> None:
        if self.is_main:
            log.info(msg, *args)

    def _warning(self, msg: str, *args) -> None:
        if self.is_main:
            log.warning(msg, *args)

    def _build_optimizer(self) -> torch.optim.Optimizer:
        cfg = self.config
        params = [p for p in self.model.parameters() if p.requires_grad]
        if not params:
            raise ValueError("the model has no trainable parameters")
        if cfg.optimizer == "sgd":
            return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov,
                                   weight_decay=cfg.weight_decay)
        cls = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.AdamW
        return cls(params, lr=cfg.lr, betas=tuple(cfg.betas), eps=cfg.eps, weight_decay=cfg.weight_decay)

    def _identity(self) -> dict:
        try:
            n_train = len(self.train_loader.dataset)
        except (AttributeError, TypeError):
            n_train = None
        return {
            "config": self.config.hashed_dict(),
            "model": {k: [list(v.shape), str(v.dtype).replace("torch.", "")]
                      for k, v in self.model.state_dict().items()},
            "data": {"steps_per_epoch": self.steps_per_epoch, "n_train": n_train},
        }

    def _check_identity(self, stored: dict | None, source: Path) -> None:
        if stored == self.identity:
            return
        diffs = _diff(stored or {}, self.identity)
        shown = "\n  ".join(diffs[:20]) + ("\n  ..." if len(diffs) > 20 else "")
        msg = (f"{source} belongs to a different run (stored -> current):\n  {shown}\n"
               "Use another out_dir, or pass resume='never' to discard it and start over, "
               "or resume='force' to continue from it anyway.")
        if self.resume == "force":
            self._warning("resume='force': %s", msg)
            return
        raise ConfigMismatchError(msg)

    # ------------------------------------------------------------ state I/O
    def state_dict(self) -> dict:
        gen = getattr(self.train_loader, "generator", None)
        sampler = getattr(self.train_loader, "sampler", None)
        return {
            "format": CHECKPOINT_FORMAT,
            "run_hash": self.run_hash,
            "identity": self.identity,
            "config": self.config.to_dict(),
            "epoch": self.epoch,
            "global_step": self.global_step,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": {**self.schedule.state_dict(), "next_step": self.global_step,
                          "next_lr": self.schedule(self.global_step)},
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "rng": get_rng_state(),
            "loader": {
                "sampler": sampler.state_dict() if hasattr(sampler, "state_dict") else None,
                "generator": gen.get_state() if isinstance(gen, torch.Generator) else None,
                "next_epoch": self.epoch,
            },
            "history": self.history,
            "trace": self.trace,
            "timing": self.timing,
            "run_log": self.run_log,
        }

    def load_state_dict(self, ckpt: dict, training_state: bool = True) -> None:
        """Restore a checkpoint; with ``training_state=False`` only the weights
        (model, EMA) and counters/history, leaving optimizer and RNGs alone."""
        self.model.load_state_dict(_unwrap_state(ckpt["model"]))
        if self.ema is not None:
            if ckpt.get("ema") is None:
                raise ConfigMismatchError("checkpoint has no EMA state but ema_decay is set")
            self.ema.load_state_dict({**ckpt["ema"], "module": _unwrap_state(ckpt["ema"]["module"])})
        self.epoch = int(ckpt["epoch"])
        self.global_step = int(ckpt["global_step"])
        self.history = list(ckpt["history"])
        self.trace = {k: list(v) for k, v in ckpt["trace"].items()}
        self.timing = dict(ckpt["timing"])
        self.run_log = list(ckpt.get("run_log", []))
        if not training_state:
            return
        self.optimizer.load_state_dict(ckpt["optimizer"])
        set_rng_state(ckpt["rng"])  # redundant with per-epoch re-seeding, kept for hooks
        ld = ckpt.get("loader") or {}
        gen = getattr(self.train_loader, "generator", None)
        if isinstance(gen, torch.Generator) and ld.get("generator") is not None:
            gen.set_state(ld["generator"])
        sampler = getattr(self.train_loader, "sampler", None)
        if ld.get("sampler") is not None and hasattr(sampler, "load_state_dict"):
            sampler.load_state_dict(ld["sampler"])

    def _save_checkpoint(self) -> None:
        t = time.perf_counter()
        atomic_torch_save(self.state_dict(), self.out_dir / CHECKPOINT, prev=self.out_dir / CHECKPOINT_PREV)
        self.timing["checkpoint_s"] += time.perf_counter() - t

    # ------------------------------------------------------------ main entry
    @property
    def eval_model(self) -> nn.Module:
        """The weights evaluation reports: the EMA model when ``ema_decay`` is set."""
        return self.ema.module if self.ema is not None else self.model

    def fit(self) -> dict:
        """Train (or resume, or return a finished run); returns the metrics dict."""
        cfg = self.config
        session_t0 = time.perf_counter()
        if self.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            if self.resume == "never":
                for name in (FINAL, METRICS, DIVERGED, CHECKPOINT, CHECKPOINT_PREV):
                    with contextlib.suppress(FileNotFoundError):
                        (self.out_dir / name).unlink()
        _dist.barrier()  # the other ranks read out_dir only once rank 0 has cleaned it

        final_path = self.out_dir / FINAL
        if final_path.exists():
            fin = read_json(final_path)
            self._check_identity(fin.get("identity"), final_path)
            ckpt, _ = load_checkpoint(self.out_dir)
            if ckpt is not None:
                self.load_state_dict(ckpt, training_state=False)
            else:
                self._warning("%s exists but no checkpoint: the model's weights are not loaded", final_path)
            self._info("%s: run already finished (%s); nothing to do", self.out_dir, final_path.name)
            self.metrics = fin
            return fin

        if self.is_main:
            with contextlib.suppress(FileNotFoundError):
                (self.out_dir / DIVERGED).unlink()  # a retry of a diverged run
        ckpt, ckpt_path = load_checkpoint(self.out_dir)  # every rank loads it
        if ckpt is not None:
            self._check_identity(ckpt.get("identity"), ckpt_path)
            self.load_state_dict(ckpt)
            self.run_log.append({"resumed_at_epoch": self.epoch, "resumed_at_step": self.global_step,
                                 "from": ckpt_path.name, "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                                 "world_size": self.world_size})
            self._info("%s: resuming after epoch %d (step %d) from %s", self.out_dir, self.epoch,
                       self.global_step, ckpt_path.name)
        else:
            self.run_log.append({"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "world_size": self.world_size})

        plan = self.schedule.report(self.planned_steps)
        if plan["not_reached"]:
            self._warning("lr schedule boundaries %s (%s) are beyond the %d planned steps and will "
                        "never be reached", plan["not_reached"], plan["unit"], self.planned_steps)
        if self.hooks.on_train_start:
            self.hooks.on_train_start(self)

        while not self._done():
            self._run_epoch(self.epoch)

        metrics = None
        if self.is_main:
            metrics = self._metrics("finished")
            metrics["timing"]["session_wall_s"] = time.perf_counter() - session_t0
            atomic_write_json(self.out_dir / METRICS, metrics, sort_keys=True)
            atomic_write_json(final_path, metrics, sort_keys=True)
            metrics = read_json(final_path)  # return exactly what a re-run returns
            with contextlib.suppress(FileNotFoundError):
                (self.out_dir / CHECKPOINT_PREV).unlink()
        metrics = _dist.broadcast_object(metrics)  # every rank returns rank 0's metrics
        self.metrics = metrics
        self._info("%s: finished %d epochs, %d steps; %s", self.out_dir, self.epoch, self.global_step,
                 ", ".join(f"{k} acc {v.get('accuracy')}" for k, v in metrics["final_eval"].items()))
        if self.hooks.on_train_end:
            self.hooks.on_train_end(self, metrics)
        return metrics

    def _done(self) -> bool:
        return self.epoch >= self.config.epochs or self.global_step >= self.planned_steps

    # ------------------------------------------------------------ one epoch
    def _run_epoch(self, epoch: int) -> None:
        cfg, model, net, dev = self.config, self.model, self._net, self.device
        world = self.world_size
        seed_epoch(self.train_loader, cfg.seed, epoch, rank=self.rank, world_size=world)
        net.train()
        n_seen, loss_sum, extra_sum, n_labeled = 0, 0.0, 0.0, 0
        correct = torch.zeros((), dtype=torch.long, device=dev)  # summed on device: no extra sync
        win_sum, win_n, lr = 0.0, 0, self.schedule(self.global_step)
        params = [p for g in self.optimizer.param_groups for p in g["params"]]
        show = (cfg.progress if cfg.progress is not None else sys.stderr.isatty()) and self.is_main
        pbar = None
        if tqdm is not None and show:
            pbar = tqdm(total=self.steps_per_epoch, desc=f"epoch {epoch + 1}/{cfg.epochs}",
                        leave=False, dynamic_ncols=True, file=sys.stderr)
        t0 = time.perf_counter()
        try:
            for batch in self.train_loader:
                if self.global_step >= self.planned_steps:
                    break
                x, y = _split_batch(batch)
                x, y = _to(x, dev), _to(y, dev)
                if self.channels_last:
                    x = _channels_last(x)
                if self.hooks.on_batch is not None:
                    x, y = self.hooks.on_batch(model, x, y)  # the rank's share, unwrapped model
                    net.train()
                lr = self.schedule(self.global_step)
                for g in self.optimizer.param_groups:
                    g["lr"] = lr
                with _autocast(dev, cfg.amp):
                    out = net(x)
                loss = _loss(cfg.loss, out, y, cfg.label_smoothing)
                total = loss
                extra_v = 0.0
                extra = None
                if self.hooks.extra_loss is not None:
                    extra = self.hooks.extra_loss(model)
                    total = loss + extra
                    extra_v = float(extra.detach())
                loss_v = float(loss.detach())
                bs_local = bs = int(y.shape[0])
                if world > 1:
                    # the global batch's mean loss (and the ranks' mean extra loss) on every rank:
                    # the single-process numbers in the metrics, one divergence decision everywhere
                    zero = torch.zeros((), dtype=torch.float64, device=loss.device)
                    stats = torch.stack([loss.detach().double() * bs_local,
                                         extra.detach().double().reshape(()) if extra is not None else zero,
                                         zero + bs_local])
                    torch.distributed.all_reduce(stats)
                    bs = int(stats[2])
                    loss_v, extra_v = float(stats[0]) / bs, float(stats[1]) / world
                    if bs_local * world != bs:
                        # DDP averages the ranks' gradients: weight each rank's mean loss by its
                        # share of the global batch, so that the average is the gradient of the
                        # global mean also when the last batch of an epoch is split unevenly
                        total = loss * (bs_local * world / bs) + (extra if extra is not None else 0.0)
                if not math.isfinite(loss_v):
                    self._diverged("loss", loss_v, epoch, lr)
                if not math.isfinite(extra_v):
                    self._diverged("extra loss", extra_v, epoch, lr)
                self.optimizer.zero_grad(set_to_none=True)
                total.backward()
                gnorm = None
                if cfg.grad_clip is not None and cfg.grad_clip_mode == "per_parameter":
                    for q in params:
                        if q.grad is not None:
                            torch.nn.utils.clip_grad_norm_(q, cfg.grad_clip)
                elif cfg.grad_clip is not None:
                    gnorm = torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
                if cfg.check_grad_finite:
                    if gnorm is None:
                        grads = [p.grad.detach() for p in params if p.grad is not None]
                        gnorm = torch.linalg.vector_norm(
                            torch.stack([torch.linalg.vector_norm(g.float()) for g in grads]))
                    if not math.isfinite(float(gnorm)):
                        self._diverged("gradient norm", float(gnorm), epoch, lr)
                self.optimizer.step()
                if self.ema is not None:
                    self.ema.update(model)
                self.global_step += 1

                n_seen += bs
                loss_sum += loss_v * bs
                extra_sum += extra_v * bs
                labels = _class_labels(out, y) if cfg.loss != "multilabel_bce" else None
                if labels is not None:
                    correct += (out.detach().argmax(dim=1) == labels).sum()
                    n_labeled += bs_local
                win_sum += loss_v
                win_n += 1
                if self.global_step % cfg.log_every == 0:
                    self.trace["step"].append(self.global_step)
                    self.trace["loss"].append(win_sum / win_n)
                    self.trace["lr"].append(lr)
                    win_sum, win_n = 0.0, 0
                    log.debug("step %d loss %.6g lr %.6g", self.global_step, self.trace["loss"][-1], lr)
                if pbar is not None:
                    pbar.update(1)
                    if self.global_step % 10 == 0 or self.global_step == self.planned_steps:
                        el = time.perf_counter() - t0
                        pbar.set_postfix(loss=f"{loss_v:.4f}", lr=f"{lr:.3g}",
                                         sps=f"{n_seen / el:.0f}" if el > 0 else "-")
                if self.hooks.on_step_end is not None:
                    self.hooks.on_step_end(self, self.global_step, loss_v)
        finally:
            if pbar is not None:
                pbar.close()
        train_s = time.perf_counter() - t0
        self.timing["train_s"] += train_s
        self.timing["samples"] += n_seen
        if world > 1:  # correct counts of all ranks
            counts = torch.stack([correct, torch.tensor(n_labeled, dtype=torch.long, device=dev)])
            torch.distributed.all_reduce(counts)
            correct, n_labeled = counts[0], int(counts[1])

        record: dict[str, Any] = {
            "epoch": epoch + 1,
            "step": self.global_step,
            "lr": lr,
            "train": {"loss": loss_sum / n_seen if n_seen else None,
                      "accuracy": int(correct) / n_labeled if n_labeled else None,
                      "n": n_seen},
        }
        if self.hooks.extra_loss is not None:
            record["train"]["extra_loss"] = extra_sum / n_seen if n_seen else None
        last = (epoch + 1 >= cfg.epochs) or (self.global_step >= self.planned_steps)
        eval_s = 0.0
        ev = dict(loss=cfg.loss, top_k=cfg.top_k, amp=cfg.amp, channels_last=self.channels_last)
        if self.is_main and self.eval_loaders and ((epoch + 1) % cfg.eval_every == 0 or last):
            t1 = time.perf_counter()
            with _preserved_rng():
                record["eval"] = {name: evaluate(self.eval_model, ld, dev, **ev)
                                  for name, ld in self.eval_loaders.items()}
                if self.ema is not None:
                    record["eval_raw"] = {name: evaluate(model, ld, dev, **ev)
                                          for name, ld in self.eval_loaders.items()}
            eval_s = time.perf_counter() - t1
            self.timing["eval_s"] += eval_s
        record["time"] = {"train_s": train_s, "eval_s": eval_s,
                          "samples_per_s": n_seen / train_s if train_s > 0 else None}
        if self.is_main:
            self.history.append(record)
            self.epoch = epoch + 1
            self._save_checkpoint()
            atomic_write_json(self.out_dir / METRICS, self._metrics("running"), sort_keys=True)
            self._log_epoch(record)
        if world > 1:
            # rank 0's record (with its evaluation); also waits until its checkpoint is written
            record = _dist.broadcast_object(record)
            if not self.is_main:
                self.history.append(record)
                self.epoch = epoch + 1
        if self.hooks.on_epoch_end is not None:
            self.hooks.on_epoch_end(self, record)

    def _log_epoch(self, r: dict) -> None:
        parts = [f"epoch {r['epoch']}/{self.config.epochs}", f"step {r['step']}", f"lr {r['lr']:.3g}",
                 f"train loss {r['train']['loss']:.4f}" if r["train"]["loss"] is not None else "train loss -"]
        if r["train"]["accuracy"] is not None:
            parts.append(f"acc {r['train']['accuracy']:.4f}")
        for name, m in (r.get("eval") or {}).items():
            acc = "-" if m["accuracy"] is None else f"{m['accuracy']:.4f}"
            if m.get("gap") is not None:
                parts.append(f"{name} GAP@20 {m['gap']:.4f} loss {m['loss']:.4f}")
            else:
                parts.append(f"{name} acc {acc} loss {m['loss']:.4f}")
        sps = r["time"]["samples_per_s"]
        parts.append(f"{sps:.0f} samples/s" if sps else "")
        log.info(" | ".join(p for p in parts if p))

    def _diverged(self, what: str, value: float, epoch: int, lr: float):
        marker = self.out_dir / DIVERGED
        info = {"what": what, "value": repr(value), "step": self.global_step + 1, "epoch": epoch + 1,
                "lr": lr, "last_checkpoint_epoch": self.epoch, "run_hash": self.run_hash,
                "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
        if self.is_main:  # every rank sees the same global loss, so all of them raise
            atomic_write_json(marker, info, sort_keys=True)
            try:
                m = self._metrics("diverged")
                m["diverged"] = info
                atomic_write_json(self.out_dir / METRICS, m, sort_keys=True)
            except Exception:  # pragma: no cover - never mask the divergence itself
                log.exception("could not write metrics after divergence")
        err = TrainingDivergedError(self.global_step + 1, epoch + 1, lr, value, what, marker, self.epoch)
        if self.is_main:
            log.error("%s", err)
        raise err

    # ------------------------------------------------------------ metrics
    def _metrics(self, status: str) -> dict:
        cfg = self.config
        evals = [r for r in self.history if "eval" in r]
        final_eval = evals[-1]["eval"] if evals else {}
        best: dict[str, dict] = {}
        for r in evals:
            for name, m in r["eval"].items():
                if m["accuracy"] is None:
                    continue
                if name not in best or m["accuracy"] > best[name]["accuracy"]:
                    best[name] = {**m, "epoch": r["epoch"]}
        report = self.schedule.report(self.global_step)
        n = len(self.trace["step"])
        if n > cfg.trace_max_points:
            idx = sorted(set(np.linspace(0, n - 1, cfg.trace_max_points).round().astype(int).tolist()))
        else:
            idx = list(range(n))
        samples = self.timing["samples"]
        m = {
            "status": status,
            "run_hash": self.run_hash,
            "config_hash": cfg.hash(),
            "config": cfg.to_dict(),
            "identity": self.identity,
            "epochs": cfg.epochs,
            "epochs_completed": self.epoch,
            "steps": self.global_step,
            "planned_steps": self.planned_steps,
            "steps_per_epoch": self.steps_per_epoch,
            "n_params": self.n_params,
            "n_trainable_params": self.n_trainable,
            "device": str(self.device),
            "device_name": device_name(self.device, threads=False),
            "final_train": self.history[-1]["train"] if self.history else {},
            "final_eval": final_eval,
            "best_eval": best,
            "schedule": report,
            "schedule_boundaries_reached": report["reached"],
            "schedule_boundaries_not_reached": report["not_reached"],
            "lr_final": self.history[-1]["lr"] if self.history else None,
            "history": self.history,
            "step_trace": {"every": cfg.log_every, "n_recorded": n,
                           "step": [self.trace["step"][i] for i in idx],
                           "loss": [self.trace["loss"][i] for i in idx],
                           "lr": [self.trace["lr"][i] for i in idx]},
            "timing": {**self.timing,
                       "wall_time_s": self.timing["train_s"] + self.timing["eval_s"] + self.timing["checkpoint_s"],
                       "samples_per_s": samples / self.timing["train_s"] if self.timing["train_s"] > 0 else None},
            "run": {"log": self.run_log, "torch": torch.__version__, "numpy": np.__version__,
                    "python": platform.python_version(), "torch_threads": torch.get_num_threads(),
                    "world_size": self.world_size, "backend": self.dist.backend},
        }
        if evals and "eval_raw" in evals[-1]:
            m["final_eval_raw"] = evals[-1]["eval_raw"]
        return m


def train(model: nn.Module, train_loader, eval_loaders: Mapping[str, Any] | None = None,
          config: TrainConfig | Mapping | None = None, out_dir: str | os.PathLike = ".",
          hooks: Any = None, resume: str = "auto", num_workers: int = 0,
          ddp_kwargs: Mapping[str, Any] | None = None) -> dict:
    """Functional form of ``Trainer(...).fit()``; see :class:`Trainer` (also for DDP under ``torchrun``)."""
    return Trainer(model, train_loader, eval_loaders, config, out_dir, hooks=hooks, resume=resume,
                   num_workers=num_workers, ddp_kwargs=ddp_kwargs).fit()

