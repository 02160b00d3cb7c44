"""Loaders for the verified dataset files (no torchvision download machinery involved).

* MNIST / Fashion-MNIST: the four IDX files (``.gz`` or raw) parsed by :func:`read_idx`, a small
  numpy parser that checks the magic number, the element type, the rank and that the payload
  has exactly the announced size, with errors naming the file.
* CIFAR-10 / CIFAR-100: the python-pickle batches, read directly from the official
  ``.tar.gz`` in one streaming pass (nothing extracted), or from an already-extracted folder.
  The pickles are decoded with a restricted unpickler that only admits the few numpy globals the
  batches contain, so a tampered archive cannot execute code.

Images come back as ``uint8`` arrays ``(N, C, H, W)`` from :func:`load_arrays`, and as float32
tensors in ``[0, 1]`` from :func:`load_split` (optionally flattened to ``(N, C*H*W)`` in the
same C-H-W order).  **No normalisation is applied here**: it lives inside the models, which read
:data:`MEAN` / :data:`STD` (training-set per-channel statistics of the ``[0, 1]`` pixels).

At the *smoke* scale (a laptop CPU, offline) the real datasets are replaced; :func:`stand_in`
returns the replacement and a sentence the rendered items print.
"""

from __future__ import annotations

import codecs
import functools
import gzip
import io
import math
import os
import pickle
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from .errors import DataError, not_downloaded
from .registry import FASHION_MNIST_SYSTEM_DIR
from .verification import read_manifest

__all__ = [
    "DataFormatError",
    "DatasetInfo",
    "INFO",
    "MEAN",
    "STD",
    "CLASS_NAMES",
    "STAND_INS",
    "StandIn",
    "read_idx",
    "write_idx",
    "load_arrays",
    "load_split",
    "train_val_split",
    "subset_indices",
    "make_loader",
    "channel_stats",
    "stand_in",
    "dataset_dir",
    "imagenet_folder",
]


class DataFormatError(ValueError):
    """A data file exists but does not have the expected format (message names the file)."""


# ---------------------------------------------------------------------------------------------
# constants
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetInfo:
    """Static facts about an image-classification dataset."""

    name: str
    num_classes: int
    shape: tuple[int, int, int]  # (C, H, W)
    train_size: int
    test_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]


#: Per-channel mean of the training images scaled to [0, 1].  Fashion-MNIST's value is checked
#: against the installed files by the tests; the others are the customary published values
#: (CIFAR std is the population std of pixels, not the frequently quoted 0.2023/0.1994/0.2010).
MEAN: dict[str, tuple[float, ...]] = {
    "mnist": (0.1307,),
    "fashion_mnist": (0.2860,),
    "cifar10": (0.4914, 0.4822, 0.4465),
    "cifar100": (0.5071, 0.4865, 0.4409),
    "imagenet": (0.485, 0.456, 0.406),
}
#: Per-channel standard deviation matching :data:`MEAN`.
STD: dict[str, tuple[float, ...]] = {
    "mnist": (0.3081,),
    "fashion_mnist": (0.3530,),
    "cifar10": (0.2470, 0.2435, 0.2616),
    "cifar100": (0.2673, 0.2564, 0.2762),
    "imagenet": (0.229, 0.224, 0.225),
}

INFO: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo("mnist", 10, (1, 28, 28), 60000, 10000, MEAN["mnist"], STD["mnist"]),
    "fashion_mnist": DatasetInfo(
        "fashion_mnist", 10, (1, 28, 28), 60000, 10000, MEAN["fashion_mnist"], STD["fashion_mnist"]
    ),
    "cifar10": DatasetInfo("cifar10", 10, (3, 32, 32), 50000, 10000, MEAN["cifar10"], STD["cifar10"]),
    "cifar100": DatasetInfo("cifar100", 100, (3, 32, 32), 50000, 10000, MEAN["cifar100"], STD["cifar100"]),
    "imagenet": DatasetInfo("imagenet", 1000, (3, 224, 224), 1281167, 50000, MEAN["imagenet"], STD["imagenet"]),
}

CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "mnist": tuple(str(i) for i in range(10)),
    "fashion_mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                      "Bag", "Ankle boot"),
    "cifar10": ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
}


# ---------------------------------------------------------------------------------------------
# smoke-scale stand-ins
# ---------------------------------------------------------------------------------------------


