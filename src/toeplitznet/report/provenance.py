"""Provenance: atomic writes, hashing, and the sidecar recorded beside every result file.

Every file that carries numbers (``results/<scale>/.../*.json``) gets a sidecar
``<file>.prov.json`` recording how it was made:

* ``git``: commit and dirty flag of the working tree that ran the job;
* ``rule``, ``wildcards``, ``params``: the Snakemake job (or ``cli`` for a standalone run);
* ``config`` and ``config_sha256``: the resolved configuration subset the job read, and its hash;
* ``seeds``; ``scale`` (``smoke`` or ``paper``);
* ``inputs``: sha256 and size of every input file (large files are hashed once and cached);
* ``outputs``: sha256 of the file(s) the job wrote, so later edits are detected by the audit;
* ``packages``: versions of the scientific stack; ``device``: CPU model or GPU name;
* ``started`` / ``finished``: UTC timestamps, and ``host``.

This module imports neither torch nor TensorFlow, so that it can run in either environment.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

SIDECAR_SUFFIX = ".prov.json"
SCHEMA_VERSION = 1
_CHUNK = 1 << 20
# Files larger than this are hashed once and the digest cached by (path, size, mtime).
BIG_FILE_BYTES = 64 << 20
_PACKAGES = (
    "toeplitznet", "torch", "torchvision", "numpy", "scipy", "kymatio", "matplotlib",
    "pandas", "snakemake", "tensorflow-cpu", "tensorflow",
)


# --------------------------------------------------------------------------- atomic I/O
@contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path in the destination folder; on success, move it onto ``path``.

    The move is an ``os.replace`` within one folder, so readers see either the old file or the
    complete new one, never a partial write. On error the temporary file is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results are meant to be shared like any file
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically: a reader sees the old file or the whole new one."""
    atomic_write_bytes(path, text.encode("utf-8"))


def to_jsonable(obj: Any) -> Any:
    """Convert numpy/torch scalars, tuples, paths and Snakemake containers to plain JSON types."""
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else str(obj)
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if hasattr(obj, "tolist"):  # numpy arrays and scalars, torch tensors
        return to_jsonable(obj.tolist())
    if hasattr(obj, "item") and callable(obj.item):
        return to_jsonable(obj.item())
    if isinstance(obj, Iterable):
        return [to_jsonable(v) for v in obj]
    return str(obj)


