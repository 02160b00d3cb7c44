"""Verified, offline-friendly dataset acquisition: :func:`fetch`, :func:`verify` and the CLI.

:func:`fetch` makes a dataset's files present and verified in ``root`` and writes
``root/MANIFEST.json`` (the output a Snakemake download rule declares; deterministic, so
re-running a completed fetch rewrites identical bytes).  It dispatches once on the dataset's
kind (:data:`KINDS`):

* ``"files"`` (:mod:`~toeplitznet.data.engine`): for each file, the copy in ``root``, then mirror
  and system folders (:mod:`~toeplitznet.data.mirrors`), then the registry's URLs
  (:mod:`~toeplitznet.data.transport`); verification in :mod:`~toeplitznet.data.verification`;
* ``"folder"`` (ImageNet, :mod:`~toeplitznet.data.imagenet`): the user's folder is checked,
  never downloaded;
* ``"plan"`` (YouTube-8M, :mod:`~toeplitznet.data.youtube8m`): the official download plan.

Failures are explicit (:mod:`~toeplitznet.data.errors`); nothing partial is ever left under a
final name.  Command line::

    python -m toeplitznet.data.download DATASET --root DIR [--mirror DIR] [--no-download]

exits with status 2 and the message on stderr when the data cannot be made available.

Not safe for two concurrent fetches into the *same* root (stale temporary files of an earlier,
interrupted run are removed at start).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from . import errors, imagenet
from . import youtube8m as yt8m
from .engine import FetchContext, FetchResult, FilesOptions, fetch_files, fetch_listed
from .errors import ChecksumError, DataError, DatasetUnavailableError, LayoutError
from .imagenet import check_imagenet_layout
from .mirrors import LINK_MODES, MIRROR_ENV, mirror_dirs
from .registry import DatasetSpec, get_spec, list_datasets
from .verification import (  # noqa: F401 - MANIFEST_SCHEMA re-exported for existing imports
    MANIFEST_NAME,
    MANIFEST_SCHEMA,
    FileRecord,
    Verification,
    hash_file,
    read_manifest,
    verify_file,
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
    "KINDS",
    "fetch",
    "verify",
    "verify_file",
    "hash_file",
    "read_manifest",
    "check_imagenet_layout",
    "main",
]

#: The one dispatch on :attr:`DatasetSpec.kind`: the handler and the dataclass of its own options.
KINDS: dict[str, tuple[Callable[[FetchContext, Any], FetchResult], type]] = {
    "files": (fetch_listed, FilesOptions),
    "folder": (imagenet.fetch_folder, imagenet.FolderOptions),
    "plan": (yt8m.fetch_plan, yt8m.PlanOptions),
}
_OPTIONS = {kind: {f.name for f in dataclasses.fields(opts)} for kind, (_, opts) in KINDS.items()}


def fetch(
    dataset: str | DatasetSpec,
    root: str | os.PathLike,
    mirror: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    allow_download: bool = True,
    *,
    redownload: bool = False,
    link: str = "copy",
    use_system: bool = True,
    timeout: float = 60.0,
    retries: int = 1,
    manifest_name: str = MANIFEST_NAME,
    **options: Any,
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
        timeout, retries: per-request network timeout (s) and extra attempts on transient errors.
        manifest_name: manifest file name in ``root`` (empty string: write none).
        **options: the kind's own options; those of another kind are ignored, unknown names are a
            :class:`TypeError`.  Kind ``"files"``: ``files`` (restrict to these file names; the
            manifest then lists only those).  ImageNet (:class:`~toeplitznet.data.imagenet.FolderOptions`):
            ``source_dir`` (config ``data.imagenet_root``), ``strict`` (the standard image counts).
            YouTube-8M (:class:`~toeplitznet.data.youtube8m.PlanOptions`): ``partition``, ``shard``,
            ``fraction``, ``region``, ``plan_path``; use one ``root`` per partition.

    Returns:
        :class:`FetchResult` with one :class:`FileRecord` per file.

    Raises:
        DatasetUnavailableError: files missing and not obtainable (message names dataset, files,
            destination, URLs, config keys and offline instructions).
        ChecksumError: a present file is corrupted (and ``redownload`` is false), or every
            download of a file failed verification.
        LayoutError: ImageNet folder missing or malformed.
    """
    unknown = sorted(set(options).difference(*_OPTIONS.values()))
    if unknown:
        raise TypeError(f"fetch() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}")
    spec = get_spec(dataset)
    if link not in LINK_MODES:
        raise ValueError(f"link must be one of {LINK_MODES}, got {link!r}")
    root = Path(root).expanduser().absolute()
    root.mkdir(parents=True, exist_ok=True)
    ctx = FetchContext(spec, root, mirror_dirs(spec, mirror, use_system), allow_download=allow_download,
                       redownload=redownload, link=link, timeout=timeout, retries=retries,
                       manifest_name=manifest_name)
    handler, option_type = KINDS[spec.kind]
    return handler(ctx, option_type(**{k: v for k, v in options.items() if k in _OPTIONS[spec.kind]}))


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
        raise errors.folder_absent(spec, root)
    ctx = FetchContext(spec, root, [], allow_download=False, redownload=False, link="copy", timeout=0.0,
                       retries=0, manifest_name="")
    return fetch_files(ctx, spec.files).files


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
    p.add_argument("--link", choices=LINK_MODES, default="copy", help="how mirror files are installed")
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
    plan_options = dict(partition=args.partition, shard=args.shard, fraction=args.fraction, region=args.region)
    try:
        spec = get_spec(args.dataset)
        if args.list_shards:
            if spec.kind != "plan":
                print(f"--list-shards only applies to YouTube-8M, not {spec.name}", file=sys.stderr)
                return 1
            plan = yt8m.find_plan(args.partition, args.root, args.plan)
            for e in yt8m.shard_plan(plan=plan, **plan_options):
                print(f"{e.local_name}\t{e.urls[0]}\t{e.md5 or '-'}")
            return 0
        res = fetch(
            spec, args.root, mirror=args.mirror, allow_download=not args.no_download,
            redownload=args.redownload, link=args.link, use_system=not args.no_system,
            timeout=args.timeout, source_dir=args.source_dir, strict=not args.no_strict,
            plan_path=args.plan, **plan_options,
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
