"""The acquisition order for each file of a dataset, and the handler of kind ``"files"``.

For each file: (a) the file already in ``root``, kept if it verifies (a corrupted one is reported,
never silently replaced, unless ``redownload``); (b) the mirror and system folders; (c) the
registry's URLs.  When every file is in place the manifest is written.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from . import errors
from .errors import Failure
from .mirrors import install_local, same_file
from .registry import DatasetSpec, FileSpec
from .transport import clean_stale_parts, download
from .verification import FileRecord, read_manifest, verify_file, write_manifest

__all__ = ["FetchContext", "FetchResult", "FilesOptions", "fetch_files", "fetch_listed"]

log = logging.getLogger("toeplitznet.data")


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


@dataclass(frozen=True)
class FetchContext:
    """The settings common to every dataset kind (the common arguments of :func:`fetch`)."""

    spec: DatasetSpec
    root: Path
    dirs: list[tuple[Path, str]]
    allow_download: bool
    redownload: bool
    link: str
    timeout: float
    retries: int
    manifest_name: str

    def write_manifest(self, body: dict[str, Any]) -> Path | None:
        """Write the manifest (``None`` when ``manifest_name`` is empty)."""
        return write_manifest(self.root, body, self.manifest_name) if self.manifest_name else None


@dataclass(frozen=True)
class FilesOptions:
    """Options of kind ``"files"``: ``files`` restricts the fetch to these names."""

    files: Sequence[str] | None = None


def _log_warnings(v) -> None:
    for w in v.warnings:
        log.warning(w)


def _fetch_one(
    ctx: FetchContext, spec: FileSpec, previous: dict[str, dict[str, Any]], dead_hosts: set[str]
) -> FileRecord | Failure:
    dataset, root = ctx.spec.name, ctx.root
    dest = root / spec.filename
    attempts: list[str] = []
    clean_stale_parts(root, spec.filename)

    # (a) already present
    if dest.exists():
        v = verify_file(dest, spec)
        _log_warnings(v)
        if v.ok:
            prev = previous.get(spec.filename)
            if prev and prev.get("sha256") == v.digests["sha256"] and prev.get("source") in ("mirror", "system", "url"):
                return FileRecord.of(spec.filename, v, prev["source"], prev.get("origin", ""))
            return FileRecord.of(spec.filename, v, "present", str(dest))
        if not ctx.redownload:
            raise errors.corrupted_present(dataset, spec, dest, v)
        attempts.append(f"{dest}: present but failed verification ({v.actual_text()}); replacing")
    elif os.path.lexists(dest):
        attempts.append(f"{dest}: dangling symlink; replacing")

    # (b) mirror and system folders
    for folder, kind in ctx.dirs:
        for name in (spec.filename,) + spec.aliases:
            src = folder / name
            if not src.is_file() or same_file(src, dest):
                continue
            v = install_local(src, dest, spec, ctx.link)
            _log_warnings(v)
            if v.ok:
                log.info("%s: %s from %s %s", dataset, spec.filename, kind, src)
                return FileRecord.of(spec.filename, v, kind, str(src))
            attempts.append(f"{kind} {src}: present but failed verification ({v.actual_text()})")
    if ctx.dirs:
        attempts.append(f"searched folders: {', '.join(str(d) for d, _ in ctx.dirs)}")
    else:
        attempts.append("no mirror folder configured")

    # (c) download
    if not ctx.allow_download:
        attempts.append(errors.DOWNLOADS_DISABLED)
        return Failure(spec.filename, attempts, list(spec.urls))
    if not spec.urls:
        attempts.append("no download URL is registered for this file")
    got = download(dataset, spec, dest, timeout=ctx.timeout, retries=ctx.retries, dead_hosts=dead_hosts,
                   attempts=attempts)
    if got is not None and got[1].ok:
        _log_warnings(got[1])
        return FileRecord.of(spec.filename, got[1], "url", got[0])
    if got is not None:
        raise errors.corrupted_download(dataset, spec, got[0], got[1], attempts)
    return Failure(spec.filename, attempts, list(spec.urls))


def fetch_files(
    ctx: FetchContext,
    files: Sequence[FileSpec],
    *,
    extra_manifest: dict[str, Any] | None = None,
    cli_args: str = "",
) -> FetchResult:
    """Obtain and verify ``files`` into ``ctx.root``; write the manifest (plus ``extra_manifest``).

    Raises :class:`~toeplitznet.data.errors.DatasetUnavailableError` naming every file that could
    not be obtained (``cli_args``: extra arguments of the suggested download command).
    """
    spec, root = ctx.spec, ctx.root
    previous_manifest = read_manifest(root, ctx.manifest_name) or {}
    previous = {
        f["name"]: f for f in previous_manifest.get("files", []) if isinstance(f, dict) and "name" in f
    }
    records: list[FileRecord] = []
    failures: list[Failure] = []
    dead_hosts: set[str] = set()
    for fs in files:
        r = _fetch_one(ctx, fs, previous, dead_hosts)
        (records if isinstance(r, FileRecord) else failures).append(r)
    if failures:
        raise errors.unavailable(spec, root, failures, ctx.allow_download, cli_args=cli_args)
    body: dict[str, Any] = {
        "dataset": spec.name,
        "kind": spec.kind,
        "files": [r.to_json() for r in records],
        "total_bytes": sum(r.size for r in records),
    }
    if extra_manifest:
        body.update(extra_manifest)
    return FetchResult(spec.name, root, ctx.write_manifest(body), records, extra_manifest or {})


def fetch_listed(ctx: FetchContext, options: FilesOptions) -> FetchResult:
    """Handler of kind ``"files"``: the registry's files (or the ``options.files`` among them)."""
    spec = ctx.spec
    wanted = list(spec.files)
    if options.files is not None:
        unknown = sorted(set(options.files) - {f.filename for f in spec.files})
        if unknown:
            raise KeyError(f"dataset {spec.name!r} has no file(s) {unknown}")
        wanted = [f for f in spec.files if f.filename in set(options.files)]
    return fetch_files(ctx, wanted)