def canonical_json(obj: Any) -> str:
    """Deterministic JSON text (sorted keys, no whitespace variation) used for hashing."""
    return json.dumps(to_jsonable(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def dump_json(obj: Any) -> str:
    return json.dumps(to_jsonable(obj), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON (numpy / torch / paths converted) to ``path`` atomically."""
    atomic_write_text(path, dump_json(obj))


# --------------------------------------------------------------------------- hashing
def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    return sha256_bytes(text.encode("utf-8"))


def _sha256_file_uncached(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _cache_file() -> Path:
    return Path(os.environ.get("TOEPLITZNET_HASH_CACHE", ".snakemake/toeplitznet-hash-cache.json"))


def sha256_file(path: str | os.PathLike) -> str:
    """sha256 of a file; files over ``BIG_FILE_BYTES`` are cached by (path, size, mtime_ns)."""
    path = Path(path)
    st = path.stat()
    if st.st_size < BIG_FILE_BYTES:
        return _sha256_file_uncached(path)
    key = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    cache_path = _cache_file()
    try:
        cache = json.loads(cache_path.read_text())
    except (OSError, ValueError):
        cache = {}
    if key in cache:
        return cache[key]
    digest = _sha256_file_uncached(path)
    cache[key] = digest
    try:
        atomic_write_json(cache_path, cache)
    except OSError:
        pass
    return digest


def describe_file(path: str | os.PathLike) -> dict[str, Any]:
    """``{"path", "sha256", "bytes"}`` of a file, or of every file under a folder (listing hash)."""
    path = Path(path)
    if path.is_dir():
        entries = sorted(p for p in path.rglob("*") if p.is_file())
        listing = "\n".join(f"{p.relative_to(path)} {sha256_file(p)}" for p in entries)
        return {"path": str(path), "sha256": sha256_text(listing), "bytes": sum(p.stat().st_size for p in entries),
                "kind": "directory", "files": len(entries)}
    return {"path": str(path), "sha256": sha256_file(path), "bytes": path.stat().st_size}


# --------------------------------------------------------------------------- environment facts
@lru_cache(maxsize=1)
def git_state(cwd: str | None = None) -> dict[str, Any]:
    """Commit and dirty flag of the repository holding ``cwd`` (``None`` fields outside git)."""
    def _git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                                  check=True, timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def package_versions(names: Iterable[str] = _PACKAGES) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_description() -> dict[str, Any]:
    """CPU model and core count, plus the GPU name when torch is already imported and sees one.

    torch is never imported here (a TensorFlow job must not load it); jobs that used a GPU
    have imported torch already.
    """
    info: dict[str, Any] = {"cpu": cpu_name(), "cpu_count": os.cpu_count(), "platform": platform.platform()}
    torch = sys.modules.get("torch")
    if torch is not None:
        info["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
            info["cuda"] = torch.version.cuda
    return info


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- sidecars
def sidecar_path(path: str | os.PathLike) -> Path:
    """The provenance sidecar of a result file: ``<path>.prov.json``."""
    return Path(f"{path}{SIDECAR_SUFFIX}")


class Provenance:
    """Collects the facts of one job and writes result files with their sidecars.

    Parameters
    ----------
    rule, wildcards, params:
        Identify the job (``rule="cli"`` for a standalone run).
    config:
        The resolved configuration subset this job depends on. Its canonical-JSON sha256 is stored.
    scale:
        ``"smoke"`` or ``"paper"``.
    inputs:
        Paths of every input file (folders are described by a listing hash).
    seeds:
        Seeds used by the job.
    """

    def __init__(self, *, rule: str, scale: str, config: Mapping[str, Any] | None = None,
                 wildcards: Mapping[str, Any] | None = None, params: Mapping[str, Any] | None = None,
                 inputs: Iterable[str | os.PathLike] = (), seeds: Iterable[int] = ()):
        if scale not in ("smoke", "paper"):
            raise ValueError(f"scale must be 'smoke' or 'paper', got {scale!r}")
        self.rule = rule
        self.scale = scale
        self.config = to_jsonable(dict(config or {}))
        self.wildcards = to_jsonable(dict(wildcards or {}))
        self.params = to_jsonable(dict(params or {}))
        self.input_paths = [str(p) for p in inputs]
        self.seeds = [int(s) for s in seeds]
        self.started = utc_now()
        self._inputs: list[dict[str, Any]] | None = None

    @property
    def config_sha256(self) -> str:
        return sha256_text(canonical_json(self.config))

    def inputs(self) -> list[dict[str, Any]]:
        if self._inputs is None:
            self._inputs = [describe_file(p) for p in self.input_paths]
        return self._inputs

    def record(self, outputs: Iterable[str | os.PathLike]) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "rule": self.rule,
            "wildcards": self.wildcards,
            "params": self.params,
            "scale": self.scale,
            "config": self.config,
            "config_sha256": self.config_sha256,
            "seeds": self.seeds,
            "git": git_state(),
            "inputs": self.inputs(),
            "outputs": [describe_file(p) for p in outputs],
            "packages": package_versions(),
            "device": device_description(),
            "host": platform.node(),
            "started": self.started,
            "finished": utc_now(),
        }

    def write_json(self, path: str | os.PathLike, data: Any) -> Path:
        """Write ``data`` as JSON atomically, then its sidecar. Returns the path written."""
        path = Path(path)
        atomic_write_json(path, data)
        self.write_sidecar(path)
        return path

    def write_sidecar(self, *outputs: str | os.PathLike) -> Path:
        """Write the sidecar of already-written output file(s); the sidecar sits beside the first."""
        side = sidecar_path(outputs[0])
        atomic_write_json(side, self.record(outputs))
        return side


def read_sidecar(path: str | os.PathLike) -> dict[str, Any]:
    """Load the sidecar of a result file; raise ``FileNotFoundError`` naming it if missing."""
    side = sidecar_path(path)
    if not side.exists():
        raise FileNotFoundError(f"{path}: provenance sidecar {side} is missing")
    return json.loads(side.read_text())
