"""Checksums, sizes and the ``MANIFEST.json`` of a fetched dataset.

A file verifies when any accepted :class:`~toeplitznet.data.registry.Checksum` of its
:class:`~toeplitznet.data.registry.FileSpec` matches (``sha256-gunzip`` compares the decompressed
payload).  The manifest lists every verified file (name, size, sha256, the checksum that matched,
where it came from); it is deterministic (sorted keys, no time stamps) and written atomically.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..io import atomic_write_text, remember_sha256
from .registry import Checksum, FileSpec

__all__ = [
    "MANIFEST_NAME",
    "MANIFEST_SCHEMA",
    "Verification",
    "FileRecord",
    "hash_file",
    "verify_file",
    "read_manifest",
    "write_manifest",
]

MANIFEST_NAME = "MANIFEST.json"
MANIFEST_SCHEMA = "toeplitznet.data.manifest/1"
CHUNK_SIZE = 1 << 20
#: fsync files and folders around the atomic renames of the data package (durability across power
#: loss).  Tests switch it off for speed; ``TOEPLITZNET_DATA_FSYNC=0`` does the same.
FSYNC = os.environ.get("TOEPLITZNET_DATA_FSYNC", "1") != "0"
GUNZIP = "sha256-gunzip"


def new_hash(algorithm: str):
    """A fresh :mod:`hashlib` object (not for security: identities of public files)."""
    return hashlib.new(algorithm, usedforsecurity=False)


def hash_file(
    path: str | os.PathLike, algorithms: Iterable[str] = ("sha256",), chunk_size: int = CHUNK_SIZE
) -> dict[str, str]:
    """Hash a file in chunks with several algorithms in one pass.

    ``"sha256-gunzip"`` hashes the decompressed payload of a gzip file (a second pass).
    """
    algorithms = list(dict.fromkeys(algorithms))
    hashes = {a: new_hash(a) for a in algorithms if a != GUNZIP}
    if hashes:
        with open(path, "rb") as fh:
            while chunk := fh.read(chunk_size):
                for h in hashes.values():
                    h.update(chunk)
    out = {a: h.hexdigest() for a, h in hashes.items()}
    if GUNZIP in algorithms:
        out[GUNZIP] = _gunzip_sha256(path, chunk_size)
    return out


def _gunzip_sha256(path: str | os.PathLike, chunk_size: int = CHUNK_SIZE) -> str:
    h = hashlib.sha256()
    with gzip.open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class Verification:
    """Outcome of checking one file against a :class:`FileSpec`."""

    ok: bool
    size: int
    digests: dict[str, str]
    matched: Checksum | None = None
    warnings: list[str] = field(default_factory=list)

    def actual_text(self) -> str:
        return ", ".join(f"{a}:{d}" for a, d in sorted(self.digests.items())) + f" ({self.size} bytes)"


def plain_algorithms(spec: FileSpec) -> list[str]:
    """The algorithms hashed while a file streams by: sha256 (always) and the spec's, bar gunzip."""
    algos = ["sha256"] + [a for a in spec.algorithms if a != GUNZIP]
    return list(dict.fromkeys(algos))


def match(spec: FileSpec, path: Path, size: int, digests: dict[str, str]) -> Verification:
    """Compare computed digests (and, as a fallback, the gunzip payload of ``path``) with the spec."""
    v = Verification(ok=False, size=size, digests=dict(digests))
    for c in spec.checksums:
        if c.algorithm != GUNZIP and digests.get(c.algorithm) == c.digest:
            v.ok, v.matched = True, c
            if c.size is not None and c.size != size:
                v.warnings.append(
                    f"{spec.filename}: {c.algorithm} matches but size is {size}, registry says {c.size}"
                    " (the registry size is wrong; digest is authoritative)"
                )
            return v
    gunzip = [c for c in spec.checksums if c.algorithm == GUNZIP]
    if gunzip:
        try:
            digest = _gunzip_sha256(path)
        except (OSError, EOFError, gzip.BadGzipFile, ValueError):
            return v
        v.digests[GUNZIP] = digest
        for c in gunzip:
            if digest == c.digest:
                v.ok, v.matched = True, c
                return v
    return v


def verify_file(path: str | os.PathLike, spec: FileSpec) -> Verification:
    """Hash ``path`` and check it against ``spec`` (any accepted checksum verifies)."""
    path = Path(path)
    before = path.stat()
    digests = hash_file(path, plain_algorithms(spec))
    v = match(spec, path, before.st_size, digests)
    if v.ok:  # later readers (the YouTube-8M converter, check_manifest) take the sha256 from the cache
        remember_sha256(path, digests["sha256"], before=before)
    return v


@dataclass
class FileRecord:
    """One verified file as written into the manifest."""

    name: str
    size: int
    sha256: str
    verified_with: str
    source: str  # "present" | "mirror" | "system" | "url"
    origin: str
    md5: str | None = None

    @classmethod
    def of(cls, name: str, v: Verification, source: str, origin: str) -> "FileRecord":
        """The record of a successful :class:`Verification`."""
        assert v.matched is not None
        return cls(name=name, size=v.size, sha256=v.digests["sha256"],
                   verified_with=f"{v.matched.algorithm}:{v.matched.digest}", source=source, origin=origin,
                   md5=v.digests.get("md5"))

    def to_json(self) -> dict[str, Any]:
        d = {
            "name": self.name,
            "size": self.size,
            "sha256": self.sha256,
            "verified_with": self.verified_with,
            "source": self.source,
            "origin": self.origin,
        }
        if self.md5 is not None:
            d["md5"] = self.md5
        return d


def read_manifest(root: str | os.PathLike, name: str = MANIFEST_NAME) -> dict[str, Any] | None:
    """The manifest written by :func:`fetch` in ``root``, or ``None`` if absent/unreadable."""
    p = Path(root) / name
    try:
        with open(p, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def check_manifest(manifest: str | os.PathLike) -> list[str]:
    """Re-verify the files a ``MANIFEST.json`` lists: each must exist with its recorded size and sha256
    (hashes cached by path, size and mtime, so a re-check of unchanged files is cheap). Returns one message
    per problem (empty: all good)."""
    from ..io import sha256_file

    manifest = Path(manifest)
    try:
        body = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"{manifest}: unreadable dataset manifest ({exc})"]
    problems = []
    for rec in body.get("files", []):
        f = manifest.parent / rec["name"]
        if not f.is_file():
            problems.append(f"{f}: listed in {manifest} but missing")
            continue
        size = f.stat().st_size
        if rec.get("size") is not None and size != int(rec["size"]):
            problems.append(f"{f}: {size} bytes, {manifest} records {rec['size']}")
        elif rec.get("sha256") and sha256_file(f, cache=True) != rec["sha256"]:
            problems.append(f"{f}: sha256 differs from {manifest} (the file changed after it was verified)")
    return problems


def write_manifest(root: Path, body: dict[str, Any], name: str) -> Path:
    """Write ``{"schema": ..., **body}`` as ``root/name`` (sorted keys, atomically); return its path."""
    body = {"schema": MANIFEST_SCHEMA, **body}
    path = root / name
    atomic_write_text(path, json.dumps(body, indent=2, sort_keys=True) + "\n", fsync=FSYNC)
    return path
