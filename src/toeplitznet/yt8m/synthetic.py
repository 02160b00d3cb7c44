"""Seeded synthetic YouTube-8M videos in the real schema, with learnable labels (numpy only).

A stand-in for smoke runs and tests, not a model of the real data's statistics. Each class ``c`` has a
fixed prototype ``P_c`` (Gaussian, 1152-d, drawn from ``prototype_seed`` only, so shards made with
different ``seed`` share them). A video draws 1..``max_labels`` distinct labels with Zipf-like class
frequencies ``p_c ∝ 1/(c+1)^s`` (class 0 the most frequent, as the real vocabulary is roughly sorted by
frequency), a frame count uniform in [``min_frames``, ``max_frames``], and frames

    x_t = signal · Σ_{l in labels} P_l + video_noise · e + frame_noise · e_t,    e, e_t ~ N(0, I)

quantised to uint8 like the real features (:func:`~.schema.quantize`). ``mean_rgb`` / ``mean_audio``
are the averages of the dequantised frames, exactly how the real video-level features are defined.
Ids are 4 characters of ``a-z A-Z 0-9`` (as the 2018 release's anonymised ids), unique within a call.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from .schema import FEATURE_DIM, MAX_FRAMES, RGB_DIM, dequantize, quantize

__all__ = ["SyntheticConfig", "SyntheticVideo", "prototypes", "class_frequencies", "generate"]

_ID_ALPHABET = string.ascii_lowercase + string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class SyntheticConfig:
    """Parameters of the synthetic world (defaults: a small smoke-scale vocabulary of 100 classes)."""

    n_classes: int = 100
    prototype_seed: int = 0
    min_frames: int = 10
    max_frames: int = MAX_FRAMES
    max_labels: int = 4
    zipf_exponent: float = 1.0
    signal: float = 0.15
    video_noise: float = 0.5
    frame_noise: float = 0.5

    def __post_init__(self) -> None:
        if self.n_classes < 1:
            raise ValueError(f"n_classes must be >= 1, got {self.n_classes}")
        if not 1 <= self.min_frames <= self.max_frames:
            raise ValueError(f"need 1 <= min_frames <= max_frames, got {self.min_frames}, {self.max_frames}")
        if self.max_labels < 1:
            raise ValueError(f"max_labels must be >= 1, got {self.max_labels}")


@dataclass(frozen=True)
class SyntheticVideo:
    """One video: ``id``, sorted int64 ``labels``, uint8 ``rgb`` [n, 1024] and ``audio`` [n, 128]."""

    id: str
    labels: np.ndarray
    rgb: np.ndarray
    audio: np.ndarray

    @property
    def n_frames(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def mean_rgb(self) -> np.ndarray:
        """float32 [1024]: mean of the dequantised rgb frames."""
        return dequantize(self.rgb).mean(axis=0, dtype=np.float64).astype(np.float32)

    @property
    def mean_audio(self) -> np.ndarray:
        """float32 [128]: mean of the dequantised audio frames."""
        return dequantize(self.audio).mean(axis=0, dtype=np.float64).astype(np.float32)


def prototypes(n_classes: int, prototype_seed: int = 0) -> np.ndarray:
    """float32 [n_classes, 1152] class prototypes, N(0, 1) entries, a function of the seed only."""
    rng = np.random.default_rng((int(prototype_seed), 0x5954))
    return rng.standard_normal((n_classes, FEATURE_DIM), dtype=np.float32)


def class_frequencies(n_classes: int, exponent: float = 1.0) -> np.ndarray:
    """Zipf-like class probabilities ``∝ 1/(c+1)^exponent`` (float64, sum 1)."""
    w = 1.0 / np.arange(1, n_classes + 1, dtype=np.float64) ** exponent
    return w / w.sum()


def _ids(rng: np.random.Generator, n: int) -> list[str]:
    codes = rng.choice(len(_ID_ALPHABET) ** 4, size=n, replace=False)
    out = []
    for code in codes.tolist():
        chars = []
        for _ in range(4):
            code, r = divmod(code, len(_ID_ALPHABET))
            chars.append(_ID_ALPHABET[r])
        out.append("".join(chars))
    return out


def generate(n_videos: int, seed: int, config: SyntheticConfig | None = None) -> Iterator[SyntheticVideo]:
    """Yield ``n_videos`` synthetic videos, a deterministic function of ``seed`` and ``config``."""
    cfg = config or SyntheticConfig()
    if n_videos < 0:
        raise ValueError(f"n_videos must be >= 0, got {n_videos}")
    protos = prototypes(cfg.n_classes, cfg.prototype_seed) * np.float32(cfg.signal)
    freq = class_frequencies(cfg.n_classes, cfg.zipf_exponent)
    rng = np.random.default_rng((int(seed), 0x8A))
    ids = _ids(rng, n_videos)
    max_labels = min(cfg.max_labels, cfg.n_classes)
    for vid in ids:
        k = int(rng.integers(1, max_labels + 1))
        labels = np.sort(rng.choice(cfg.n_classes, size=k, replace=False, p=freq)).astype(np.int64)
        n = int(rng.integers(cfg.min_frames, cfg.max_frames + 1))
        base = protos[labels].sum(axis=0)
        base += np.float32(cfg.video_noise) * rng.standard_normal(FEATURE_DIM, dtype=np.float32)
        frames = np.float32(cfg.frame_noise) * rng.standard_normal((n, FEATURE_DIM), dtype=np.float32)
        frames += base
        q = quantize(frames)
        yield SyntheticVideo(id=vid, labels=labels, rgb=np.ascontiguousarray(q[:, :RGB_DIM]),
                             audio=np.ascontiguousarray(q[:, RGB_DIM:]))
