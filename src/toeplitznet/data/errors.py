"""The data errors and the one place their user-facing messages are assembled.

Every message names the dataset and file(s), the configuration key(s) to set and how to obtain
the data offline; the builders below are the only code that writes that text.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from .mirrors import MIRROR_ENV

if TYPE_CHECKING:  # pragma: no cover
    from .registry import DatasetSpec, FileSpec
    from .verification import Verification

__all__ = [
    "DataError",
    "DatasetUnavailableError",
    "ChecksumError",
    "LayoutError",
]

_CLI = "python -m toeplitznet.data.download"
#: The attempt line recorded when the network may not be used.
DOWNLOADS_DISABLED = "downloads disabled (allow_download=False / --no-download)"


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


@dataclass
class Failure:
    """One file that could not be obtained: what was tried (``attempts``) and its ``urls``."""

    filename: str
    attempts: list[str]
    urls: list[str]


def config_keys(spec: DatasetSpec) -> list[str]:
    """The configuration keys that point at a dataset's files (``data.mirror`` first)."""
    return list(dict.fromkeys(["data.mirror", spec.config_key]))


# ---------------------------------------------------------------------------------------------
# missing files
# ---------------------------------------------------------------------------------------------


def unavailable(
    spec: DatasetSpec, root: Path, failures: list[Failure], allow_download: bool, extra: str = "",
    cli_args: str = "",
) -> DatasetUnavailableError:
    """Files of ``spec`` not obtainable: each file, what was tried, the keys, offline instructions."""
    missing = [f.filename for f in failures]
    urls = [u for f in failures for u in f.urls]
    keys = config_keys(spec)
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
        f"  * on a machine with internet access run `{_CLI} {spec.name} "
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


def folder_absent(spec: DatasetSpec, root: Path) -> DatasetUnavailableError:
    """:func:`unavailable` for every file of ``spec`` when ``root`` itself does not exist."""
    failures = [Failure(f.filename, [f"{root}: folder absent"], list(f.urls)) for f in spec.files]
    return unavailable(spec, root, failures, False)


def empty_shard(spec: DatasetSpec, root: Path, partition: str, shard: tuple[int, int], plan_url: str
                ) -> DatasetUnavailableError:
    """A YouTube-8M plan whose ``shard`` of ``partition`` holds no file."""
    return DatasetUnavailableError(
        f"YouTube-8M plan for {partition} selects no file for shard {shard[0]},{shard[1]}; use a smaller "
        "fraction denominator", dataset=spec.name, destination=root, urls=[plan_url],
        config_keys=config_keys(spec),
    )


def not_downloaded(name: str, missing: str, folder: str | os.PathLike) -> FileNotFoundError:
    """A loader found no data (``missing`` says what); tells how to download it into ``folder``."""
    return FileNotFoundError(f"{name}: {missing}; run `{_CLI} {name} --root {folder}` first")


# ---------------------------------------------------------------------------------------------
# wrong contents
# ---------------------------------------------------------------------------------------------


def checksum_error(dataset: str, spec: FileSpec, where: str, v: Verification, extra: str = "") -> ChecksumError:
    """``spec.filename`` at ``where`` failed verification: accepted and actual digests."""
    expected = [c.describe() + (f" [{c.origin}]" if c.origin else "") for c in spec.checksums]
    msg = (
        f"Checksum mismatch for {spec.filename!r} of dataset {dataset!r} ({where}).\n"
        f"  expected one of:\n    " + "\n    ".join(expected) + "\n"
        f"  actual: {v.actual_text()}"
    )
    if extra:
        msg += "\n" + extra
    return ChecksumError(msg, dataset=dataset, path=where, expected=[c.describe() for c in spec.checksums],
                         actual=v.digests)


def corrupted_present(dataset: str, spec: FileSpec, dest: Path, v: Verification) -> ChecksumError:
    """A file already in the destination is wrong; it is kept, and the user told how to replace it."""
    return checksum_error(
        dataset, spec, str(dest), v,
        extra=(
            "  The existing file is corrupted or from another release; it was left untouched. "
            "Delete it, or re-run with redownload=True (CLI: --redownload) to replace it."
        ),
    )


def corrupted_download(dataset: str, spec: FileSpec, url: str, v: Verification, attempts: list[str]) -> ChecksumError:
    """Every download of a file failed verification (the last one is reported)."""
    return checksum_error(
        dataset, spec, url, v,
        extra="  The download was discarded (no partial file kept). Tried:\n    " + "\n    ".join(attempts),
    )


def layout_error(spec: DatasetSpec, folder: Path | None = None, problems: Sequence[str] | None = None) -> LayoutError:
    """ImageNet folder unset (``folder`` None), absent (``problems`` None) or malformed (``problems``)."""
    key = spec.config_key
    if folder is None:
        head = f"ImageNet (ILSVRC2012) folder not configured: set the config key `{key}` (CLI: --source-dir DIR)."
    elif problems is None:
        head = f"ImageNet folder {folder} (config key `{key}`) does not exist or is not a folder."
    else:
        head = (f"ImageNet folder {folder} (config key `{key}`) does not have the ILSVRC2012 layout:\n  - "
                + "\n  - ".join(problems))
    missing = ["train/", "val/"] if problems is None else [p.split(":")[0] for p in problems]
    return LayoutError(f"{head}\n  {spec.offline_help}", dataset=spec.name, missing=missing, destination=folder,
                       config_keys=[key])


def imagenet_root_unset() -> DataError:
    """The pipeline's ``data.imagenet_root`` is empty (ImageNet is never downloaded)."""
    return DataError("imagenet: config key data.imagenet_root is not set; ImageNet cannot be "
                     "downloaded (licence). Point data.imagenet_root at an ILSVRC2012 folder with "
                     "train/ and val/ (one sub-folder per class).")
