"""Atomic file writes and checkpoint loading with fallback."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
from pathlib import Path
from typing import Any

import torch

__all__ = ["atomic_torch_save", "atomic_write_json", "read_json", "load_checkpoint",
           "to_jsonable", "CHECKPOINT", "CHECKPOINT_PREV", "FINAL", "METRICS", "DIVERGED"]

log = logging.getLogger("toeplitznet.train")

CHECKPOINT = "checkpoint.pt"
CHECKPOINT_PREV = "checkpoint_prev.pt"
FINAL = "final.json"
METRICS = "metrics.json"
DIVERGED = "diverged.json"


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def atomic_torch_save(obj: Any, path: str | os.PathLike, prev: str | os.PathLike | None = None) -> None:
    """``torch.save`` to a temporary file in the same directory, fsync, then
    ``os.replace`` onto ``path``. If ``prev`` is given, the existing ``path`` is
    first moved to ``prev``. A crash at any point leaves either the old or the
    new file under ``path`` (or, in the instant between the two renames, the
    old one under ``prev``, which :func:`load_checkpoint` falls back to)."""
    path = Path(path)
    tmp = _tmp_name(path)
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        if prev is not None and path.exists():
            os.replace(path, prev)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _fsync_dir(path.parent)


def to_jsonable(obj: Any) -> Any:
    """Recursively convert to JSON types; non-finite floats become ``None``."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, (str, int)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, torch.Tensor) and obj.numel() == 1:
        return to_jsonable(obj.item())
    if hasattr(obj, "item"):  # numpy scalars
        return to_jsonable(obj.item())
    return str(obj)


def atomic_write_json(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` as indented JSON via a temporary file and ``os.replace``."""
    path = Path(path)
    tmp = _tmp_name(path)
    try:
        with open(tmp, "w") as f:
            json.dump(to_jsonable(obj), f, indent=1, sort_keys=True, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def read_json(path: str | os.PathLike) -> Any:
    with open(path) as f:
        return json.load(f)


def load_checkpoint(out_dir: str | os.PathLike) -> tuple[dict | None, Path | None]:
    """Load ``checkpoint.pt`` from ``out_dir``, falling back to ``checkpoint_prev.pt``
    when the former is missing or unreadable.

    Returns
    -------
    (dict or None, Path or None)
        The checkpoint (tensors on CPU) and the file it came from; ``(None, None)``
        when neither file exists.

    Raises
    ------
    RuntimeError
        When checkpoint files exist but none can be read.
    """
    out_dir = Path(out_dir)
    errors = []
    for name in (CHECKPOINT, CHECKPOINT_PREV):
        p = out_dir / name
        if not p.exists():
            continue
        try:
            ckpt = torch.load(p, map_location="cpu", weights_only=True)
        except Exception as exc:  # corrupt / truncated file
            errors.append(f"{p}: {type(exc).__name__}: {exc}")
            log.warning("could not read checkpoint %s (%s); trying the previous one", p, exc)
            continue
        if name == CHECKPOINT_PREV:
            log.warning("resuming from the previous checkpoint %s", p)
        return ckpt, p
    if errors:
        raise RuntimeError("no readable checkpoint in %s:\n  %s\n(pass resume='never' to start "
                           "over)" % (out_dir, "\n  ".join(errors)))
    return None, None
