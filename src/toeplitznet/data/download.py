"""Verified, offline-friendly dataset acquisition.

:func:`fetch` makes a dataset's files present and verified in a ``root`` folder, trying for each
file, in order:

a. the file already in ``root``: kept if it verifies; if it does not, a :class:`ChecksumError`
   is raised (a corrupted file is never silently replaced) unless ``redownload=True``;
b. configured mirror folders (the ``mirror`` argument, then the ``TOEPLITZNET_DATA_MIRROR``
   environment variable, ``os.pathsep``-separated), each searched as ``<mirror>/<dataset>/<file>``
   and ``<mirror>/<file>``; then system folders an OS package installs (Debian's
   ``/usr/share/datasets/fashion-mnist``).  A candidate is used only if it verifies; it is copied
   (default), symlinked or hard-linked into ``root``;
c. the registry's URLs, in order, with :mod:`urllib`, streamed into a temporary file in ``root``,
   hashed while written, verified, then atomically renamed (:func:`os.replace`).

When every file is in place, ``root/MANIFEST.json`` is written atomically (file names, sizes,
sha256, the checksum that verified each file, and where it came from).  That manifest is the
output a Snakemake download rule declares; it is deterministic (no time stamps), so re-running a
completed fetch rewrites identical bytes.

Failures are explicit: :class:`DatasetUnavailableError` names the dataset, the missing files, the
destination, every URL and mirror location tried, the configuration keys (``data.mirror``,
``data.<name>.root``) and how to obtain the files offline; :class:`ChecksumError` names the
file, the accepted and the actual digests.  Nothing partial is ever left under a final name.

ImageNet (``kind == "folder"``) is never downloaded: ``fetch("imagenet", root,
source_dir=...)`` checks the user's folder (:func:`check_imagenet_layout`) and writes a manifest
with counts, a hash of the full listing (names and sizes) and the sha256 of a deterministic
sample of files; hashing all ~150 GB on every run would cost hours for no practical gain over
the listing hash plus sample (a truncated or swapped file changes the listing or, for the
sampled files, the hash).

YouTube-8M (``kind == "plan"``) follows the official download plan: see
:mod:`toeplitznet.data.youtube8m`.

Command line::

    python -m toeplitznet.data.download DATASET --root DIR [--mirror DIR] [--no-download]

exits with status 2 and the message on stderr when the data cannot be made available.

Not safe for two concurrent fetches into the *same* root (stale temporary files of an earlier,
interrupted run are removed at start).
"""

from __future__ import annotations

import argparse
import errno
import gzip
import hashlib
import http.client
import json
import logging
import os
import re
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from . import youtube8m as yt8m
from .registry import (
    IMAGENET_ARCHIVES,
    IMAGENET_COUNTS,
    Checksum,
    DatasetSpec,
    FileSpec,
    get_spec,
    list_datasets,
)

__all__ = [
    "DataError",
    "DatasetUnavailableError",
    "ChecksumError",
    "LayoutError",
    "FileRecord",
    "FetchResult",
    "Verification",
    "MANIFEST_NAME",
    "MIRROR_ENV",
    "fetch",
    "verify",
    "verify_file",
    "hash_file",
    "read_manifest",
    "check_imagenet_layout",
    "main",
]

log = logging.getLogger("toeplitznet.data")

MANIFEST_NAME = "MANIFEST.json"
MANIFEST_SCHEMA = "toeplitznet.data.manifest/1"
#: Environment variable with extra mirror folders (``os.pathsep``-separated).
MIRROR_ENV = "TOEPLITZNET_DATA_MIRROR"
CHUNK_SIZE = 1 << 20
#: fsync files and folders before/after the atomic renames (durability across power loss).  Tests
#: switch it off for speed; ``TOEPLITZNET_DATA_FSYNC=0`` does the same.
FSYNC = os.environ.get("TOEPLITZNET_DATA_FSYNC", "1") != "0"
USER_AGENT = "toeplitznet-data/0.1 (+urllib)"
_NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, OSError, TimeoutError, ValueError)
_LINK_MODES = ("copy", "symlink", "hardlink")


# ---------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------


class DataError(RuntimeError):
    """Base class of the data-acquisition errors."""


