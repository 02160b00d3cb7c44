"""ImageNet (ILSVRC2012, kind ``"folder"``): the layout check of the user's folder, never a download.

The manifest records counts, a hash of the full listing (names and sizes) and the sha256 of a
deterministic sample of files; hashing all ~150 GB on every run would cost hours for no practical
gain over the listing hash plus sample (a truncated or swapped file changes the listing or, for
the sampled files, the hash).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..io import sha256_file, sha256_text
from . import errors
from .engine import FetchContext, FetchResult
from .registry import IMAGENET_ARCHIVES, IMAGENET_COUNTS, get_spec
from .verification import verify_file

__all__ = ["FolderOptions", "check_imagenet_layout", "fetch_folder"]

_WNID = re.compile(r"^n\d{8}$")


@dataclass(frozen=True)
class FolderOptions:
    """Options of kind ``"folder"``: the ILSVRC2012 ``source_dir`` (config ``data.imagenet_root``;
    ``None``: the first mirror folder holding ``train/``) and ``strict`` (standard image counts)."""

    source_dir: str | os.PathLike | None = None
    strict: bool = True


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
    return sha256_text("".join(f"{rel}\t{size}\n" for rel, size in files))


def _sample(files: list[tuple[str, int]], k: int) -> list[tuple[str, int]]:
    """Deterministic sample: the ``k`` paths with the smallest sha256(path)."""
    ranked = sorted(files, key=lambda f: sha256_text(f[0]))
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
    if source_dir is None or str(source_dir) == "":
        raise errors.layout_error(spec)
    src = Path(source_dir).expanduser()
    if not src.is_dir():
        raise errors.layout_error(spec, src)
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
        raise errors.layout_error(spec, src, problems)
    body["val_layout"] = val_layout
    for split, files in listings.items():
        sample = _sample(files, sample_per_split)
        body["splits"][split] = {
            "num_classes": len(class_sets[split]),
            "num_files": len(files),
            "total_bytes": sum(s for _, s in files),
            "listing_sha256": _listing_digest(files),
            "sample": [{"path": rel, "size": size, "sha256": sha256_file(src / rel)} for rel, size in sample],
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
                raise errors.checksum_error("imagenet", fs, str(p), v)
            entry.update(sha256=v.digests["sha256"], md5=v.digests.get("md5"), verified_with=f"md5:{v.matched.digest}")
        archives[k] = entry
    body["archives"] = archives
    body["verification"] = (
        "layout + counts + sha256 of the sorted (path, size) listing + sha256 of a deterministic sample "
        f"of {sample_per_split} files per split (smallest sha256 of the path); archives md5-checked when present"
    )
    return body


def fetch_folder(ctx: FetchContext, options: FolderOptions) -> FetchResult:
    """Handler of kind ``"folder"``: check the folder, write its description as the manifest."""
    source_dir = options.source_dir
    if source_dir is None:
        source_dir = next((d for d, _kind in ctx.dirs if (d / "train").is_dir()), None)
    body = check_imagenet_layout(source_dir, strict=options.strict)
    body = {"dataset": ctx.spec.name, "kind": ctx.spec.kind, **body}
    return FetchResult(ctx.spec.name, ctx.root, ctx.write_manifest(body), [], body)
