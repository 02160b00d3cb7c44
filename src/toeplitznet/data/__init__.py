"""Verified dataset downloads and loaders.

Acquisition (:mod:`toeplitznet.data.download`)
    :func:`fetch` makes a dataset present and verified in a folder (present file -> mirror or
    system folder -> HTTP download with atomic rename) and writes ``MANIFEST.json``;
    :func:`verify` re-checks a folder; :class:`DatasetUnavailableError` / :class:`ChecksumError`
    / :class:`LayoutError` explain failures.  CLI: ``python -m toeplitznet.data.download``.
    Its parts: :mod:`~toeplitznet.data.engine` (per-file order), :mod:`~toeplitznet.data.mirrors`,
    :mod:`~toeplitznet.data.transport` (URLs), :mod:`~toeplitznet.data.verification` (checksums,
    manifest), :mod:`~toeplitznet.data.errors` (messages), :mod:`~toeplitznet.data.imagenet`.

Registry (:mod:`toeplitznet.data.registry`)
    :data:`DATASETS` of :class:`DatasetSpec` / :class:`FileSpec` / :class:`Checksum` records
    (MNIST, Fashion-MNIST, CIFAR-10, CIFAR-100, ImageNet, YouTube-8M); :func:`get_spec`,
    :func:`register`.  YouTube-8M's official download plan lives in
    :mod:`toeplitznet.data.youtube8m` (:func:`shard_plan`).

Loaders (:mod:`toeplitznet.data.datasets`)
    :func:`load_split` (float32 tensors in [0, 1], no normalisation), :func:`load_arrays`
    (uint8), :func:`read_idx` / :func:`write_idx`, :func:`train_val_split`,
    :func:`make_loader` (seeded), :data:`MEAN` / :data:`STD`, :func:`stand_in` (smoke-scale
    substitutions).

Attributes are imported lazily, so ``python -m toeplitznet.data.download`` runs without the
package importing its own ``__main__`` module twice, and importing the registry does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    # acquisition
    "fetch": "download",
    "verify": "download",
    "verify_file": "verification",
    "hash_file": "verification",
    "read_manifest": "verification",
    "check_imagenet_layout": "imagenet",
    "DataError": "errors",
    "DatasetUnavailableError": "errors",
    "ChecksumError": "errors",
    "LayoutError": "errors",
    "FetchResult": "engine",
    "FileRecord": "verification",
    "MANIFEST_NAME": "verification",
    # registry
    "Checksum": "registry",
    "FileSpec": "registry",
    "DatasetSpec": "registry",
    "DATASETS": "registry",
    "CHECKSUM_NOTES": "registry",
    "get_spec": "registry",
    "register": "registry",
    "unregister": "registry",
    "list_datasets": "registry",
    # youtube-8m plan
    "shard_plan": "youtube8m",
    # loaders
    "DataFormatError": "datasets",
    "DatasetInfo": "datasets",
    "INFO": "datasets",
    "MEAN": "datasets",
    "STD": "datasets",
    "CLASS_NAMES": "datasets",
    "StandIn": "datasets",
    "STAND_INS": "datasets",
    "stand_in": "datasets",
    "read_idx": "datasets",
    "write_idx": "datasets",
    "load_arrays": "datasets",
    "load_split": "datasets",
    "train_val_split": "datasets",
    "subset_indices": "datasets",
    "make_loader": "datasets",
    "channel_stats": "datasets",
    "dataset_dir": "datasets",
    "imagenet_folder": "datasets",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'toeplitznet.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
