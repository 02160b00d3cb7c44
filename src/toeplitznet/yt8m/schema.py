"""The YouTube-8M 2018 schema, its 8-bit quantisation and the converted-shard file layout (numpy only).

Facts from the official starter code (``google/youtube-8m@4ca7736``, see ``shared/research/youtube8m.md``):

* 3862 classes (2018 release; the author's readers hard-code ``n_classes=3862``);
* per frame (1 frame/s, at most 300 frames) a 1024-d rgb and a 128-d audio feature, stored as uint8;
  the readers concatenate them to 1152 = 1024 + 128 (``readers.py``);
* quantisation between -2 and 2: the extractor clips to [-2, 2] and stores
  ``round((x + 2) * 255 / 4)``; the readers dequantise with ``q * 4/255 + 4/512 - 2`` (the centre of the
  bin; ``utils.py`` ``Dequantize``, ``feature_extractor/extract_tfrecords_main.py``);
* video level ``mean_rgb`` / ``mean_audio`` are the averages of the dequantised frames.

Converted shard ``<prefix>`` (written by :mod:`.shards`, ``FORMAT_VERSION`` 2; a raw data file and a
numpy ``.npz`` without pickles, both memory-mappable):

* frame level: ``<prefix>.frame.bin``, raw uint8 [total_frames, 1152] in C order without a header (rgb
  then audio, still quantised); ``<prefix>.index.npz`` with ``frame_offsets`` int64 [n+1],
  ``label_offsets`` int64 [n+1], ``labels`` int32 [n_labels], ``ids`` fixed-width bytes [n];
* video level: ``<prefix>.video.bin``, raw little-endian float32 [n, 1152] (mean_rgb then mean_audio);
  ``<prefix>.index.npz`` with ``label_offsets``, ``labels``, ``ids``;
* ``<prefix>.json``: the shard manifest, written last (its presence marks a complete shard): counts, the
  data file's layout ``"data": {"dtype": "|u1" | "<f4", "shape": [rows, 1152]}`` (numpy dtype strings) and
  ``"files"``, the sha256 of each whole file (what ``sha256sum`` prints), computed while it is written.
  Read the data with :func:`~.shards.load_shard` or ``np.memmap(path, dtype, mode="r", shape=shape)``.

Format 1 stored the data as ``.npy``, whose header (the row count) could only be written last, so the
file had to be read back to hash it. Format 1 shards are refused: convert them again.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = [
    "N_CLASSES", "RGB_DIM", "AUDIO_DIM", "FEATURE_DIM", "MAX_FRAMES", "QUANT_MIN", "QUANT_MAX",
    "DEQUANT_SCALE", "DEQUANT_BIAS", "LEVELS", "FORMAT_VERSION", "DATA_SUFFIX", "INDEX_SUFFIX",
    "MANIFEST_SUFFIX", "dequantize", "quantize", "shard_paths", "check_level",
    "ShardFormatError", "IngestError",
]

N_CLASSES = 3862
RGB_DIM = 1024
AUDIO_DIM = 128
FEATURE_DIM = RGB_DIM + AUDIO_DIM  # 1152
MAX_FRAMES = 300
QUANT_MIN = -2.0
QUANT_MAX = 2.0
#: ``x = q * DEQUANT_SCALE + DEQUANT_BIAS`` (the starter code's ``Dequantize``): 4/255 and 4/512 - 2.
DEQUANT_SCALE = (QUANT_MAX - QUANT_MIN) / 255.0
DEQUANT_BIAS = (QUANT_MAX - QUANT_MIN) / 512.0 + QUANT_MIN

LEVELS = ("video", "frame")
FORMAT_VERSION = 2
#: Data file of each level, after the prefix.
DATA_SUFFIX = {"frame": ".frame.bin", "video": ".video.bin"}
INDEX_SUFFIX = ".index.npz"
MANIFEST_SUFFIX = ".json"


def dequantize(q: np.ndarray) -> np.ndarray:
    """float32 ``q * 4/255 + (4/512 - 2)`` of uint8 codes (q = 0 -> -1.9921875, q = 255 -> 2.0078125)."""
    q = np.asarray(q)
    return q.astype(np.float32) * np.float32(DEQUANT_SCALE) + np.float32(DEQUANT_BIAS)


def quantize(x: np.ndarray) -> np.ndarray:
    """uint8 ``round((clip(x, -2, 2) + 2) * 255/4)`` (round half to even, as Python's ``round``)."""
    x = np.clip(np.asarray(x, dtype=np.float64), QUANT_MIN, QUANT_MAX)
    return np.rint((x - QUANT_MIN) * (255.0 / (QUANT_MAX - QUANT_MIN))).astype(np.uint8)


def check_level(level: str) -> str:
    """``level`` if it is ``"video"`` or ``"frame"``, else :class:`ValueError`."""
    if level not in LEVELS:
        raise ValueError(f"YouTube-8M level must be one of {LEVELS}, got {level!r}")
    return level


def shard_paths(prefix: str | os.PathLike, level: str) -> dict[str, Path]:
    """``{"data", "index", "manifest"}`` paths of the converted shard ``prefix`` (suffixes appended, so a
    prefix may contain dots)."""
    p = os.fspath(prefix)
    return {"data": Path(p + DATA_SUFFIX[check_level(level)]), "index": Path(p + INDEX_SUFFIX),
            "manifest": Path(p + MANIFEST_SUFFIX)}


class ShardFormatError(ValueError):
    """A converted shard file is missing, damaged or inconsistent; the message names the file."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class IngestError(ValueError):
    """A TFRecord shard cannot be read or does not follow the schema; names the shard and the record."""

    def __init__(self, path: str | os.PathLike, problem: str, record: int | None = None) -> None:
        self.path = os.fspath(path)
        self.problem = problem
        self.record = record
        where = f"record {record}: " if record is not None else ""
        super().__init__(f"{self.path}: {where}{problem}")
