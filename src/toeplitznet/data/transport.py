"""Getting bytes: HTTP(S)/file URLs with retries and dead-host skipping, streamed atomically.

A stream is copied into ``.<name>.<random>.part`` beside its destination, hashed on the way,
verified, and only then renamed onto the final name (:func:`toeplitznet.io.atomic_path`); a
truncated, failed or unverified transfer leaves nothing behind.
"""

from __future__ import annotations

import errno
import http.client
import logging
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from ..io import atomic_path, remember_sha256
from . import verification
from .registry import FileSpec
from .verification import CHUNK_SIZE, Verification, match, new_hash, plain_algorithms

__all__ = ["USER_AGENT", "NETWORK_ERRORS", "open_url", "read_url", "stream_verified", "download",
           "clean_stale_parts"]

log = logging.getLogger("toeplitznet.data")

USER_AGENT = "toeplitznet-data/0.1 (+urllib)"
#: What a failed request can raise (besides :class:`urllib.error.HTTPError`, a definite answer).
NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, OSError, TimeoutError, ValueError)
_REPORT_EVERY_S = 5.0


class _Rejected(Exception):
    """A complete transfer that failed verification (carries the :class:`Verification`)."""

    def __init__(self, v: Verification) -> None:
        super().__init__(v.actual_text())
        self.verification = v


def open_url(url: str, timeout: float):
    """``urlopen`` with the package's User-Agent."""
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    return urllib.request.urlopen(req, timeout=timeout)


def read_url(url: str, timeout: float) -> bytes:
    """The whole body of a (small) resource."""
    with open_url(url, timeout) as resp:
        return resp.read()


def stream_verified(src, dest: Path, spec: FileSpec, total: int | None, label: str) -> Verification:
    """Copy the binary stream ``src`` onto ``dest`` if it verifies against ``spec``.

    ``total`` (bytes expected, or ``None``) detects truncation (:class:`OSError`); ``label`` names
    the source in progress messages.  A transfer that fails verification is discarded and its
    :class:`Verification` returned (``ok`` false); ``dest`` is then untouched.
    """
    hashes = {a: new_hash(a) for a in plain_algorithms(spec)}
    n = 0
    next_report = time.monotonic() + _REPORT_EVERY_S
    try:
        with atomic_path(dest, suffix=".part", fsync=verification.FSYNC) as tmp:
            with open(tmp, "wb") as out:
                while chunk := src.read(CHUNK_SIZE):
                    out.write(chunk)
                    for h in hashes.values():
                        h.update(chunk)
                    n += len(chunk)
                    if time.monotonic() >= next_report:
                        pct = f" ({100.0 * n / total:.1f}%)" if total else ""
                        log.info("  %s: %d bytes%s", label, n, pct)
                        next_report = time.monotonic() + _REPORT_EVERY_S
            if total is not None and n != total:
                raise OSError(f"truncated transfer: received {n} of {total} bytes")
            v = match(spec, tmp, n, {a: h.hexdigest() for a, h in hashes.items()})
            if not v.ok:
                raise _Rejected(v)
            written = os.stat(tmp)
    except _Rejected as rejected:
        return rejected.verification
    remember_sha256(dest, v.digests["sha256"], before=written)  # hashed as it streamed by: no second read
    return v


def _fetch_url(url: str, dest: Path, spec: FileSpec, timeout: float) -> Verification:
    with open_url(url, timeout) as resp:
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
        return stream_verified(resp, dest, spec, length, url)


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


def download(
    dataset: str,
    spec: FileSpec,
    dest: Path,
    *,
    timeout: float,
    retries: int,
    dead_hosts: set[str],
    attempts: list[str],
) -> tuple[str, Verification] | None:
    """Download ``spec`` onto ``dest`` from its URLs, in order, until one verifies.

    Transient errors are retried ``retries`` times (backing off); an HTTP error answer is not; a
    host found unreachable joins ``dead_hosts`` and is skipped afterwards.  Every failure is
    appended to ``attempts``.  Returns ``(url, verification)`` of the verified download, else of
    the last download that failed verification (``ok`` false), else ``None``.
    """
    last: tuple[str, Verification] | None = None
    for url in spec.urls:
        host = urllib.parse.urlsplit(url).netloc
        if host and host in dead_hosts:
            attempts.append(f"{url}: skipped (host {host} unreachable earlier in this fetch)")
            continue
        for attempt in range(retries + 1):
            try:
                log.info("%s: downloading %s", dataset, url)
                v = _fetch_url(url, dest, spec, timeout)
            except urllib.error.HTTPError as exc:
                attempts.append(f"{url}: HTTP {exc.code} {exc.reason}")
                break  # a definite answer from the server: no retry
            except NETWORK_ERRORS as exc:
                unreachable = _host_unreachable(exc)
                if attempt < retries and not unreachable:
                    time.sleep(min(2.0 ** attempt, 10.0))
                    continue
                if unreachable and host:
                    dead_hosts.add(host)
                attempts.append(f"{url}: {type(exc).__name__}: {exc}")
                break
            if v.ok:
                return url, v
            last = (url, v)
            attempts.append(f"{url}: downloaded but failed verification ({v.actual_text()})")
            break
    return last


def clean_stale_parts(root: Path, filename: str) -> None:
    """Remove temporary files of ``filename`` left in ``root`` by an interrupted earlier run."""
    pattern = re.compile(r"^\." + re.escape(filename) + r"\..*\.(part|link)$")
    for entry in os.scandir(root):
        if pattern.match(entry.name):
            log.info("removing stale temporary file %s", entry.path)
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                pass
