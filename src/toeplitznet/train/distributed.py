"""Multi-process data-parallel training (``torch.distributed`` / DDP) under ``torchrun``.

One process per GPU (or several CPU processes with the ``gloo`` backend). ``torchrun`` starts the
processes and sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``;
:func:`init_from_env` turns them into a process group, and :class:`~toeplitznet.train.Trainer` then
trains the model with :class:`~torch.nn.parallel.DistributedDataParallel` (see the "Distributed
training" section of ``docs/training.md`` for the sampling, batch-size and resume semantics).
:func:`launch` starts such a job from Python (``python -m torch.distributed.run --standalone``) and
raises :class:`DistributedLaunchError` naming the rank that failed.

Every helper here also works in a plain single process (no ``torchrun``, no process group):
:func:`world` is 1, :func:`is_main` is true and :func:`barrier` does nothing.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import torch
import torch.distributed as dist

__all__ = ["DistInfo", "init_from_env", "is_distributed", "is_main", "rank", "local_rank", "world",
           "barrier", "cleanup", "broadcast_object", "per_rank_batch_size", "launch",
           "DistributedLaunchError", "DEFAULT_TIMEOUT_S"]

log = logging.getLogger("toeplitznet.train.distributed")

#: Collective timeout of the process group. Evaluation and checkpoint writing run on rank 0 while
#: the other ranks wait in a collective, so this must exceed the longest evaluation (the NCCL
#: default of 10 minutes is too short for large evaluation sets). ``TOEPLITZNET_DIST_TIMEOUT_S``
#: overrides it.
DEFAULT_TIMEOUT_S = 3600.0


@dataclasses.dataclass(frozen=True)
class DistInfo:
    """Where this process stands in the job.

    Attributes
    ----------
    rank, world_size, local_rank : int
        Global rank, number of processes, rank on this node (``0, 1, 0`` outside ``torchrun``).
    backend : str or None
        ``"nccl"``/``"gloo"``, or None when no process group was created (single process).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None

    @property
    def is_main(self) -> bool:
        """True on rank 0, the process that writes checkpoints, metrics and logs."""
        return self.rank == 0


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise RuntimeError(f"environment variable {name}={value!r} is not an integer") from None