class StandIn(NamedTuple):
    """The dataset actually used, and the sentence to print (``None`` when no substitution)."""

    dataset: str
    note: str | None


_FM = "Fashion-MNIST 28x28 grayscale"
#: scale -> {thesis dataset -> (dataset used, note)}.  Scales not listed use the real datasets.
STAND_INS: dict[str, dict[str, tuple[str, str]]] = {
    "smoke": {
        "mnist": ("fashion_mnist", f"{_FM} stands in for MNIST at smoke scale (same shape and class count; "
                                   "available offline from the Debian package dataset-fashion-mnist)"),
        "cifar10": ("fashion_mnist", f"{_FM} stands in for CIFAR-10 (32x32 RGB) at smoke scale"),
        "cifar100": ("fashion_mnist", f"{_FM} (10 classes) stands in for CIFAR-100 (32x32 RGB, 100 classes) "
                                      "at smoke scale"),
        "imagenet": ("fashion_mnist", f"{_FM} stands in for ImageNet (ILSVRC2012, 1000 classes) at smoke scale"),
        "youtube8m": ("youtube8m_synthetic", "synthetic TFRecords in the YouTube-8M format (random features "
                                             "and labels) stand in for YouTube-8M at smoke scale"),
    },
}
#: the medium scale (the claims check) reads the same data on the machine, in full
STAND_INS["medium"] = {k: (d, note.replace("at smoke scale", "at medium scale (the claims check)"))
                       for k, (d, note) in STAND_INS["smoke"].items()}


def stand_in(name: str, scale: str = "smoke") -> StandIn:
    """Which dataset replaces ``name`` at ``scale``: ``stand_in("cifar10")`` ->
    ``StandIn("fashion_mnist", "Fashion-MNIST 28x28 grayscale stands in for CIFAR-10 ...")``.

    For scales without substitutions (or datasets not substituted) returns ``StandIn(name, None)``.
    """
    table = STAND_INS.get(scale, {})
    if name in table:
        return StandIn(*table[name])
    return StandIn(name, None)


# ---------------------------------------------------------------------------------------------
# IDX
# ---------------------------------------------------------------------------------------------

#: IDX element-type codes -> big-endian numpy dtypes.
IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_IDX_CODES = {dt.newbyteorder(">") if dt.itemsize > 1 else dt: code for code, dt in IDX_DTYPES.items()}


def _read_bytes(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            head = fh.read(2)
        if head == b"\x1f\x8b":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise
    except (OSError, EOFError) as exc:
        raise DataFormatError(f"{path}: cannot decompress/read ({exc})") from None


def read_idx(path: str | os.PathLike, expected_ndim: int | None = None) -> np.ndarray:
    """Parse an IDX file (gzip-compressed or not) into a native-endian numpy array.

    Raises :class:`DataFormatError` naming the file when the magic number is wrong (the first two
    bytes must be zero, the third a known type code), the rank differs from ``expected_ndim``, or
    the payload length differs from the product of the dimensions.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DataFormatError(f"{path}: {len(raw)} bytes, too short for an IDX header")
    if raw[0] != 0 or raw[1] != 0:
        raise DataFormatError(
            f"{path}: bad IDX magic number 0x{raw[:4].hex()} (first two bytes must be zero); not an IDX file"
        )
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        raise DataFormatError(f"{path}: unknown IDX element type 0x{code:02x} (magic 0x{raw[:4].hex()})")
    if ndim == 0:
        raise DataFormatError(f"{path}: IDX rank 0")
    if expected_ndim is not None and ndim != expected_ndim:
        raise DataFormatError(f"{path}: IDX rank {ndim}, expected {expected_ndim} (magic 0x{raw[:4].hex()})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFormatError(f"{path}: truncated IDX header")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = math.prod(dims) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataFormatError(
            f"{path}: IDX payload is {len(raw) - header} bytes, dimensions {dims} of {dtype} need {expected}"
        )
    arr = np.frombuffer(raw, dtype=dtype, count=math.prod(dims), offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file (gzip-compressed when ``path`` ends in ``.gz``).

    Supported dtypes: uint8, int8, int16, int32, float32, float64.  Used for fixtures and for
    smoke-scale generators; the output is deterministic (gzip mtime 0, no embedded file name).
    """
    path = Path(path)
    a = np.asarray(array)
    if a.ndim == 0 or a.ndim > 255:
        raise ValueError("IDX arrays need 1..255 dimensions")
    be = a.dtype.newbyteorder(">") if a.dtype.itemsize > 1 else a.dtype
    code = _IDX_CODES.get(be)
    if code is None:
        raise ValueError(f"dtype {a.dtype} cannot be written as IDX")
    header = bytes([0, 0, code, a.ndim]) + np.asarray(a.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(a, dtype=be).tobytes()
    if path.suffix == ".gz":
        buf = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as gz:
            gz.write(payload)
        payload = buf.getvalue()
    path.write_bytes(payload)
    return path


# ---------------------------------------------------------------------------------------------
# locating files
# ---------------------------------------------------------------------------------------------

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
CIFAR_ARCHIVES = {"cifar10": "cifar-10-python.tar.gz", "cifar100": "cifar-100-python.tar.gz"}
CIFAR_FOLDERS = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}
CIFAR_MEMBERS = {
    "cifar10": {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)},
    "cifar100": {"train": ("train",), "test": ("test",)},
}


