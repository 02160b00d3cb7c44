"""Validated training configuration (:class:`TrainConfig`).

Every knob that changes the numbers a run produces lives here, so that the
configuration can be hashed and stored in each checkpoint; resuming a run with a
different configuration is then detected instead of silently mixing two runs.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
from typing import Any, Mapping

__all__ = ["TrainConfig", "COSMETIC_KEYS", "normalize_schedule"]

OPTIMIZERS = ("adam", "adamw", "sgd")
LOSSES = ("cross_entropy", "mse", "multilabel_bce")
GRAD_CLIP_MODES = ("global", "per_parameter")
AMP_MODES = ("none", "bf16")
SCHEDULE_TYPES = ("constant", "piecewise", "multistep", "exponential")

#: Keys that do not change the numbers of a run; they are left out of the hash,
#: so e.g. a run started on a GPU machine may be resumed with ``device="cpu"``.
COSMETIC_KEYS = frozenset({"device", "progress", "channels_last"})

#: Keys added after runs were already hashed: they enter the hash only when they differ from
#: this default, so the hash (and the checkpoint identity) of every earlier config is unchanged.
HASHED_IF_NOT_DEFAULT = {"sync_bn": False, "grad_clip_mode": "global"}


def _fail(key: str, msg: str) -> None:
    raise ValueError(f"invalid training config: {key!r}: {msg}")


def _as_float(key: str, value: Any) -> float:
    # YAML 1.1 reads ``5e-5`` (no dot) as a string; accept numeric strings.
    if isinstance(value, bool):
        _fail(key, f"expected a number, got {value!r}")
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            _fail(key, f"expected a number, got {value!r}")
    if not isinstance(value, (int, float)):
        _fail(key, f"expected a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        _fail(key, f"must be finite, got {value!r}")
    return value


def _as_int(key: str, value: Any) -> int:
    if isinstance(value, bool):
        _fail(key, f"expected an integer, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            _fail(key, f"expected an integer, got {value!r}")
    if not isinstance(value, int):
        _fail(key, f"expected an integer, got {type(value).__name__} {value!r}")
    return int(value)


def _as_bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        _fail(key, f"expected true/false, got {value!r}")
    return value


def _unknown(key_prefix: str, keys, allowed) -> None:
    extra = sorted(set(keys) - set(allowed))
    if extra:
        k = extra[0]
        close = difflib.get_close_matches(k, list(allowed), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        _fail(f"{key_prefix}{k}", f"unknown key{hint}; allowed keys: {sorted(allowed)}")


def normalize_schedule(schedule: Any, lr: float) -> dict:
    """Validate a learning-rate schedule spec and fill in its defaults.

    Parameters
    ----------
    schedule : dict or str or None
        ``{"type": "constant"}`` (also ``"constant"`` or ``None``);
        ``{"type": "piecewise", "boundaries": [...], "values": [...], "unit": "step"|"epoch"}``
        with ``len(values) == len(boundaries) + 1`` and ``values[0] == lr``;
        ``{"type": "multistep", "milestones": [epochs...], "gamma": 0.1}``;
        ``{"type": "exponential", "decay": 0.8, "every_examples": 4_000_000, "staircase": True}``.
    lr : float
        The base learning rate of the config.

    Returns
    -------
    dict
        A new dict with every field explicit (used for hashing).

    Raises
    ------
    ValueError
        Naming the offending key, e.g. ``'schedule.boundaries'``.
    """
    if schedule is None:
        schedule = {"type": "constant"}
    if isinstance(schedule, str):
        schedule = {"type": schedule}
    if not isinstance(schedule, Mapping):
        _fail("schedule", f"expected a mapping with a 'type', got {schedule!r}")
    s = dict(schedule)
    kind = s.get("type")
    if kind not in SCHEDULE_TYPES:
        _fail("schedule.type", f"must be one of {SCHEDULE_TYPES}, got {kind!r}")

    if kind == "constant":
        _unknown("schedule.", s, {"type"})
        return {"type": "constant"}

    if kind == "piecewise":
        _unknown("schedule.", s, {"type", "boundaries", "values", "unit"})
        unit = s.get("unit", "step")
        if unit not in ("step", "epoch"):
            _fail("schedule.unit", f"must be 'step' or 'epoch', got {unit!r}")
        bounds = s.get("boundaries")
        values = s.get("values")
        if not isinstance(bounds, (list, tuple)) or not bounds:
            _fail("schedule.boundaries", f"expected a non-empty list, got {bounds!r}")
        if not isinstance(values, (list, tuple)):
            _fail("schedule.values", f"expected a list, got {values!r}")
        if unit == "step":
            bounds = [_as_int("schedule.boundaries", b) for b in bounds]
        else:  # fractional epochs allowed; integral ones stay ints
            bounds = [_as_float("schedule.boundaries", b) for b in bounds]
            bounds = [int(b) if b.is_integer() else b for b in bounds]
        if any(b <= 0 for b in bounds) or any(b2 <= b1 for b1, b2 in zip(bounds, bounds[1:])):
            _fail("schedule.boundaries", f"must be positive and strictly increasing, got {bounds}")
        values = [_as_float("schedule.values", v) for v in values]
        if len(values) != len(bounds) + 1:
            _fail("schedule.values",
                  f"needs len(boundaries)+1 = {len(bounds) + 1} entries (the value before the "
                  f"first boundary, then one per boundary), got {len(values)}")
        if any(v <= 0 for v in values):
            _fail("schedule.values", f"learning rates must be > 0, got {values}")
        if not math.isclose(values[0], lr, rel_tol=1e-12, abs_tol=0.0):
            _fail("schedule.values", f"values[0]={values[0]!r} must equal lr={lr!r}")
        return {"type": "piecewise", "boundaries": bounds, "values": values, "unit": unit}

    if kind == "multistep":
        _unknown("schedule.", s, {"type", "milestones", "gamma"})
        ms = s.get("milestones")
        if not isinstance(ms, (list, tuple)) or not ms:
            _fail("schedule.milestones", f"expected a non-empty list of epochs, got {ms!r}")
        ms = [_as_int("schedule.milestones", m) for m in ms]
        if any(m <= 0 for m in ms) or any(b <= a for a, b in zip(ms, ms[1:])):
            _fail("schedule.milestones", f"must be positive and strictly increasing, got {ms}")
        gamma = _as_float("schedule.gamma", s.get("gamma", 0.1))
        if not 0.0 < gamma:
            _fail("schedule.gamma", f"must be > 0, got {gamma}")
        return {"type": "multistep", "milestones": ms, "gamma": gamma}

    # exponential
    _unknown("schedule.", s, {"type", "decay", "every_examples", "staircase"})
    if "decay" not in s or "every_examples" not in s:
        _fail("schedule", "exponential schedule needs 'decay' and 'every_examples'")
    decay = _as_float("schedule.decay", s["decay"])
    if not 0.0 < decay:
        _fail("schedule.decay", f"must be > 0, got {decay}")
    every = _as_int("schedule.every_examples", s["every_examples"])
    if every <= 0:
        _fail("schedule.every_examples", f"must be > 0, got {every}")
    staircase = _as_bool("schedule.staircase", s.get("staircase", True))
    return {"type": "exponential", "decay": decay, "every_examples": every, "staircase": staircase}


@dataclasses.dataclass
class TrainConfig:
    """Hyper-parameters of one training run (validated on construction).

    Attributes
    ----------
    optimizer : {"adam", "adamw", "sgd"}
    lr : float
        Base learning rate (> 0). For a piecewise schedule it must equal
        ``schedule["values"][0]``; :meth:`from_dict` fills it from there when omitted.
    momentum, nesterov : float, bool
        SGD only. ``nesterov`` requires ``momentum > 0``.
    weight_decay : float
        L2 penalty added by the optimizer (decoupled for ``adamw``).
    betas, eps : (float, float), float
        Adam / AdamW parameters.
    schedule : dict
        See :func:`normalize_schedule`. Semantics, with ``k`` the number of
        optimizer updates already done (0-based index of the current update):
        piecewise ``lr = values[#{b : k >= b}]`` ("after 40K steps" = the first
        40000 updates use ``values[0]``); with ``unit="epoch"`` a boundary ``b``
        is the step ``b * steps_per_epoch``; multistep
        ``lr * gamma ** #{m : epoch_index >= m}`` (= ``torch.optim.lr_scheduler.MultiStepLR``
        stepped once per epoch); exponential ``lr * decay ** floor(k * batch_size / every_examples)``
        (without floor when ``staircase`` is false).
    epochs : int
        Number of passes over the training loader (>= 1).
    batch_size : int
        Samples per optimizer update, over all processes: under DDP each of the ``W`` processes
        takes ``batch_size / W`` (must be divisible). Must match the loader's batch size; used by
        the exponential schedule.
    seed : int
        In ``[0, 2**32)``. Data order and all RNG streams of epoch ``e`` are pure
        functions of ``(seed, e)``.
    grad_clip : float or None
        Max L2 norm of the gradients (see ``grad_clip_mode``).
    grad_clip_mode : {"global", "per_parameter"}
        ``"global"``: one norm over all gradients (``clip_grad_norm_``); ``"per_parameter"``: every
        parameter tensor's gradient clipped to the norm on its own (TensorFlow's per-variable
        ``clip_by_norm``, the YouTube-8M starter code's and the author's Appendix B choice).
    label_smoothing : float
        In ``[0, 1)``; cross-entropy training loss only (evaluation loss is plain).
    eval_every : int
        Evaluate every this many epochs; the last epoch is always evaluated.
    ema_decay : float or None
        Exponential moving average of the weights (e.g. 0.999), updated after
        every optimizer step. When set, evaluation reports the EMA weights and,
        under ``eval_raw``, the raw weights.
    max_steps : int or None
        Stop after this many optimizer updates (may end inside an epoch).
    device : str
        ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``. Not hashed.
    loss : {"cross_entropy", "mse", "multilabel_bce"}
        ``"mse"`` with integer labels regresses one-hot targets (mean over all entries).
        ``"multilabel_bce"``: the model outputs probabilities and the targets are multi-hot; per example
        ``-sum_c [y log(p + 1e-5) + (1 - y) log(1 - p + 1e-5)]`` (the YouTube-8M starter code's loss),
        and evaluation reports GAP@20 (:func:`toeplitznet.metrics.global_average_precision`) instead of
        accuracy.
    log_every : int
        Record the mean training loss of the last ``log_every`` updates in the step trace.
    top_k : list of int
        Extra top-k accuracies reported by evaluation (e.g. ``[5]``).
    progress : bool or None
        tqdm progress bar; ``None`` = only when stderr is a TTY. Not hashed.
    check_grad_finite : bool
        Also stop when the gradient norm is not finite (costs one norm per step).
    deterministic : bool
        Call ``torch.use_deterministic_algorithms(True)`` and disable cuDNN
        benchmarking. CPU runs are bit-reproducible without it; CUDA runs need it.
    amp : {"none", "bf16"}
        bfloat16 autocast for the forward pass (also under DDP).
    channels_last : bool
        On CUDA, convert the model and 4-d inputs to the ``channels_last`` memory format (faster
        convolutions with cuDNN/tensor cores); ignored on CPU. Not hashed (a layout, like ``device``).
    sync_bn : bool
        Under DDP (world size > 1), convert batch-norm layers to :class:`torch.nn.SyncBatchNorm`,
        so that batch statistics are computed over the global batch (as in a single process) instead
        of each rank's share. Needs CUDA (NCCL); no effect in a single process. Hashed when true.
    drop_last : bool
        Drop the last partial batch of an epoch. Used when the trainer builds the loader from a
        dataset, and under DDP (same batches as in a single process, see ``docs/training.md``).
    trace_max_points : int
        The step trace written to the metrics is subsampled to at most this many points.
    meta : dict
        Free-form JSON-serialisable identification (model name, data set, ...). It
        is part of the hash, so two different experiments never share a checkpoint.
    """

    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    betas: tuple = (0.9, 0.999)
    eps: float = 1e-8
    schedule: dict = dataclasses.field(default_factory=lambda: {"type": "constant"})
    epochs: int = 1
    batch_size: int = 128
    seed: int = 0
    grad_clip: float | None = None
    grad_clip_mode: str = "global"
    label_smoothing: float = 0.0
    eval_every: int = 1
    ema_decay: float | None = None
    max_steps: int | None = None
    device: str = "auto"
    loss: str = "cross_entropy"
    log_every: int = 50
    top_k: list = dataclasses.field(default_factory=list)
    progress: bool | None = None
    check_grad_finite: bool = False
    deterministic: bool = False
    amp: str = "none"
    drop_last: bool = False
    channels_last: bool = False
    sync_bn: bool = False
    trace_max_points: int = 2000
    meta: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            _fail("optimizer", f"unknown optimizer {self.optimizer!r}; choose one of {OPTIMIZERS}")
        self.lr = _as_float("lr", self.lr)
        if self.lr <= 0:
            _fail("lr", f"must be > 0, got {self.lr}")
        self.momentum = _as_float("momentum", self.momentum)
        if not 0.0 <= self.momentum < 1.0:
            _fail("momentum", f"must be in [0, 1), got {self.momentum}")
        self.nesterov = _as_bool("nesterov", self.nesterov)
        if self.nesterov and (self.optimizer != "sgd" or self.momentum <= 0):
            _fail("nesterov", "requires optimizer='sgd' and momentum > 0")
        if self.momentum and self.optimizer != "sgd":
            _fail("momentum", f"only used by optimizer='sgd' (got optimizer={self.optimizer!r})")
        self.weight_decay = _as_float("weight_decay", self.weight_decay)
        if self.weight_decay < 0:
            _fail("weight_decay", f"must be >= 0, got {self.weight_decay}")
        if not isinstance(self.betas, (list, tuple)) or len(self.betas) != 2:
            _fail("betas", f"expected two numbers, got {self.betas!r}")
        self.betas = tuple(_as_float("betas", b) for b in self.betas)
        if not all(0.0 <= b < 1.0 for b in self.betas):
            _fail("betas", f"must be in [0, 1), got {self.betas}")
        self.eps = _as_float("eps", self.eps)
        if self.eps <= 0:
            _fail("eps", f"must be > 0, got {self.eps}")
        self.schedule = normalize_schedule(self.schedule, self.lr)
        self.epochs = _as_int("epochs", self.epochs)
        if self.epochs < 1:
            _fail("epochs", f"must be >= 1, got {self.epochs}")
        self.batch_size = _as_int("batch_size", self.batch_size)
        if self.batch_size < 1:
            _fail("batch_size", f"must be >= 1, got {self.batch_size}")
        self.seed = _as_int("seed", self.seed)
        if not 0 <= self.seed < 2**32:
            _fail("seed", f"must be in [0, 2**32), got {self.seed}")
        if self.grad_clip is not None:
            self.grad_clip = _as_float("grad_clip", self.grad_clip)
            if self.grad_clip <= 0:
                _fail("grad_clip", f"must be > 0 or null, got {self.grad_clip}")
        self.label_smoothing = _as_float("label_smoothing", self.label_smoothing)
        if not 0.0 <= self.label_smoothing < 1.0:
            _fail("label_smoothing", f"must be in [0, 1), got {self.label_smoothing}")
        self.eval_every = _as_int("eval_every", self.eval_every)
        if self.eval_every < 1:
            _fail("eval_every", f"must be >= 1, got {self.eval_every}")
        if self.ema_decay is not None:
            self.ema_decay = _as_float("ema_decay", self.ema_decay)
            if not 0.0 < self.ema_decay < 1.0:
                _fail("ema_decay", f"must be in (0, 1) or null, got {self.ema_decay}")
        if self.max_steps is not None:
            self.max_steps = _as_int("max_steps", self.max_steps)
            if self.max_steps < 1:
                _fail("max_steps", f"must be >= 1 or null, got {self.max_steps}")
        if not isinstance(self.device, str) or not (
            self.device in ("auto", "cpu", "cuda")
            or (self.device.startswith("cuda:") and self.device[5:].isdigit())
        ):
            _fail("device", f"must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {self.device!r}")
        if self.grad_clip_mode not in GRAD_CLIP_MODES:
            _fail("grad_clip_mode", f"unknown mode {self.grad_clip_mode!r}; choose one of {GRAD_CLIP_MODES}")
        if self.loss not in LOSSES:
            _fail("loss", f"unknown loss {self.loss!r}; choose one of {LOSSES}")
        if self.loss != "cross_entropy" and self.label_smoothing:
            _fail("label_smoothing", "only supported with loss='cross_entropy'")
        self.log_every = _as_int("log_every", self.log_every)
        if self.log_every < 1:
            _fail("log_every", f"must be >= 1, got {self.log_every}")
        if not isinstance(self.top_k, (list, tuple)):
            _fail("top_k", f"expected a list of integers, got {self.top_k!r}")
        self.top_k = sorted({_as_int("top_k", k) for k in self.top_k})
        if any(k < 2 for k in self.top_k):
            _fail("top_k", f"entries must be >= 2 (top-1 is always reported), got {self.top_k}")
        if self.progress is not None:
            self.progress = _as_bool("progress", self.progress)
        self.check_grad_finite = _as_bool("check_grad_finite", self.check_grad_finite)
        self.deterministic = _as_bool("deterministic", self.deterministic)
        if self.amp not in AMP_MODES:
            _fail("amp", f"must be one of {AMP_MODES}, got {self.amp!r}")
        self.drop_last = _as_bool("drop_last", self.drop_last)
        self.channels_last = _as_bool("channels_last", self.channels_last)
        self.sync_bn = _as_bool("sync_bn", self.sync_bn)
        self.trace_max_points = _as_int("trace_max_points", self.trace_max_points)
        if self.trace_max_points < 2:
            _fail("trace_max_points", f"must be >= 2, got {self.trace_max_points}")
        if not isinstance(self.meta, Mapping):
            _fail("meta", f"expected a mapping, got {self.meta!r}")
        try:
            self.meta = json.loads(json.dumps(dict(self.meta), sort_keys=True))
        except (TypeError, ValueError) as exc:
            _fail("meta", f"must be JSON-serialisable ({exc})")

    # ------------------------------------------------------------------ I/O
    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | "TrainConfig") -> "TrainConfig":
        """Build a config from a mapping (e.g. parsed YAML).

        Raises
        ------
        ValueError
            For an unknown key (with a "did you mean" hint) or an invalid value;
            the message names the offending key.
        """
        if isinstance(d, cls):
            return d
        if not isinstance(d, Mapping):
            raise ValueError(f"invalid training config: expected a mapping, got {type(d).__name__}")
        names = [f.name for f in dataclasses.fields(cls)]
        _unknown("", d.keys(), names)
        d = dict(d)
        if "lr" not in d and isinstance(d.get("schedule"), Mapping):
            vals = d["schedule"].get("values")
            if d["schedule"].get("type") == "piecewise" and isinstance(vals, (list, tuple)) and vals:
                d["lr"] = vals[0]
        return cls(**d)

    def to_dict(self) -> dict:
        """JSON-serialisable dict (tuples become lists)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    def hashed_dict(self) -> dict:
        """The part of :meth:`to_dict` that identifies a run (no cosmetic keys, and the keys of
        :data:`HASHED_IF_NOT_DEFAULT` only when they differ from their default)."""
        return {k: v for k, v in self.to_dict().items() if k not in COSMETIC_KEYS
                and not (k in HASHED_IF_NOT_DEFAULT and v == HASHED_IF_NOT_DEFAULT[k])}

    def hash(self) -> str:
        """sha256 of the canonical JSON of :meth:`hashed_dict` (hex, 16 chars)."""
        blob = json.dumps(self.hashed_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]