def is_distributed() -> bool:
    """True when a process group with more than one process is initialised."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def world() -> int:
    """Number of processes of the initialised process group (1 without one)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    """Global rank of this process (0 without a process group)."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def local_rank() -> int:
    """Rank of this process on its node (``LOCAL_RANK``; 0 outside ``torchrun``)."""
    return _env_int("LOCAL_RANK", 0)


def is_main() -> bool:
    """True on rank 0 (and in a single process)."""
    return rank() == 0


def current() -> DistInfo:
    """:class:`DistInfo` of the initialised process group (single-process values without one)."""
    if dist.is_available() and dist.is_initialized():
        return DistInfo(dist.get_rank(), dist.get_world_size(), local_rank(), dist.get_backend())
    return DistInfo()


def init_from_env(backend: str | None = None, timeout_s: float | None = None) -> DistInfo:
    """Create the process group from ``torchrun``'s environment.

    Reads ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` (and, through ``init_method="env://"``,
    ``MASTER_ADDR``/``MASTER_PORT``). Without those variables, or with ``WORLD_SIZE=1``, no
    process group is created and the single-process :class:`DistInfo` is returned, so the same
    entry point runs with or without ``torchrun``. Calling it again returns the existing group.

    Parameters
    ----------
    backend : {"nccl", "gloo"}, optional
        Default: ``TOEPLITZNET_DIST_BACKEND`` if set, else ``"nccl"`` when CUDA is available and
        ``"gloo"`` otherwise.
    timeout_s : float, optional
        Collective timeout (default :data:`DEFAULT_TIMEOUT_S` or ``TOEPLITZNET_DIST_TIMEOUT_S``).

    Notes
    -----
    With CUDA, the current device is set to ``cuda:LOCAL_RANK`` (one GPU per process).
    """
    if not dist.is_available():
        raise RuntimeError("torch.distributed is not available in this torch build")
    if dist.is_initialized():
        return current()
    world_size = _env_int("WORLD_SIZE", 1)
    if world_size <= 1:
        return DistInfo(0, 1, _env_int("LOCAL_RANK", 0), None)
    missing = [v for v in ("RANK", "MASTER_ADDR", "MASTER_PORT") if not os.environ.get(v)]
    if missing:
        raise RuntimeError(f"WORLD_SIZE={world_size} but {', '.join(missing)} not set: start the job "
                           "with torchrun (toeplitznet.train.distributed.launch)")
    rnk, lrank = _env_int("RANK", 0), _env_int("LOCAL_RANK", 0)
    backend = backend or os.environ.get("TOEPLITZNET_DIST_BACKEND") or (
        "nccl" if torch.cuda.is_available() else "gloo")
    if backend == "nccl":
        if not torch.cuda.is_available():
            raise RuntimeError("backend 'nccl' needs CUDA; use 'gloo' for CPU processes")
        if lrank >= torch.cuda.device_count():
            raise RuntimeError(f"LOCAL_RANK={lrank} but only {torch.cuda.device_count()} CUDA devices "
                               "are visible: start at most one process per GPU")
    if torch.cuda.is_available() and lrank < torch.cuda.device_count():
        torch.cuda.set_device(lrank)
    if timeout_s is None:
        timeout_s = float(os.environ.get("TOEPLITZNET_DIST_TIMEOUT_S") or DEFAULT_TIMEOUT_S)
    dist.init_process_group(backend, init_method="env://", rank=rnk, world_size=world_size,
                            timeout=datetime.timedelta(seconds=float(timeout_s)))
    info = current()
    log.debug("process group: rank %d/%d (local rank %d), backend %s", info.rank, info.world_size,
              info.local_rank, info.backend)
    return info


def barrier() -> None:
    """Wait for every process of the group (no-op in a single process)."""
    if not is_distributed():
        return
    if dist.get_backend() == "nccl":
        dist.barrier(device_ids=[torch.cuda.current_device()])
    else:
        dist.barrier()


def cleanup() -> None:
    """Destroy the process group if there is one (idempotent)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """``obj`` of rank ``src`` on every rank (picklable objects; identity in a single process)."""
    if not is_distributed():
        return obj
    box = [obj if rank() == src else None]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def per_rank_batch_size(batch_size: int, world_size: int) -> int:
    """``batch_size // world_size``; ``batch_size`` is the global batch of one optimizer update.

    Raises
    ------
    ValueError
        Naming the config key ``batch_size`` when it is not divisible by the world size.
    """
    if world_size < 1:
        raise ValueError(f"world size must be >= 1, got {world_size}")
    if batch_size % world_size:
        raise ValueError(
            f"invalid training config: 'batch_size': the global batch size {batch_size} is not "
            f"divisible by the world size {world_size} (each of the {world_size} processes gets "
            f"batch_size / world_size samples per update); choose a multiple of {world_size}")
    return batch_size // world_size


# ------------------------------------------------------------------------------------- launcher
class DistributedLaunchError(RuntimeError):
    """A ``torchrun`` job failed (or timed out).

    Attributes
    ----------
    returncode : int or None
        Exit code of ``torchrun`` itself (None after a timeout).
    rank, local_rank, exitcode : int or None
        The first failed worker as reported by torchrun's "Root Cause" summary.
    output : str
        Everything the job printed (stdout and stderr merged).
    """

    def __init__(self, msg: str, *, returncode: int | None = None, rank: int | None = None,
                 local_rank: int | None = None, exitcode: int | None = None, output: str = ""):
        super().__init__(msg)
        self.returncode, self.rank, self.local_rank, self.exitcode = returncode, rank, local_rank, exitcode
        self.output = output


_ENTRY = re.compile(r"^\[(\d+)\]:\s*$", re.M)
_RANK = re.compile(r"rank\s*:\s*(\d+)\s*\(local_rank:\s*(\d+)\)")
_EXIT = re.compile(r"exitcode\s*:\s*(-?\d+)")
#: errors a rank gets because *another* rank died (it was waiting for it in a collective)
_PEER_ERROR = re.compile(r"Connection (closed|reset) by peer|remote worker|Broken pipe|DistBackendError|"
                         r"NCCL communicator was aborted|Watchdog caught collective operation timeout|"
                         r"ProcessGroup\w* is (aborted|terminated)", re.I)


def _failures(output: str) -> list[dict]:
    """The failed workers of torchrun's error summary, root cause first."""
    start = output.rfind("Root Cause")
    fail = output.rfind("Failures:", 0, start if start >= 0 else None)
    out = []
    for section in ([output[start:]] if start >= 0 else []) + ([output[fail:start]] if 0 <= fail < start else []):
        marks = list(_ENTRY.finditer(section))
        for i, m in enumerate(marks):
            block = section[m.end():marks[i + 1].start() if i + 1 < len(marks) else len(section)]
            r, e = _RANK.search(block), _EXIT.search(block)
            if r and e:
                out.append({"rank": int(r.group(1)), "local_rank": int(r.group(2)),
                            "exitcode": int(e.group(1)), "text": block})
    return out


def _failure(output: str) -> tuple[int | None, int | None, int | None]:
    """(rank, local rank, exit code) of the rank that failed first for its own reasons.

    torchrun's "Root Cause" is the first failure its agent *observed*; when a rank raises, the
    others waiting for it in a collective fail too ("Connection closed by peer", NCCL aborts) or
    are stopped with SIGTERM, sometimes observed first. Those are skipped when a rank with another
    error exists."""
    fails = _failures(output)
    for f in fails:
        own = _rank_tail(output, f["rank"], n=40) if f"[rank{f['rank']}]:" in output else ""
        if f["exitcode"] > 0 and not _PEER_ERROR.search(f["text"] + own):
            return f["rank"], f["local_rank"], f["exitcode"]
    if fails:
        return fails[0]["rank"], fails[0]["local_rank"], fails[0]["exitcode"]
    return None, None, None


def _rank_tail(output: str, rnk: int | None, n: int = 25) -> str:
    """The last ``n`` lines that rank ``rnk`` printed (torchrun prefixes them ``[rankN]:``)."""
    lines = output.splitlines()
    if rnk is not None:
        prefix = f"[rank{rnk}]:"
        own = [ln[len(prefix):].lstrip() for ln in lines if ln.startswith(prefix)]
        if own:
            return "\n".join(own[-n:])
    return "\n".join(lines[-n:])


def _package_root() -> str:
    return str(Path(__file__).resolve().parents[2])  # .../src, holding the toeplitznet package


def launch(nproc: int, module: str, args: Sequence[str] = (), *, env: Mapping[str, str] | None = None,
           timeout: float | None = None, cwd: str | os.PathLike | None = None,
           stream: bool | Callable[[str], Any] = True) -> subprocess.CompletedProcess:
    """Run ``python -m torch.distributed.run --standalone --nproc_per_node=<nproc> -m <module> <args>``.

    ``python`` is :data:`sys.executable`, so the job uses this interpreter's torch; the directory
    holding this ``toeplitznet`` package is put first on the workers' ``PYTHONPATH`` so they run
    the same code as the caller. ``--standalone`` rendezvous on a free local port (single node).

    Parameters
    ----------
    nproc : int
        Processes on this node (one per GPU; CPU processes use the ``gloo`` backend).
    module : str
        Module run by every process, e.g. ``"toeplitznet.runs.ddp_worker"``.
    args : sequence of str
        Its command-line arguments.
    env : mapping, optional
        Variables added to (overriding) this process's environment.
    timeout : float, optional
        Seconds; the job is terminated (SIGTERM, then SIGKILL) when it runs longer.
    cwd : path, optional
    stream : bool or callable
        ``True``: echo each output line to ``sys.stderr`` as it arrives; a callable receives each
        line instead; ``False``: only collect it. Lines are also logged at DEBUG level.

    Returns
    -------
    subprocess.CompletedProcess
        ``returncode`` 0 and ``stdout`` holding the merged stdout and stderr of all processes.

    Raises
    ------
    DistributedLaunchError
        When the job fails, naming the first failed rank, its exit code and its last output lines;
        or when it times out.
    """
    nproc = int(nproc)
    if nproc < 1:
        raise ValueError(f"nproc must be >= 1, got {nproc}")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
           "-m", module, *map(str, args)]
    full_env = dict(os.environ)
    full_env.update({str(k): str(v) for k, v in (env or {}).items()})
    pp = full_env.get("PYTHONPATH", "")
    root = _package_root()
    if root not in pp.split(os.pathsep):
        full_env["PYTHONPATH"] = root + (os.pathsep + pp if pp else "")
    full_env.setdefault("PYTHONUNBUFFERED", "1")
    log.info("launching %d processes: %s", nproc, " ".join(cmd))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                            env=full_env, cwd=cwd, start_new_session=True, errors="replace")
    lines: list[str] = []
    echo = stream if callable(stream) else ((lambda s: (sys.stderr.write(s), sys.stderr.flush()))
                                            if stream else None)

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            log.debug("%s", line.rstrip("\n"))
            if echo is not None:
                try:
                    echo(line)
                except Exception:  # pragma: no cover - never lose the output because of the echo
                    pass

    reader = threading.Thread(target=pump, name="torchrun-output", daemon=True)
    reader.start()
    t0 = time.monotonic()
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _terminate(proc)
        reader.join(timeout=10)
        out = "".join(lines)
        raise DistributedLaunchError(
            f"torchrun {module} ({nproc} processes) timed out after {timeout:g} s and was terminated; "
            f"last output:\n{_rank_tail(out, None)}", output=out) from None
    except BaseException:  # KeyboardInterrupt: do not leave the job running
        _terminate(proc)
        raise
    reader.join(timeout=30)
    out = "".join(lines)
    log.info("torchrun %s finished with exit code %d after %.1f s", module, rc, time.monotonic() - t0)
    if rc != 0:
        rnk, lrank, code = _failure(out)
        if rnk is not None:
            msg = (f"torchrun {module} ({nproc} processes) failed: rank {rnk} (local rank {lrank}) "
                   f"exited with code {code}; its last output:\n{_rank_tail(out, rnk)}")
        else:
            msg = (f"torchrun {module} ({nproc} processes) failed with exit code {rc}; last output:\n"
                   f"{_rank_tail(out, None)}")
        raise DistributedLaunchError(msg, returncode=rc, rank=rnk, local_rank=lrank, exitcode=code, output=out)
    return subprocess.CompletedProcess(cmd, rc, stdout=out, stderr=None)


def _terminate(proc: subprocess.Popen, grace_s: float = 15.0) -> None:
    """SIGTERM to torchrun's process group (torchrun then stops its workers), SIGKILL after ``grace_s``."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        proc.terminate()
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
        proc.wait()
