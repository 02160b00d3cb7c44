"""Where and how a job runs: device resolution, device naming, seeding.

torch is imported lazily, inside the functions that need a device; :func:`cpu_name`,
:func:`device_description` and :func:`seed_everything` never import it (a TensorFlow job must not load
torch) and only use it when it is already in ``sys.modules``.
"""

from __future__ import annotations

import os
import platform
import random
import sys
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # torch is imported lazily
    import torch

__all__ = ["resolve_device", "device_name", "cpu_name", "device_description", "seed_everything"]


def resolve_device(want: str | torch.device = "auto", threads: int | None = None, who: str = "") -> torch.device:
    """The ``torch.device`` for config value ``want``: ``"auto"`` (CUDA when available), ``"cpu"``,
    ``"cuda"`` / ``"cuda:N"``, or a ``torch.device``.

    ``threads`` (when given) sets ``torch.set_num_threads``. Asking for CUDA on a machine without one
    raises :class:`RuntimeError` naming ``who`` (e.g. ``"study table_5_1"``) and the config key ``device``.
    """
    import torch  # noqa: F811

    if threads is not None:
        torch.set_num_threads(max(1, int(threads)))
    if isinstance(want, torch.device):
        dev = want
    elif want in (None, "auto"):
        dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        try:
            dev = torch.device(str(want))
        except RuntimeError as exc:
            raise ValueError(f"{who + ': ' if who else ''}config key device={want!r} is not 'auto', 'cpu', "
                             f"'cuda' or 'cuda:N'") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"{who + ': ' if who else ''}config key device={str(want)!r} asks for CUDA, but no "
                           "CUDA device is visible (torch.cuda.is_available() is False); "
                           "set device=auto or device=cpu")
    return dev


def device_name(device: str | torch.device, *, threads: bool = True) -> str:
    """``"CPU: <model> (<n> torch threads)"`` for a CPU device (without the count when ``threads`` is
    false), else the CUDA device's name."""
    import torch  # noqa: F811

    device = torch.device(device)
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return torch.cuda.get_device_name(index)
    if device.type != "cpu":
        return str(device)
    name = f"CPU: {cpu_name()}"
    return f"{name} ({torch.get_num_threads()} torch threads)" if threads else name


@lru_cache(maxsize=1)
def cpu_name() -> str:
    """The CPU model (``/proc/cpuinfo``'s "model name"), else what :mod:`platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def device_description() -> dict[str, Any]:
    """CPU model and core count, plus torch's thread count and GPU name when torch is already imported.

    This is the ``device`` entry of every provenance sidecar; a job that used a GPU imported torch.
    """
    info: dict[str, Any] = {"cpu": cpu_name(), "cpu_count": os.cpu_count(), "platform": platform.platform()}
    torch = sys.modules.get("torch")
    if torch is not None:
        info["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
            info["cuda"] = torch.version.cuda
    return info


def seed_everything(seed: int) -> int:
    """Seed Python ``random``, NumPy's global RNG (``seed % 2**32``) and, when imported, torch (CPU and
    every CUDA device). Returns ``int(seed)``.

    Kernels are not made deterministic here (see ``TrainConfig(deterministic=True)``).
    """
    seed = int(seed)
    random.seed(seed)
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    else:
        np.random.seed(seed % 2**32)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)  # also seeds every CUDA device
    return seed