def _canonical(name: str) -> str:
    key = name.strip().lower().replace("-", "_")
    return {"fmnist": "fashion_mnist", "fashionmnist": "fashion_mnist"}.get(key, key)


def _marker_files(name: str) -> list[str]:
    if name in ("mnist", "fashion_mnist"):
        return [MNIST_FILES["train"][0], MNIST_FILES["test"][0]]
    if name in CIFAR_ARCHIVES:
        return [CIFAR_ARCHIVES[name], CIFAR_FOLDERS[name]]
    return []


def dataset_dir(name: str, root: str | os.PathLike | None) -> Path:
    """The folder holding ``name``'s files: ``root`` itself, else ``root/<name>``.

    ``root=None`` is accepted for Fashion-MNIST only and means the Debian system folder.
    """
    name = _canonical(name)
    if root is None:
        if name == "fashion_mnist":
            return Path(FASHION_MNIST_SYSTEM_DIR)
        raise ValueError(f"a root folder is required for {name!r}")
    root = Path(root).expanduser()
    markers = _marker_files(name)
    for cand in (root, root / name):
        if any((cand / m).exists() for m in markers):
            return cand
    return root


# ---------------------------------------------------------------------------------------------
# MNIST-like and CIFAR decoding (cached per file identity)
# ---------------------------------------------------------------------------------------------


def _file_key(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_mtime_ns, st.st_size)