class DatasetUnavailableError(DataError):
    """The dataset's files are neither present, nor in a mirror, nor downloadable.

    Attributes: ``dataset``, ``missing`` (file names), ``destination`` (root path), ``urls``
    (every URL tried or that would be tried), ``config_keys``.
    """

    def __init__(
        self,
        message: str,
        *,
        dataset: str = "",
        missing: Sequence[str] = (),
        destination: str | os.PathLike | None = None,
        urls: Sequence[str] = (),
        config_keys: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.dataset = dataset
        self.missing = tuple(missing)
        self.destination = None if destination is None else str(destination)
        self.urls = tuple(urls)
        self.config_keys = tuple(config_keys)


class ChecksumError(DataError):
    """A file does not match any accepted checksum.

    Attributes: ``dataset``, ``path`` (the file or URL), ``expected`` (accepted identities, as
    ``algorithm:digest`` strings), ``actual`` (``{algorithm: digest}`` computed).
    """

    def __init__(
        self,
        message: str,
        *,
        dataset: str = "",
        path: str = "",
        expected: Sequence[str] = (),
        actual: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.dataset = dataset
        self.path = path
        self.expected = tuple(expected)
        self.actual = dict(actual or {})


class LayoutError(DatasetUnavailableError):
    """A user-provided folder (ImageNet) does not have the expected layout."""


# ---------------------------------------------------------------------------------------------
# hashing and verification
# ---------------------------------------------------------------------------------------------


def _new_hash(algorithm: str):
    return hashlib.new(algorithm, usedforsecurity=False)


def hash_file(
    path: str | os.PathLike, algorithms: Iterable[str] = ("sha256",), chunk_size: int = CHUNK_SIZE
) -> dict[str, str]:
    """Hash a file in chunks with several algorithms in one pass.

    ``"sha256-gunzip"`` hashes the decompressed payload of a gzip file (a second pass).
    """
    algorithms = list(dict.fromkeys(algorithms))
    plain = [a for a in algorithms if a != "sha256-gunzip"]
    hashes = {a: _new_hash(a) for a in plain}
    if hashes:
        with open(path, "rb") as fh:
            while chunk := fh.read(chunk_size):
                for h in hashes.values():
                    h.update(chunk)
    out = {a: h.hexdigest() for a, h in hashes.items()}
    if "sha256-gunzip" in algorithms:
        digest, _ = _gunzip_sha256(path, chunk_size)
        out["sha256-gunzip"] = digest
    return out


def _gunzip_sha256(path: str | os.PathLike, chunk_size: int = CHUNK_SIZE) -> tuple[str, int]:
    h = hashlib.sha256()
    n = 0
    with gzip.open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            h.update(chunk)
            n += len(chunk)
    return h.hexdigest(), n


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


def _plain_algorithms(spec: FileSpec) -> list[str]:
    algos = ["sha256"] + [a for a in spec.algorithms if a != "sha256-gunzip"]
    return list(dict.fromkeys(algos))


def _match(spec: FileSpec, path: Path, size: int, digests: dict[str, str]) -> Verification:
    """Compare computed digests (and, as a fallback, the gunzip payload) with the spec."""
    v = Verification(ok=False, size=size, digests=dict(digests))
    for c in spec.checksums:
        if c.algorithm != "sha256-gunzip" and digests.get(c.algorithm) == c.digest:
            v.ok, v.matched = True, c
            if c.size is not None and c.size != size:
                v.warnings.append(
                    f"{spec.filename}: {c.algorithm} matches but size is {size}, registry says {c.size}"
                    " (the registry size is wrong; digest is authoritative)"
                )
            return v
    gunzip = [c for c in spec.checksums if c.algorithm == "sha256-gunzip"]
    if gunzip:
        try:
            digest, n = _gunzip_sha256(path)
        except (OSError, EOFError, gzip.BadGzipFile, ValueError):
            return v
        v.digests["sha256-gunzip"] = digest
        for c in gunzip:
            if digest == c.digest:
                v.ok, v.matched = True, c
                return v
    return v


def verify_file(path: str | os.PathLike, spec: FileSpec) -> Verification:
    """Hash ``path`` and check it against ``spec`` (any accepted checksum verifies)."""
    path = Path(path)
    size = path.stat().st_size
    digests = hash_file(path, _plain_algorithms(spec))
    return _match(spec, path, size, digests)


def _expected_list(spec: FileSpec) -> list[str]:
    return [c.describe() + (f" [{c.origin}]" if c.origin else "") for c in spec.checksums]


def _checksum_error(dataset: str, spec: FileSpec, where: str, v: Verification, extra: str = "") -> ChecksumError:
    expected = _expected_list(spec)
    msg = (
        f"Checksum mismatch for {spec.filename!r} of dataset {dataset!r} ({where}).\n"
        f"  expected one of:\n    " + "\n    ".join(expected) + "\n"
        f"  actual: {v.actual_text()}"
    )
    if extra:
        msg += "\n" + extra
    return ChecksumError(msg, dataset=dataset, path=where, expected=[c.describe() for c in spec.checksums],
                         actual=v.digests)


# ---------------------------------------------------------------------------------------------
# records and manifest
# ---------------------------------------------------------------------------------------------


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


@dataclass
class FetchResult:
    """What :func:`fetch` made available."""

    dataset: str
    root: Path
    manifest_path: Path | None
    files: list[FileRecord]
    extra: dict[str, Any] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        return self.root / name


def _record(name: str, v: Verification, source: str, origin: str) -> FileRecord:
    assert v.matched is not None
    return FileRecord(
        name=name,
        size=v.size,
        sha256=v.digests["sha256"],
        verified_with=f"{v.matched.algorithm}:{v.matched.digest}",
        source=source,
        origin=origin,
        md5=v.digests.get("md5"),
    )


def read_manifest(root: str | os.PathLike, name: str = MANIFEST_NAME) -> dict[str, Any] | None:
    """The manifest written by :func:`fetch` in ``root``, or ``None`` if absent/unreadable."""
    p = Path(root) / name
    try:
        with open(p, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _file_mode() -> int:
    """0o666 minus the process umask (mkstemp creates 0o600 files; data should be shareable)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        os.fchmod(fd, _file_mode())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if FSYNC:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        _unlink_quiet(tmp)
        raise
    _fsync_dir(path.parent)


def _write_manifest(root: Path, body: dict[str, Any], name: str) -> Path:
    body = {"schema": MANIFEST_SCHEMA, **body}
    text = json.dumps(body, indent=2, sort_keys=True) + "\n"
    path = root / name
    _atomic_write_bytes(path, text.encode("utf-8"))
    return path


def _unlink_quiet(path: str | os.PathLike) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _fsync_dir(path: Path) -> None:
    if not FSYNC:
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _clean_stale_parts(root: Path, filename: str) -> None:
    pattern = re.compile(r"^\." + re.escape(filename) + r"\..*\.(part|link)$")
    for entry in os.scandir(root):
        if pattern.match(entry.name):
            log.info("removing stale temporary file %s", entry.path)
            _unlink_quiet(entry.path)


# ---------------------------------------------------------------------------------------------
# installing one file
# ---------------------------------------------------------------------------------------------


def _stream_into_temp(src, root: Path, spec: FileSpec, total: int | None, label: str) -> tuple[str, Verification]:
    """Copy a binary stream into a temp file in ``root``, hashing on the way; verify."""
    algos = _plain_algorithms(spec)
    hashes = {a: _new_hash(a) for a in algos}
    fd, tmp = tempfile.mkstemp(dir=root, prefix=f".{spec.filename}.", suffix=".part")
    n = 0
    next_report = time.monotonic() + 5.0
    try:
        os.fchmod(fd, _file_mode())
        with os.fdopen(fd, "wb") as out:
            while chunk := src.read(CHUNK_SIZE):
                out.write(chunk)
                for h in hashes.values():
                    h.update(chunk)
                n += len(chunk)
                if time.monotonic() >= next_report:
                    pct = f" ({100.0 * n / total:.1f}%)" if total else ""
                    log.info("  %s: %d bytes%s", label, n, pct)
                    next_report = time.monotonic() + 5.0
            out.flush()
            if FSYNC:
                os.fsync(out.fileno())
        if total is not None and n != total:
            raise OSError(f"truncated transfer: received {n} of {total} bytes")
        v = _match(spec, Path(tmp), n, {a: h.hexdigest() for a, h in hashes.items()})
    except BaseException:
        _unlink_quiet(tmp)
        raise
    return tmp, v


def _install_local(src: Path, dest: Path, spec: FileSpec, link: str) -> Verification:
    """Bring a local candidate into ``dest`` if it verifies; returns the verification."""
    root = dest.parent
    if link == "copy":
        with open(src, "rb") as fh:
            tmp, v = _stream_into_temp(fh, root, spec, None, str(src))
        if not v.ok:
            _unlink_quiet(tmp)
            return v
        os.replace(tmp, dest)
        _fsync_dir(root)
        return v
    v = verify_file(src, spec)
    if not v.ok:
        return v
    tmp = root / f".{spec.filename}.{os.getpid()}.{os.urandom(4).hex()}.link"
    if link == "symlink":
        os.symlink(os.path.abspath(src), tmp)
    else:
        try:
            os.link(src, tmp)
        except OSError:  # cross-device or unsupported: fall back to a verified copy
            return _install_local(src, dest, spec, "copy")
    try:
        os.replace(tmp, dest)
    except BaseException:
        _unlink_quiet(tmp)
        raise
    _fsync_dir(root)
    return v


def _open_url(url: str, timeout: float):
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    return urllib.request.urlopen(req, timeout=timeout)


def _download(url: str, root: Path, spec: FileSpec, timeout: float) -> tuple[str, Verification]:
    with _open_url(url, timeout) as resp:
        status = getattr(resp, "status", None) or getattr(resp, "code", None)
        if status is not None and status != 200 and not url.startswith("file:"):
            raise OSError(f"HTTP status {status}")
        length = None
        headers = getattr(resp, "headers", None)
        if headers is not None and headers.get("Content-Length"):
            try:
                length = int(headers.get("Content-Length"))
            except ValueError:
                length = None
        return _stream_into_temp(resp, root, spec, length, url)


def _host_unreachable(exc: BaseException) -> bool:
    """Name resolution or connection refused/unreachable: retrying the same host is pointless."""
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, socket.gaierror):
        return True
    if isinstance(reason, OSError) and reason.errno in (
        errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH,
    ):
        return True
    return False


@dataclass
class _Failure:
    filename: str
    attempts: list[str]
    urls: list[str]


def _mirror_dirs(spec: DatasetSpec, mirror, use_system: bool) -> list[tuple[Path, str]]:
    """Ordered ``(folder, kind)`` candidates: configured mirrors, env mirrors, system folders."""
    configured: list[str] = []
    if mirror is not None:
        items = [mirror] if isinstance(mirror, (str, os.PathLike)) else list(mirror)
        # an unset config value ("" / None) means "no mirror", never the current folder
        configured += [os.fspath(m) for m in items if m is not None and os.fspath(m) != ""]
    env = os.environ.get(MIRROR_ENV, "")
    configured += [m for m in env.split(os.pathsep) if m]
    out: list[tuple[Path, str]] = []
    for m in configured:
        base = Path(m).expanduser()
        out.append((base / spec.name, "mirror"))
        out.append((base, "mirror"))
    if use_system:
        out += [(Path(d), "system") for d in spec.system_dirs]
    seen: set[str] = set()
    uniq = []
    for d, kind in out:
        key = os.path.abspath(d)
        if key not in seen:
            seen.add(key)
            uniq.append((d, kind))
    return uniq


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _fetch_one(
    dataset: str,
    spec: FileSpec,
    root: Path,
    dirs: list[tuple[Path, str]],
    *,
    allow_download: bool,
    redownload: bool,
    link: str,
    timeout: float,
    retries: int,
    previous: dict[str, dict[str, Any]],
    dead_hosts: set[str] | None = None,
) -> FileRecord | _Failure:
    dest = root / spec.filename
    attempts: list[str] = []
    _clean_stale_parts(root, spec.filename)

    # (a) already present
    if dest.exists():
        v = verify_file(dest, spec)
        for w in v.warnings:
            log.warning(w)
        if v.ok:
            prev = previous.get(spec.filename)
            if prev and prev.get("sha256") == v.digests["sha256"] and prev.get("source") in ("mirror", "system", "url"):
                return _record(spec.filename, v, prev["source"], prev.get("origin", ""))
            return _record(spec.filename, v, "present", str(dest))
        if not redownload:
            raise _checksum_error(
                dataset, spec, str(dest), v,
                extra=(
                    "  The existing file is corrupted or from another release; it was left untouched. "
                    "Delete it, or re-run with redownload=True (CLI: --redownload) to replace it."
                ),
            )
        attempts.append(f"{dest}: present but failed verification ({v.actual_text()}); replacing")
    elif os.path.lexists(dest):
        attempts.append(f"{dest}: dangling symlink; replacing")

    # (b) mirror and system folders
    for folder, kind in dirs:
        for name in (spec.filename,) + spec.aliases:
            src = folder / name
            if not src.is_file():
                continue
            if _same_file(src, dest):
                continue
            v = _install_local(src, dest, spec, link)
            for w in v.warnings:
                log.warning(w)
            if v.ok:
                log.info("%s: %s from %s %s", dataset, spec.filename, kind, src)
                return _record(spec.filename, v, kind, str(src))
            attempts.append(f"{kind} {src}: present but failed verification ({v.actual_text()})")
    if dirs:
        searched = ", ".join(str(d) for d, _ in dirs)
        attempts.append(f"searched folders: {searched}")
    else:
        attempts.append("no mirror folder configured")

    # (c) download
    if not allow_download:
        attempts.append("downloads disabled (allow_download=False / --no-download)")
        return _Failure(spec.filename, attempts, list(spec.urls))
    if not spec.urls:
        attempts.append("no download URL is registered for this file")
    mismatches: list[tuple[str, Verification]] = []
    dead_hosts = set() if dead_hosts is None else dead_hosts
    for url in spec.urls:
        host = urllib.parse.urlsplit(url).netloc
        if host and host in dead_hosts:
            attempts.append(f"{url}: skipped (host {host} unreachable earlier in this fetch)")
            continue
        for attempt in range(retries + 1):
            try:
                log.info("%s: downloading %s", dataset, url)
                tmp, v = _download(url, root, spec, timeout)
            except urllib.error.HTTPError as exc:
                attempts.append(f"{url}: HTTP {exc.code} {exc.reason}")
                break  # a definite answer from the server: no retry
            except _NETWORK_ERRORS as exc:
                unreachable = _host_unreachable(exc)
                if attempt < retries and not unreachable:
                    time.sleep(min(2.0 ** attempt, 10.0))
                    continue
                if unreachable and host:
                    dead_hosts.add(host)
                attempts.append(f"{url}: {type(exc).__name__}: {exc}")
                break
            if v.ok:
                for w in v.warnings:
                    log.warning(w)
                os.replace(tmp, dest)
                _fsync_dir(root)
                return _record(spec.filename, v, "url", url)
            _unlink_quiet(tmp)
            mismatches.append((url, v))
            attempts.append(f"{url}: downloaded but failed verification ({v.actual_text()})")
            break
    if mismatches:
        url, v = mismatches[-1]
        raise _checksum_error(
            dataset, spec, url, v,
            extra="  The download was discarded (no partial file kept). Tried:\n    " + "\n    ".join(attempts),
        )
    return _Failure(spec.filename, attempts, list(spec.urls))


def _unavailable(
    spec: DatasetSpec, root: Path, failures: list[_Failure], allow_download: bool, extra: str = "",
    cli_args: str = "",
) -> DatasetUnavailableError:
    missing = [f.filename for f in failures]
    urls = [u for f in failures for u in f.urls]
    keys = list(dict.fromkeys(["data.mirror", spec.config_key]))
    lines = [
        f"Dataset {spec.name!r} is not available: {len(missing)} file(s) could not be obtained "
        f"and verified: {', '.join(missing)}.",
        f"  destination: {root}",
    ]
    for f in failures:
        lines.append(f"  {f.filename} -> {root / f.filename}:")
        lines += [f"    - {a}" for a in f.attempts]
        if f.urls:
            lines.append("    URLs: " + " | ".join(f.urls))
    lines += [
        "How to obtain the data offline:",
        f"  * on a machine with internet access run `python -m toeplitznet.data.download {spec.name} "
        f"--root DIR{cli_args}` and copy DIR here; or",
        f"  * put the files (verified by the checksums in toeplitznet/data/registry.py) in a folder and set "
        f"the config key `{keys[0]}` (searched as <mirror>/{spec.name}/<file> and <mirror>/<file>)"
        + (f" or `{keys[1]}`" if len(keys) > 1 else "")
        + f" (CLI: --mirror DIR; environment: {MIRROR_ENV}).",
    ]
    if not allow_download:
        lines.append("  * or allow downloads (drop --no-download / allow_download=False).")
    if spec.offline_help:
        lines.append("  " + spec.offline_help)
    if extra:
        lines.append(extra)
    return DatasetUnavailableError(
        "\n".join(lines), dataset=spec.name, missing=missing, destination=root, urls=urls, config_keys=keys
    )


def _fetch_files(
    spec: DatasetSpec,
    files: Sequence[FileSpec],
    root: Path,
    dirs: list[tuple[Path, str]],
    *,
    allow_download: bool,
    redownload: bool,
    link: str,
    timeout: float,
    retries: int,
    manifest_name: str,
    extra_manifest: dict[str, Any] | None = None,
    extra_error: str = "",
    cli_args: str = "",
) -> FetchResult:
    previous_manifest = read_manifest(root, manifest_name) or {}
    previous = {
        f["name"]: f for f in previous_manifest.get("files", []) if isinstance(f, dict) and "name" in f
    }
    records: list[FileRecord] = []
    failures: list[_Failure] = []
    dead_hosts: set[str] = set()
    for fs in files:
        r = _fetch_one(
            spec.name, fs, root, dirs,
            allow_download=allow_download, redownload=redownload, link=link,
            timeout=timeout, retries=retries, previous=previous, dead_hosts=dead_hosts,
        )
        (records if isinstance(r, FileRecord) else failures).append(r)
    if failures:
        raise _unavailable(spec, root, failures, allow_download, extra_error, cli_args)
    body: dict[str, Any] = {
        "dataset": spec.name,
        "kind": spec.kind,
        "files": [r.to_json() for r in records],
        "total_bytes": sum(r.size for r in records),
    }
    if extra_manifest:
        body.update(extra_manifest)
    mpath = _write_manifest(root, body, manifest_name) if manifest_name else None
    return FetchResult(spec.name, root, mpath, records, extra_manifest or {})


# ---------------------------------------------------------------------------------------------
# YouTube-8M
# ---------------------------------------------------------------------------------------------


def _obtain_plan(
    spec: DatasetSpec,
    part: yt8m.Partition,
    root: Path,
    dirs: list[tuple[Path, str]],
    plan_path: str | os.PathLike | None,
    allow_download: bool,
    timeout: float,
) -> tuple[bytes, str]:
    """Find the download plan (explicit path, root, mirrors) or download it into ``root``."""
    candidates: list[tuple[Path, str]] = []
    if plan_path is not None:
        candidates.append((Path(plan_path), "given"))
    candidates.append((root / part.plan_filename, "present"))
    candidates += [(d / part.plan_filename, kind) for d, kind in dirs]
    tried: list[str] = []
    for p, kind in candidates:
        if p.is_file():
            data = p.read_bytes()
            try:
                yt8m.parse_plan(data)
            except ValueError as exc:
                tried.append(f"{p}: invalid plan ({exc})")
                continue
            if kind != "present":
                _atomic_write_bytes(root / part.plan_filename, data)
            return data, str(p)
        tried.append(f"{p}: absent")
    if allow_download:
        try:
            with _open_url(part.plan_url, timeout) as resp:
                data = resp.read()
            yt8m.parse_plan(data)
            _atomic_write_bytes(root / part.plan_filename, data)
            return data, part.plan_url
        except ValueError as exc:
            tried.append(f"{part.plan_url}: invalid plan ({exc})")
        except _NETWORK_ERRORS as exc:
            tried.append(f"{part.plan_url}: {type(exc).__name__}: {exc}")
    else:
        tried.append(f"{part.plan_url}: downloads disabled (allow_download=False / --no-download)")
    failure = _Failure(part.plan_filename, tried, [part.plan_url])
    raise _unavailable(
        spec, root, [failure], allow_download, cli_args=f" --partition {part.path}",
        extra=f"  (the plan lists the shards of partition {part.path} and their md5 checksums; without it "
        "nothing can be verified)",
    )


def _fetch_youtube8m(
    spec: DatasetSpec,
    root: Path,
    dirs: list[tuple[Path, str]],
    *,
    partition: str,
    shard,
    fraction: float | None,
    region: str,
    plan_path,
    allow_download: bool,
    timeout: float,
    **kw,
) -> FetchResult:
    part = yt8m.Partition.parse(partition)
    plan_bytes, plan_origin = _obtain_plan(spec, part, root, dirs, plan_path, allow_download, timeout)
    sid, n = yt8m._resolve_shard(shard, fraction)
    entries = yt8m.shard_plan(part, plan=plan_bytes, shard=(sid, n), region=region)
    files = yt8m.plan_file_specs(entries, part)
    if not files:
        raise DatasetUnavailableError(
            f"YouTube-8M plan for {part.path} selects no file for shard {sid},{n}; use a smaller "
            "fraction denominator", dataset=spec.name, destination=root, urls=[part.plan_url],
            config_keys=list(dict.fromkeys(["data.mirror", spec.config_key])),
        )
    extra = {
        "partition": part.path,
        "shard": [sid, n],
        "region": region,
        "plan": {
            "file": part.plan_filename,
            "url": part.plan_url,
            "origin": plan_origin,
            "sha256": hashlib.sha256(plan_bytes).hexdigest(),
            "num_files": len(yt8m.parse_plan(plan_bytes)),
        },
    }
    return _fetch_files(spec, files, root, dirs, allow_download=allow_download, timeout=timeout,
                        extra_manifest=extra, cli_args=f" --partition {part.path} --shard {sid},{n}", **kw)


# ---------------------------------------------------------------------------------------------
# ImageNet
# ---------------------------------------------------------------------------------------------

_WNID = re.compile(r"^n\d{8}$")


def _list_class_dirs(split_dir: Path) -> tuple[list[str], list[str], list[str]]:
    """(wnid dirs, other dirs, loose files) directly under ``split_dir``."""
    wnids, other, loose = [], [], []
    with os.scandir(split_dir) as it:
        for e in it:
            if e.is_dir():
                (wnids if _WNID.match(e.name) else other).append(e.name)
            elif e.is_file():
                loose.append(e.name)
    return sorted(wnids), sorted(other), sorted(loose)


def _listing(split: str, split_dir: Path, wnids: list[str]) -> tuple[list[tuple[str, int]], list[str]]:
    files: list[tuple[str, int]] = []
    empty: list[str] = []
    for w in wnids:
        n0 = len(files)
        with os.scandir(split_dir / w) as it:
            for e in it:
                if e.is_file():
                    files.append((f"{split}/{w}/{e.name}", e.stat().st_size))
        if len(files) == n0:
            empty.append(w)
    files.sort()
    return files, empty


def _listing_digest(files: list[tuple[str, int]]) -> str:
    h = hashlib.sha256()
    for rel, size in files:
        h.update(f"{rel}\t{size}\n".encode("utf-8"))
    return h.hexdigest()


def _sample(files: list[tuple[str, int]], k: int) -> list[tuple[str, int]]:
    """Deterministic sample: the ``k`` paths with the smallest sha256(path)."""
    ranked = sorted(files, key=lambda f: hashlib.sha256(f[0].encode("utf-8")).hexdigest())
    return sorted(ranked[:k])


def check_imagenet_layout(
    source_dir: str | os.PathLike | None,
    *,
    strict: bool = True,
    sample_per_split: int = 32,
    hash_archives: bool = True,
) -> dict[str, Any]:
    """Check a user-provided ILSVRC2012 folder and describe it (the ImageNet manifest body).

    Accepted layout: ``<dir>/train/<wnid>/*`` with 1000 ``nXXXXXXXX`` class folders, and either
    ``<dir>/val/<wnid>/*`` with the same 1000 classes or the official archives
    ``<dir>/ILSVRC2012_img_val.tar`` + ``<dir>/ILSVRC2012_devkit_t12.tar.gz``.  With ``strict``
    the image counts must be the standard 1,281,167 (train) and 50,000 (val).  The official val
    and devkit archives found in ``<dir>`` are md5-checked when ``hash_archives``; the 138 GB train
    archive is never hashed (the extracted ``train/`` is what is used; only its size is recorded).

    Raises :class:`LayoutError` (a :class:`DatasetUnavailableError`) listing every problem and
    naming the config key ``data.imagenet_root``.
    """
    spec = get_spec("imagenet")
    key = spec.config_key
    if source_dir is None or str(source_dir) == "":
        raise LayoutError(
            f"ImageNet (ILSVRC2012) folder not configured: set the config key `{key}` "
            f"(CLI: --source-dir DIR).\n  {spec.offline_help}",
            dataset="imagenet", missing=["train/", "val/"], config_keys=[key],
        )
    src = Path(source_dir).expanduser()
    if not src.is_dir():
        raise LayoutError(
            f"ImageNet folder {src} (config key `{key}`) does not exist or is not a folder.\n  {spec.offline_help}",
            dataset="imagenet", missing=["train/", "val/"], destination=src, config_keys=[key],
        )
    problems: list[str] = []
    body: dict[str, Any] = {"source_dir": str(src.resolve()), "splits": {}}
    expected_classes = IMAGENET_COUNTS["classes"]
    class_sets: dict[str, list[str]] = {}
    listings: dict[str, list[tuple[str, int]]] = {}

    def check_split(split: str) -> bool:
        d = src / split
        if not d.is_dir():
            return False
        wnids, other, loose = _list_class_dirs(d)
        if len(wnids) != expected_classes:
            problems.append(f"{d}: {len(wnids)} class folders named nXXXXXXXX, expected {expected_classes}")
        if other:
            problems.append(f"{d}: unexpected folders {other[:5]}{' ...' if len(other) > 5 else ''}")
        if loose and not wnids:
            problems.append(
                f"{d}: holds {len(loose)} loose files and no class folder; sort the images into "
                "<wnid>/ folders (ground truth in the devkit) or provide ILSVRC2012_img_val.tar + "
                "ILSVRC2012_devkit_t12.tar.gz"
            )
        files, empty = _listing(split, d, wnids)
        if empty:
            problems.append(f"{d}: {len(empty)} empty class folders, e.g. {empty[:3]}")
        if strict and len(files) != IMAGENET_COUNTS[split]:
            problems.append(f"{d}: {len(files)} images, the ILSVRC2012 {split} split has {IMAGENET_COUNTS[split]}")
        class_sets[split] = wnids
        listings[split] = files
        return True

    has_train = check_split("train")
    if not has_train:
        hint = ""
        if (src / IMAGENET_ARCHIVES["train"].filename).is_file():
            hint = (f" ({IMAGENET_ARCHIVES['train'].filename} is there: extract it, then extract each "
                    "per-class tar into train/<wnid>/)")
        problems.append(f"{src / 'train'}: missing (need train/<wnid>/ class folders){hint}")
    has_val_dir = check_split("val")
    archives_present = {
        k: (src / f.filename).is_file() for k, f in IMAGENET_ARCHIVES.items()
    }
    if has_val_dir:
        val_layout = "folders"
        if has_train and class_sets.get("val") and class_sets["val"] != class_sets.get("train"):
            diff = sorted(set(class_sets["val"]) ^ set(class_sets["train"]))
            problems.append(f"train/ and val/ class folders differ, e.g. {diff[:5]}")
    elif archives_present["val"] and archives_present["devkit"]:
        val_layout = "archives"
    else:
        val_layout = "missing"
        problems.append(
            f"{src / 'val'}: missing; need val/<wnid>/ class folders, or "
            f"{IMAGENET_ARCHIVES['val'].filename} + {IMAGENET_ARCHIVES['devkit'].filename} in {src}"
        )
    if problems:
        raise LayoutError(
            f"ImageNet folder {src} (config key `{key}`) does not have the ILSVRC2012 layout:\n  - "
            + "\n  - ".join(problems) + f"\n  {spec.offline_help}",
            dataset="imagenet", missing=[p.split(":")[0] for p in problems], destination=src, config_keys=[key],
        )
    body["val_layout"] = val_layout
    for split, files in listings.items():
        sample = _sample(files, sample_per_split)
        body["splits"][split] = {
            "num_classes": len(class_sets[split]),
            "num_files": len(files),
            "total_bytes": sum(s for _, s in files),
            "listing_sha256": _listing_digest(files),
            "sample": [
                {"path": rel, "size": size, "sha256": hash_file(src / rel)["sha256"]} for rel, size in sample
            ],
        }
    archives = {}
    for k, fs in IMAGENET_ARCHIVES.items():
        p = src / fs.filename
        if not archives_present[k]:
            continue
        entry: dict[str, Any] = {"name": fs.filename, "size": p.stat().st_size}
        if hash_archives and k != "train":
            v = verify_file(p, fs)
            if not v.ok:
                raise _checksum_error("imagenet", fs, str(p), v)
            entry.update(sha256=v.digests["sha256"], md5=v.digests.get("md5"), verified_with=f"md5:{v.matched.digest}")
        archives[k] = entry
    body["archives"] = archives
    body["verification"] = (
        "layout + counts + sha256 of the sorted (path, size) listing + sha256 of a deterministic sample "
        f"of {sample_per_split} files per split (smallest sha256 of the path); archives md5-checked when present"
    )
    return body


def _fetch_imagenet(spec: DatasetSpec, root: Path, source_dir, dirs, *, manifest_name: str, strict: bool,
                    **_: Any) -> FetchResult:
    if source_dir is None:
        for d, _kind in dirs:
            if (d / "train").is_dir():
                source_dir = d
                break
    body = check_imagenet_layout(source_dir, strict=strict)
    body = {"dataset": spec.name, "kind": spec.kind, **body}
    mpath = _write_manifest(root, body, manifest_name) if manifest_name else None
    return FetchResult(spec.name, root, mpath, [], body)


# ---------------------------------------------------------------------------------------------
# public entry points
# ---------------------------------------------------------------------------------------------


def fetch(
    dataset: str | DatasetSpec,
    root: str | os.PathLike,
    mirror: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    allow_download: bool = True,
    *,
    redownload: bool = False,
    link: str = "copy",
    use_system: bool = True,
    files: Sequence[str] | None = None,
    timeout: float = 60.0,
    retries: int = 1,
    manifest_name: str = MANIFEST_NAME,
    source_dir: str | os.PathLike | None = None,
    strict: bool = True,
    partition: str = "2/video/train",
    shard: tuple[int, int] | str | None = None,
    fraction: float | None = None,
    region: str = "us",
    plan_path: str | os.PathLike | None = None,
) -> FetchResult:
    """Make ``dataset`` present and verified under ``root``; write ``root/MANIFEST.json``.

    Args:
        dataset: registry name (``"mnist"``, ``"fashion_mnist"``, ``"cifar10"``, ``"cifar100"``,
            ``"imagenet"``, ``"youtube8m"``) or a :class:`DatasetSpec` (tests, extensions).
        root: destination folder (created).
        mirror: folder(s) holding pre-downloaded files (config ``data.mirror`` /
            ``data.<name>.root``); searched as ``<mirror>/<name>/<file>`` then ``<mirror>/<file>``.
        allow_download: if false, never touch the network.
        redownload: replace a present file that fails verification (otherwise it is reported).
        link: how a mirror file is installed: ``"copy"`` (default), ``"symlink"``, ``"hardlink"``.
        use_system: also search the OS package folders of the spec (``system_dirs``).
        files: restrict to these file names (the manifest then lists only those).
        timeout, retries: per-request network timeout (s) and extra attempts on transient errors.
        manifest_name: manifest file name in ``root`` (empty string: write none).
        source_dir, strict: ImageNet only (the user's ILSVRC2012 folder, config
            ``data.imagenet_root``; ``strict`` requires the standard image counts).
        partition, shard, fraction, region, plan_path: YouTube-8M only (see
            :mod:`toeplitznet.data.youtube8m`); use one ``root`` per partition.

    Returns:
        :class:`FetchResult` with one :class:`FileRecord` per file.

    Raises:
        DatasetUnavailableError: files missing and not obtainable (message names dataset, files,
            destination, URLs, config keys and offline instructions).
        ChecksumError: a present file is corrupted (and ``redownload`` is false), or every
            download of a file failed verification.
        LayoutError: ImageNet folder missing or malformed.
    """
    spec = get_spec(dataset)
    if link not in _LINK_MODES:
        raise ValueError(f"link must be one of {_LINK_MODES}, got {link!r}")
    root = Path(root).expanduser().absolute()
    root.mkdir(parents=True, exist_ok=True)
    dirs = _mirror_dirs(spec, mirror, use_system)
    common = dict(redownload=redownload, link=link, retries=retries, manifest_name=manifest_name)
    if spec.kind == "folder":
        return _fetch_imagenet(spec, root, source_dir, dirs, manifest_name=manifest_name, strict=strict)
    if spec.kind == "plan":
        return _fetch_youtube8m(spec, root, dirs, partition=partition, shard=shard, fraction=fraction,
                                region=region, plan_path=plan_path, allow_download=allow_download,
                                timeout=timeout, **common)
    wanted = list(spec.files)
    if files is not None:
        unknown = sorted(set(files) - {f.filename for f in spec.files})
        if unknown:
            raise KeyError(f"dataset {spec.name!r} has no file(s) {unknown}")
        wanted = [f for f in spec.files if f.filename in set(files)]
    return _fetch_files(spec, wanted, root, dirs, allow_download=allow_download, timeout=timeout, **common)


def verify(dataset: str | DatasetSpec, root: str | os.PathLike) -> list[FileRecord]:
    """Re-verify the files of ``dataset`` in ``root`` without copying, downloading or writing.

    Raises :class:`DatasetUnavailableError` for missing files and :class:`ChecksumError` for
    corrupted ones.  (Not for the ``folder``/``plan`` kinds: re-run :func:`fetch` for those.)
    """
    spec = get_spec(dataset)
    if spec.kind != "files":
        raise ValueError(f"verify() handles datasets of kind 'files'; {spec.name!r} is {spec.kind!r}")
    root = Path(root).expanduser().absolute()
    if not root.is_dir():
        raise _unavailable(spec, root, [_Failure(f.filename, [f"{root}: folder absent"], list(f.urls))
                                        for f in spec.files], False)
    return _fetch_files(spec, spec.files, root, [], allow_download=False, redownload=False, link="copy",
                        timeout=0.0, retries=0, manifest_name="").files


# ---------------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m toeplitznet.data.download",
        description="Fetch and verify a dataset into DIR and write DIR/MANIFEST.json.",
    )
    p.add_argument("dataset", help=f"one of: {', '.join(list_datasets())}")
    p.add_argument("--root", required=True, help="destination folder")
    p.add_argument("--mirror", action="append", default=None,
                   help="folder with pre-downloaded files (repeatable; config data.mirror / data.<name>.root)")
    p.add_argument("--no-download", action="store_true", help="never use the network")
    p.add_argument("--redownload", action="store_true", help="replace present files that fail verification")
    p.add_argument("--link", choices=_LINK_MODES, default="copy", help="how mirror files are installed")
    p.add_argument("--no-system", action="store_true", help="do not search OS package folders")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--source-dir", help="ImageNet: the ILSVRC2012 folder (config data.imagenet_root)")
    p.add_argument("--no-strict", action="store_true", help="ImageNet: do not require the standard counts")
    p.add_argument("--partition", default="2/video/train", help="YouTube-8M partition, e.g. 2/frame/validate")
    p.add_argument("--shard", help="YouTube-8M: X,Y = the X-th of Y deterministic parts (official scheme)")
    p.add_argument("--fraction", type=float, help="YouTube-8M: fraction of the shards (-> shard 1,round(1/f))")
    p.add_argument("--region", default="us", choices=yt8m.REGIONS, help="YouTube-8M download mirror")
    p.add_argument("--plan", help="YouTube-8M: path of an official download plan JSON")
    p.add_argument("--list-shards", action="store_true",
                   help="YouTube-8M: print the selected shard URLs (from the plan if found, else derived) and exit")
    p.add_argument("-q", "--quiet", action="store_true")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit status (0 ok, 2 data unavailable/corrupted, 1 usage)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")
    try:
        spec = get_spec(args.dataset)
        if args.list_shards:
            if spec.kind != "plan":
                print(f"--list-shards only applies to YouTube-8M, not {spec.name}", file=sys.stderr)
                return 1
            part = yt8m.Partition.parse(args.partition)
            plan = None
            for cand in [args.plan, os.path.join(args.root, part.plan_filename)]:
                if cand and os.path.isfile(cand):
                    plan = Path(cand).read_bytes()
                    break
            for e in yt8m.shard_plan(part, plan=plan, shard=args.shard, fraction=args.fraction, region=args.region):
                print(f"{e.local_name}\t{e.urls[0]}\t{e.md5 or '-'}")
            return 0
        res = fetch(
            spec, args.root, mirror=args.mirror, allow_download=not args.no_download,
            redownload=args.redownload, link=args.link, use_system=not args.no_system,
            timeout=args.timeout, source_dir=args.source_dir, strict=not args.no_strict,
            partition=args.partition, shard=args.shard, fraction=args.fraction, region=args.region,
            plan_path=args.plan,
        )
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (KeyError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"{res.dataset}: {len(res.files)} file(s) verified in {res.root}; manifest {res.manifest_path}")
    return 0


if __name__ == "__main__":  # pragma: no cover - exercised through subprocess in the tests
    sys.exit(main())
