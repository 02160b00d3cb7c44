"""Checkpoint writing and loading with fallback; the file helpers come from :mod:`toeplitznet.io`."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import torch

# re-exported for existing imports: one implementation, path first, NaN/inf -> null
from ..io import atomic_path, atomic_write_json, read_json, to_jsonable

__all__ = ["atomic_torch_save", "atomic_write_json", "read_json", "load_checkpoint",
           "to_jsonable", "CHECKPOINT", "CHECKPOINT_PREV", "FINAL", "METRICS", "DIVERGED"]

log = logging.getLogger("toeplitznet.train")

CHECKPOINT = "checkpoint.pt"
CHECKPOINT_PREV = "checkpoint_prev.pt"
FINAL = "final.json"
METRICS = "metrics.json"
DIVERGED = "diverged.json"


def atomic_torch_save(obj: Any, path: str | os.PathLike, prev: str | os.PathLike | None = None) -> None:
    """``torch.save`` through :func:`toeplitznet.io.atomic_path` (temporary file, fsync,
    ``os.replace``). If ``prev`` is given, the existing ``path`` is first moved to
    ``prev``. A crash at any point leaves either the old or the new file under
    ``path`` (or, in the instant between the two renames, the old one under
    ``prev``, which :func:`load_checkpoint` falls back to)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
        if prev is not None and path.exists():
            os.replace(path, prev)


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
