"""Local sources of dataset files: configured mirror folders and OS package folders.

Folders are searched in order: the ``mirror`` argument (config ``data.mirror`` /
``data.<name>.root``), then ``$TOEPLITZNET_DATA_MIRROR`` (``os.pathsep``-separated), each as
``<mirror>/<dataset>/`` and ``<mirror>/``; then the spec's ``system_dirs``.  A candidate is
installed (copied, symlinked or hard-linked) only if it verifies.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..io import atomic_path, fsync_dir, remember_sha256
from . import verification
from .registry import DatasetSpec, FileSpec
from .transport import stream_verified
from .verification import Verification, verify_file

__all__ = ["MIRROR_ENV", "LINK_MODES", "mirror_dirs", "install_local", "same_file"]

#: Environment variable with extra mirror folders (``os.pathsep``-separated).
MIRROR_ENV = "TOEPLITZNET_DATA_MIRROR"
LINK_MODES = ("copy", "symlink", "hardlink")


def mirror_dirs(spec: DatasetSpec, mirror, use_system: bool) -> list[tuple[Path, str]]:
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


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are the same file (``False`` when either is missing)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


class _NoHardLink(Exception):
    """``os.link`` is not possible here (other device, unsupported file system)."""


def install_local(src: Path, dest: Path, spec: FileSpec, link: str) -> Verification:
    """Bring a local candidate onto ``dest`` if it verifies; returns the verification."""
    if link == "copy":
        with open(src, "rb") as fh:
            return stream_verified(fh, dest, spec, None, str(src))
    before = src.stat()
    v = verify_file(src, spec)
    if not v.ok:
        return v
    try:
        with atomic_path(dest, suffix=".link", fsync=False) as tmp:
            os.unlink(tmp)  # the link takes the reserved temporary name
            if link == "symlink":
                os.symlink(os.path.abspath(src), tmp)
            else:
                try:
                    os.link(src, tmp)
                except OSError as exc:
                    raise _NoHardLink from exc
    except _NoHardLink:  # cross-device or unsupported: fall back to a verified copy
        return install_local(src, dest, spec, "copy")
    if verification.FSYNC:
        fsync_dir(dest.parent)
    remember_sha256(dest, v.digests["sha256"], before=before)  # a hard link is the verified inode itself
    return v
