"""The one file-I/O layer: atomic writes, JSON conversion and hashing.

Atomic writes go to a temporary file in the destination folder, are fsynced, then moved onto the
destination with :func:`os.replace`: a reader sees either the old file or the complete new one, and a
failed writer leaves the old file untouched and no temporary file behind.

JSON policy (one for study results, training metrics, sidecars and manifests alike): JSON has no NaN or
infinity, so :func:`to_jsonable` turns NaN, ``inf`` and ``-inf`` into ``null``. A null value is a missing
number: renderers show no number for it (a table cell with status ``n/a``). A diverged run is recognised
by its ``status`` / ``diverged`` fields, not by a non-finite value. numpy and torch scalars and arrays,
tuples, sets and paths become plain JSON types.

This module imports neither torch nor TensorFlow.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import math
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    "atomic_path", "atomic_write_bytes", "atomic_write_text", "atomic_write_json", "fsync_dir",
    "DirectAppender",
    "to_jsonable", "canonical_json", "dump_json", "read_json",
    "sha256_bytes", "sha256_text", "sha256_file", "remember_sha256", "describe_file", "BIG_FILE_BYTES",
]

_CHUNK = 1 << 20
#: Files at least this large are hashed once and the digest cached by (path, size, mtime_ns).
BIG_FILE_BYTES = 64 << 20


# --------------------------------------------------------------------------- atomic writes
def fsync_dir(path: str | os.PathLike) -> None:
    """fsync a folder so that a rename inside it survives a crash (best effort)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _set_direct(fd: int, on: bool) -> bool:
    """Turn O_DIRECT on or off for ``fd``; False where the system or file system has none."""
    if not hasattr(os, "O_DIRECT"):
        return False
    try:
        import fcntl

        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, (flags | os.O_DIRECT) if on else (flags & ~os.O_DIRECT))
    except (OSError, ImportError):
        return False
    return on


def _write_all(fd: int, data: memoryview) -> None:
    while data:  # a raw write may take less than asked
        data = data[os.write(fd, data):]


class DirectAppender:
    """Append bytes to the file open on ``fd`` (at its current offset, a multiple of :attr:`BLOCK`) without
    the page cache: Linux O_DIRECT writes from a page-aligned staging buffer of ``stage_bytes``.

    A converter that streams a whole dataset to disk has no use for the written pages in the cache, and
    filling the cache costs it CPU (fresh pages, then their writeback at the fsync); with O_DIRECT the
    disk reads the staged bytes itself. The last partial block goes through the cache at :meth:`finish`.
    Where O_DIRECT is unavailable (other systems, tmpfs) or the file system refuses a write's alignment,
    the appender writes through the cache instead (``direct`` tells which). Not thread-safe: one writer.
    """

    BLOCK = 4096  # the largest logical block size in common use: offsets and lengths are multiples of it

    def __init__(self, fd: int, stage_bytes: int = 1 << 20) -> None:
        import mmap

        self.fd = fd
        self.direct = os.lseek(fd, 0, os.SEEK_CUR) % self.BLOCK == 0 and _set_direct(fd, True)
        self._stage = mmap.mmap(-1, stage_bytes) if self.direct else None  # anonymous: page-aligned
        self._fill = 0

    def write(self, data: memoryview | bytes) -> None:
        data = memoryview(data).cast("B")
        while data:
            if not self.direct:
                _write_all(self.fd, data)
                return
            stage = memoryview(self._stage)
            n = min(len(data), len(stage) - self._fill)
            stage[self._fill:self._fill + n] = data[:n]
            self._fill += n
            data = data[n:]
            whole = self._fill - self._fill % self.BLOCK
            if whole and (self._fill == len(stage) or not data):
                self._flush(whole)

    def _flush(self, nbytes: int) -> None:
        stage = memoryview(self._stage)
        try:
            _write_all(self.fd, stage[:nbytes])
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
            # the file system refused the alignment (nothing was written): everything staged goes through
            # the cache, and so does the rest of the file
            self.direct = _set_direct(self.fd, False)
            _write_all(self.fd, stage[:self._fill])
            self._fill = 0
            return
        rest = self._fill - nbytes
        stage[:rest] = stage[nbytes:self._fill]
        self._fill = rest

    def finish(self) -> None:
        """Write what is staged (the last partial block, through the cache) and free the staging buffer."""
        if self._stage is None:
            return
        if self._fill:
            _set_direct(self.fd, False)
            _write_all(self.fd, memoryview(self._stage)[:self._fill])
            self._fill = 0
        self._stage.close()
        self._stage = None


def _fsync_file(path: str | os.PathLike) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str = ".tmp", fsync: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block succeeds, move it onto ``path``.

    The temporary file (``.<name>.<random><suffix>``, mode 0666 minus the umask) exists when the block
    starts; the block writes it by any means. With ``fsync`` the file and then the folder are synced
    around the rename. On any exception the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; results are shared like any file
    finally:
        os.close(fd)
    try:
        yield Path(tmp)
        if fsync:
            _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if fsync:
        fsync_dir(path.parent)


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, fsync: bool = True) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path, fsync=fsync) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)


def atomic_write_text(path: str | os.PathLike, text: str, *, fsync: bool = True) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"), fsync=fsync)