def _frozen(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    for a in arrays:
        a.flags.writeable = False
    return arrays


@functools.lru_cache(maxsize=8)
def _mnist_cached(img_key: tuple, lbl_key: tuple) -> tuple[np.ndarray, np.ndarray]:
    img_path, lbl_path = Path(img_key[0]), Path(lbl_key[0])
    images = read_idx(img_path, expected_ndim=3)
    labels = read_idx(lbl_path, expected_ndim=1)
    if images.dtype != np.uint8 or labels.dtype != np.uint8:
        raise DataFormatError(f"{img_path} / {lbl_path}: expected uint8 IDX data, got {images.dtype} / {labels.dtype}")
    if images.shape[0] != labels.shape[0]:
        raise DataFormatError(
            f"{img_path} has {images.shape[0]} images but {lbl_path} has {labels.shape[0]} labels"
        )
    if labels.size and labels.max() > 9:
        raise DataFormatError(f"{lbl_path}: label {int(labels.max())} outside 0..9")
    return _frozen(images[:, None, :, :], labels.astype(np.int64))  # type: ignore[return-value]


def _mnist_arrays(name: str, folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    img_name, lbl_name = MNIST_FILES[split]
    paths = []
    for fn in (img_name, lbl_name):
        p = folder / fn
        if not p.is_file():
            raw = folder / fn[:-3]  # accept decompressed copies
            if raw.is_file():
                p = raw
            else:
                raise not_downloaded(name, f"{p} not found", folder)
        paths.append(p)
    return _mnist_cached(_file_key(paths[0]), _file_key(paths[1]))


_NUMPY_GLOBALS = {
    # bytes pickled by Python 3 with protocol <= 2 (as numpy array payloads are) go through
    # _codecs.encode(str, "latin1"); it cannot run code.  The original (Python 2) CIFAR pickles
    # need only the numpy entries.
    ("_codecs", "encode"): codecs.encode,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): np.array(0).__reduce__()[0],
    ("numpy._core.multiarray", "_reconstruct"): np.array(0).__reduce__()[0],
    ("numpy.core.multiarray", "scalar"): np.float64(0).__reduce__()[0],
    ("numpy._core.multiarray", "scalar"): np.float64(0).__reduce__()[0],
    ("numpy.core.numeric", "_frombuffer"): np.zeros(1).__reduce_ex__(5)[0],  # pickle protocol 5
    ("numpy._core.numeric", "_frombuffer"): np.zeros(1).__reduce_ex__(5)[0],
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler for CIFAR batches: only plain containers and numpy arrays are admitted."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _NUMPY_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name} from a CIFAR batch") from None


def _unpickle(data: bytes, where: str) -> dict:
    try:
        obj = _RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
    except Exception as exc:  # noqa: BLE001 - any decoding failure is a format error
        raise DataFormatError(f"{where}: not a CIFAR python batch ({type(exc).__name__}: {exc})") from None
    if not isinstance(obj, dict):
        raise DataFormatError(f"{where}: CIFAR batch is a {type(obj).__name__}, expected a dict")
    return {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in obj.items()}


def _decode_batch(d: dict, where: str, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    if "data" not in d or label_key not in d:
        raise DataFormatError(f"{where}: CIFAR batch lacks 'data' or {label_key!r} (keys: {sorted(d)})")
    data = np.asarray(d["data"])
    labels = np.asarray(d[label_key], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DataFormatError(f"{where}: 'data' is {data.dtype} {data.shape}, expected uint8 (N, 3072)")
    if labels.shape != (data.shape[0],):
        raise DataFormatError(f"{where}: {labels.shape[0]} labels for {data.shape[0]} images")
    return data.reshape(-1, 3, 32, 32), labels


@functools.lru_cache(maxsize=4)
def _cifar_cached(key: tuple, variant: str, split: str, label_key: str, from_tar: bool):
    path = Path(key[0])
    members = CIFAR_MEMBERS[variant][split]
    found: dict[str, dict] = {}
    if from_tar:
        wanted = {f"{CIFAR_FOLDERS[variant]}/{m}": m for m in members}
        try:
            with tarfile.open(path, "r:*") as tf:
                for info in tf:
                    m = wanted.get(info.name.lstrip("./"))
                    if m is None or not info.isfile():
                        continue
                    fh = tf.extractfile(info)
                    assert fh is not None
                    found[m] = _unpickle(fh.read(), f"{path}:{info.name}")
                    if len(found) == len(members):
                        break
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise DataFormatError(f"{path}: cannot read the CIFAR tarball ({exc})") from None
        missing = [m for m in members if m not in found]
        if missing:
            raise DataFormatError(f"{path}: tarball lacks {CIFAR_FOLDERS[variant]}/{{{','.join(missing)}}}")
    else:
        for m in members:
            p = path / m
            if not p.is_file():
                raise FileNotFoundError(f"{variant}: {p} not found")
            found[m] = _unpickle(p.read_bytes(), str(p))
    xs, ys = [], []
    for m in members:
        x, y = _decode_batch(found[m], f"{path}:{m}", label_key)
        xs.append(x)
        ys.append(y)
    x = np.concatenate(xs) if len(xs) > 1 else xs[0].copy()
    y = np.concatenate(ys) if len(ys) > 1 else ys[0].copy()
    n_classes = 10 if variant == "cifar10" else (20 if label_key == "coarse_labels" else 100)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise DataFormatError(f"{path}: labels outside 0..{n_classes - 1}")
    return _frozen(x, y)


def _cifar_arrays(variant: str, folder: Path, split: str, label_mode: str) -> tuple[np.ndarray, np.ndarray]:
    if variant == "cifar10":
        label_key = "labels"
    elif label_mode in ("fine", "coarse"):
        label_key = f"{label_mode}_labels"
    else:
        raise ValueError(f"label_mode must be 'fine' or 'coarse', got {label_mode!r}")
    tar = folder / CIFAR_ARCHIVES[variant]
    extracted = folder / CIFAR_FOLDERS[variant]
    if tar.is_file():
        return _cifar_cached(_file_key(tar), variant, split, label_key, True)
    if extracted.is_dir():
        first = extracted / CIFAR_MEMBERS[variant][split][0]
        key = (str(extracted.resolve()),) + (_file_key(first)[1:] if first.exists() else (0, 0))
        return _cifar_cached(key, variant, split, label_key, False)
    raise not_downloaded(variant, f"neither {tar} nor {extracted}/ found", folder)


# ---------------------------------------------------------------------------------------------
# public loaders
# ---------------------------------------------------------------------------------------------


def load_arrays(
    name: str, root: str | os.PathLike | None, split: str, *, label_mode: str = "fine"
) -> tuple[np.ndarray, np.ndarray]:
    """Raw ``(images uint8 (N, C, H, W), labels int64 (N,))`` of a split (``"train"``/``"test"``).

    The arrays are cached per file identity and read-only; copy before modifying.
    ``label_mode`` selects CIFAR-100's ``"fine"`` (100) or ``"coarse"`` (20) labels.
    """
    name = _canonical(name)
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test' here, got {split!r}")
    folder = dataset_dir(name, root)
    if name in ("mnist", "fashion_mnist"):
        return _mnist_arrays(name, folder, split)
    if name in CIFAR_ARCHIVES:
        return _cifar_arrays(name, folder, split, label_mode)
    raise ValueError(f"no array loader for {name!r} (supported: mnist, fashion_mnist, cifar10, cifar100)")


def train_val_split(n: int, val_fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic split of ``range(n)`` into sorted ``(train_idx, val_idx)`` int64 arrays.

    ``round(n * val_fraction)`` indices, drawn by a permutation from ``numpy.random.default_rng(seed)``,
    go to validation.  The result depends only on ``(n, val_fraction, seed)``.
    """
    if n < 0:
        raise ValueError("n must be non-negative")
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    n_val = int(round(n * val_fraction))
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[n_val:]).astype(np.int64), np.sort(perm[:n_val]).astype(np.int64)


def subset_indices(n: int, subset: int | float | None, seed: int = 0) -> np.ndarray:
    """Sorted indices of a deterministic subset: ``subset`` samples (int) or a fraction (float)."""
    if subset is None:
        return np.arange(n, dtype=np.int64)
    if isinstance(subset, bool):
        raise TypeError("subset must be an int count or a float fraction, not a bool")
    if isinstance(subset, float):
        if not 0.0 < subset <= 1.0:
            raise ValueError(f"a fractional subset must be in (0, 1], got {subset}")
        k = int(round(n * subset))
    else:
        k = int(subset)
    if not 0 <= k <= n:
        raise ValueError(f"subset of {k} samples requested from {n}")
    idx = np.random.default_rng(seed).choice(n, size=k, replace=False)
    return np.sort(idx).astype(np.int64)


def _check_manifest(name: str, root) -> None:
    """Before reading a dataset, re-verify its files against its ``MANIFEST.json`` (when there is one): a
    flipped byte is caught here, naming the file, not later by a decoder."""
    from .verification import MANIFEST_NAME, check_manifest

    if root is None:
        return
    for folder in (Path(root), Path(root) / name):
        if (folder / MANIFEST_NAME).is_file():
            problems = check_manifest(folder / MANIFEST_NAME)
            if problems:
                raise DataError(f"dataset {name}: " + "; ".join(problems) + ". Rerun the download rule "
                                f"(snakemake --forcerun {folder / MANIFEST_NAME}) to fetch and verify it again.")
            return


def load_split(
    name: str,
    root: str | os.PathLike | None,
    split: str,
    flatten: bool = False,
    subset: int | float | None = None,
    seed: int = 0,
    *,
    val_fraction: float | None = None,
    val_seed: int = 0,
    label_mode: str = "fine",
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, y)`` of a split as tensors: ``x`` float32 in ``[0, 1]``, ``(N, C, H, W)`` or
    ``(N, C*H*W)`` with ``flatten``; ``y`` int64.

    Args:
        name: ``mnist``, ``fashion_mnist``, ``cifar10`` or ``cifar100``.
        root: folder with the verified files (or its parent holding ``<name>/``).
        split: ``"train"``, ``"test"``, or ``"val"``.  With ``val_fraction`` the official training
            set is split by :func:`train_val_split` (``val_seed``) into ``"train"`` and ``"val"``.
        subset: keep a deterministic subset (``int`` count or ``float`` fraction) drawn with ``seed``.
        label_mode: CIFAR-100 ``"fine"`` or ``"coarse"`` labels.
    """
    if split not in ("train", "val", "test"):
        raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
    if split == "val" and not val_fraction:
        raise ValueError("split='val' needs val_fraction > 0 (it is carved out of the training set)")
    _check_manifest(name, root)
    images, labels = load_arrays(name, root, "test" if split == "test" else "train", label_mode=label_mode)
    idx = np.arange(images.shape[0], dtype=np.int64)
    if split != "test" and val_fraction:
        tr, va = train_val_split(images.shape[0], val_fraction, val_seed)
        idx = va if split == "val" else tr
    if subset is not None:
        idx = idx[subset_indices(idx.shape[0], subset, seed)]
    x = images[idx].astype(np.float32)
    x *= np.float32(1.0 / 255.0)
    if flatten:
        x = x.reshape(x.shape[0], -1)
    return torch.from_numpy(x), torch.from_numpy(np.ascontiguousarray(labels[idx]))


def make_loader(
    x: torch.Tensor | np.ndarray,
    y: torch.Tensor | np.ndarray,
    batch_size: int,
    shuffle: bool,
    seed: int = 0,
    *,
    drop_last: bool = False,
    num_workers: int = 0,
) -> DataLoader:
    """A :class:`~torch.utils.data.DataLoader` over ``(x, y)`` whose order depends only on ``seed``.

    The shuffling generator is a private :class:`torch.Generator` seeded with ``seed``: the k-th
    epoch's order is the same in every run, independent of the global RNG state.
    """
    x = torch.as_tensor(x)
    y = torch.as_tensor(y)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x has {x.shape[0]} samples but y has {y.shape[0]}")
    g = torch.Generator()
    g.manual_seed(int(seed))
    return DataLoader(
        TensorDataset(x, y),
        batch_size=batch_size,
        shuffle=shuffle,
        drop_last=drop_last,
        generator=g,
        num_workers=num_workers,
    )


def channel_stats(x: torch.Tensor | np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel (mean, population std) of images ``(N, C, H, W)`` (to check :data:`MEAN`/:data:`STD`).

    ``uint8`` input (from :func:`load_arrays`) is treated as ``value / 255`` and computed exactly
    from a histogram; float input is accumulated in float64, in chunks (no full-size copy).
    """
    a = x.numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if a.ndim != 4:
        raise ValueError("expected (N, C, H, W) images")
    means, stds = [], []
    for c in range(a.shape[1]):
        if a.dtype == np.uint8:
            counts = np.bincount(a[:, c].reshape(-1), minlength=256).astype(np.float64)
            v = np.arange(256, dtype=np.float64) / 255.0
            n = counts.sum()
            m = float((counts * v).sum() / n)
            var = float((counts * (v - m) ** 2).sum() / n)
        else:
            n, s1, s2 = 0, 0.0, 0.0
            for start in range(0, a.shape[0], 4096):
                chunk = a[start:start + 4096, c].astype(np.float64)
                n += chunk.size
                s1 += float(chunk.sum())
                s2 += float(np.square(chunk).sum())
            m = s1 / n
            var = max(s2 / n - m * m, 0.0)
        means.append(m)
        stds.append(math.sqrt(var))
    return tuple(means), tuple(stds)


def imagenet_folder(root_or_source: str | os.PathLike, split: str, transform=None):
    """A torchvision ``ImageFolder`` over ``<source>/<split>/<wnid>/`` of a checked ImageNet folder.

    ``root_or_source`` is either the user's ILSVRC2012 folder or the ``root`` where
    :func:`toeplitznet.data.download.fetch` wrote the ImageNet manifest (its ``source_dir`` is used).
    """

    base = Path(root_or_source)
    manifest = read_manifest(base)
    if manifest and manifest.get("dataset") == "imagenet":
        if split == "val" and manifest.get("val_layout") == "archives":
            raise DataFormatError(
                f"{manifest['source_dir']}: val is only available as ILSVRC2012_img_val.tar; extract it into "
                "val/<wnid>/ class folders (ground truth in the devkit) to load it"
            )
        base = Path(manifest["source_dir"])
    d = base / split
    if not d.is_dir():
        raise FileNotFoundError(f"imagenet: {d} not found (config key data.imagenet_root)")
    from torchvision.datasets import ImageFolder

    return ImageFolder(str(d), transform=transform)


# kept for callers that want the list of loadable datasets
LOADABLE: Sequence[str] = ("mnist", "fashion_mnist", "cifar10", "cifar100")
