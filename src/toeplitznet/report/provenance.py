"""Provenance: the sidecar recorded beside every result file.

Every file that carries numbers (``results/<scale>/.../*.json``) gets a sidecar
``<file>.prov.json`` recording how it was made:

* ``git``: commit and dirty flag of the working tree that ran the job;
* ``rule``, ``wildcards``, ``params``: the Snakemake job (or ``cli`` for a standalone run);
* ``config`` and ``config_sha256``: the resolved configuration subset the job read, and its hash;
* ``seeds``; ``scale`` (``smoke`` or ``paper``);
* ``inputs``: sha256 and size of every input file (large files are hashed once and cached,
  see :func:`toeplitznet.io.sha256_file`);
* ``outputs``: sha256 of the file(s) the job wrote, so later edits are detected by the audit;
* ``packages``: versions of the scientific stack; ``device``: CPU model or GPU name;
* ``started`` / ``finished``: UTC timestamps, and ``host``.

This module imports neither torch nor TensorFlow, so that it can run in either environment.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

# The atomic-write, JSON and hashing helpers live in toeplitznet.io, the device facts in
# toeplitznet.runtime; they are re-exported here for existing imports.
from ..io import (atomic_path, atomic_write_bytes, atomic_write_json, atomic_write_text,  # noqa: F401
                  canonical_json, describe_file, dump_json, sha256_bytes, sha256_file, sha256_text, to_jsonable)
from ..runtime import cpu_name, device_description  # noqa: F401

SIDECAR_SUFFIX = ".prov.json"
SCHEMA_VERSION = 1
_PACKAGES = (
    "toeplitznet", "torch", "torchvision", "numpy", "scipy", "kymatio", "matplotlib",
    "pandas", "snakemake", "tensorflow-cpu", "tensorflow",
)


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
        ``"smoke"``, ``"medium"`` or ``"paper"``.
    inputs:
        Paths of every input file (folders are described by a listing hash).
    seeds:
        Seeds used by the job.
    """

    def __init__(self, *, rule: str, scale: str, config: Mapping[str, Any] | None = None,
                 wildcards: Mapping[str, Any] | None = None, params: Mapping[str, Any] | None = None,
                 inputs: Iterable[str | os.PathLike] = (), seeds: Iterable[int] = (),
                 code: Mapping[str, Any] | None = None, threads: int | None = None):
        if scale not in ("smoke", "medium", "paper"):
            raise ValueError(f"scale must be 'smoke', 'medium' or 'paper', got {scale!r}")
        self.rule = rule
        self.scale = scale
        self.config = to_jsonable(dict(config or {}))
        self.wildcards = to_jsonable(dict(wildcards or {}))
        self.params = to_jsonable(dict(params or {}))
        self.input_paths = [str(p) for p in inputs]
        self.seeds = [int(s) for s in seeds]
        self.code = dict(code or {})
        self.threads = threads
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
            "code": self.code,
            "threads": self.threads,
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