def atomic_write_json(path: str | os.PathLike, obj: Any, *, indent: int = 2, sort_keys: bool = False,
                      fsync: bool = True) -> None:
    """Write ``obj`` as JSON (converted by :func:`to_jsonable`, NaN/inf as null) to ``path`` atomically."""
    atomic_write_text(path, dump_json(obj, indent=indent, sort_keys=sort_keys), fsync=fsync)


def read_json(path: str | os.PathLike) -> Any:
    """Parse a JSON file."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


# --------------------------------------------------------------------------- JSON
def to_jsonable(obj: Any) -> Any:
    """Plain JSON types for ``obj``; NaN and ±inf become ``None`` (the module's single NaN policy).

    Mappings (keys as ``str``), sequences, sets (sorted when possible), paths, numpy/torch scalars and
    arrays are converted recursively; anything else becomes ``str(obj)``.
    """
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if hasattr(obj, "tolist") and callable(obj.tolist):  # numpy arrays and scalars, torch tensors
        return to_jsonable(obj.tolist())
    if hasattr(obj, "item") and callable(obj.item):
        return to_jsonable(obj.item())
    if isinstance(obj, (set, frozenset)):
        items = [to_jsonable(v) for v in obj]
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=canonical_json)
    if isinstance(obj, (bytes, bytearray)):
        return obj.hex()
    if isinstance(obj, Iterable):
        return [to_jsonable(v) for v in obj]
    return str(obj)


def canonical_json(obj: Any) -> str:
    """Deterministic JSON text (sorted keys, no whitespace, ASCII) of ``obj``; what hashes are taken of."""
    return json.dumps(to_jsonable(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)


def dump_json(obj: Any, *, indent: int = 2, sort_keys: bool = False) -> str:
    """Indented JSON text of ``obj`` with a final newline (the format of every written JSON file)."""
    return json.dumps(to_jsonable(obj), indent=indent, sort_keys=sort_keys, ensure_ascii=False,
                      allow_nan=False) + "\n"


# --------------------------------------------------------------------------- hashing
def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    """Hex sha256 of UTF-8 text."""
    return sha256_bytes(text.encode("utf-8"))


def _sha256_file_uncached(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _cache_file() -> Path:
    return Path(os.environ.get("TOEPLITZNET_HASH_CACHE", ".snakemake/toeplitznet-hash-cache.json"))


_CACHE_LOCK = threading.Lock()  # threads of one process (a converter hashes and publishes in threads)


def _cache_key(path: Path, st: os.stat_result) -> str:
    return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"


def _read_cache() -> dict[str, str]:
    try:
        cache = json.loads(_cache_file().read_text())
    except (OSError, ValueError):
        return {}
    return cache if isinstance(cache, dict) else {}


def _store(key: str, digest: str) -> None:
    """Add one entry (read-modify-write under the lock; another process's concurrent entry may be lost,
    which costs a re-hash, never a wrong digest)."""
    with _CACHE_LOCK:
        cache = _read_cache()
        cache[key] = digest
        with contextlib.suppress(OSError):
            atomic_write_json(_cache_file(), cache)


def sha256_file(path: str | os.PathLike, *, cache: bool | None = None) -> str:
    """sha256 of a file; files of ``BIG_FILE_BYTES`` or more (any file with ``cache=True``) are cached by
    (path, size, mtime_ns).

    The cache is the JSON file named by ``$TOEPLITZNET_HASH_CACHE`` (default
    ``.snakemake/toeplitznet-hash-cache.json``); an unreadable or unwritable cache is ignored. Writers
    that hash what they write put the digest there with :func:`remember_sha256`.
    """
    path = Path(path)
    st = path.stat()
    if not (cache if cache is not None else st.st_size >= BIG_FILE_BYTES):
        return _sha256_file_uncached(path)
    key = _cache_key(path, st)
    with _CACHE_LOCK:
        known = _read_cache().get(key)
    if known is not None:
        return known
    digest = _sha256_file_uncached(path)
    remember_sha256(path, digest, before=st)  # not recorded if the file changed while it was read
    return digest


def remember_sha256(path: str | os.PathLike, digest: str, *, before: os.stat_result | None = None) -> None:
    """Record ``digest`` as the sha256 of the file ``path`` in :func:`sha256_file`'s cache, so that the next
    reader of a file that was hashed while it was written or verified (a converted shard, a download)
    does not read it again. ``before``: the file's stat taken before it was hashed; the digest is not
    recorded when the file has changed since (nor when it is missing)."""
    path = Path(path)
    try:
        st = path.stat()
    except OSError:
        return
    if before is not None and (before.st_size, before.st_mtime_ns, before.st_ino) != (
            st.st_size, st.st_mtime_ns, st.st_ino):
        return
    _store(_cache_key(path, st), digest)


def describe_file(path: str | os.PathLike) -> dict[str, Any]:
    """``{"path", "sha256", "bytes"}`` of a file, or of every file under a folder (listing hash)."""
    path = Path(path)
    if path.is_dir():
        entries = sorted(p for p in path.rglob("*") if p.is_file())
        listing = "\n".join(f"{p.relative_to(path)} {sha256_file(p)}" for p in entries)
        return {"path": str(path), "sha256": sha256_text(listing), "bytes": sum(p.stat().st_size for p in entries),
                "kind": "directory", "files": len(entries)}
    return {"path": str(path), "sha256": sha256_file(path), "bytes": path.stat().st_size}
