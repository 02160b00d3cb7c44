"""Declarative registry of the datasets used by the replication and of their files.

Every dataset the thesis uses is described here once, as data: where its files come from
(official URL first, then mirrors), which checksums identify a good copy, and which
configuration keys let a user point the pipeline at an offline copy.  The download engine
(:mod:`toeplitznet.data.download`) and the loaders (:mod:`toeplitznet.data.datasets`) only
read these records; tests build their own :class:`DatasetSpec` and pass it to
:func:`~toeplitznet.data.download.fetch` directly (or :func:`register` it temporarily).

Three kinds of datasets exist:

``"files"``
    a fixed list of files, each downloadable and verified by checksum (MNIST, Fashion-MNIST,
    CIFAR-10, CIFAR-100).
``"folder"``
    data that cannot be downloaded (ImageNet / ILSVRC2012, licence): the user gives a folder
    (config key ``data.imagenet_root``) whose layout is checked (see
    :func:`toeplitznet.data.download.check_imagenet_layout`).
``"plan"``
    YouTube-8M: the file list and the per-shard md5 checksums come from the official
    *download plan* JSON published at ``data.yt8m.org`` (see :mod:`toeplitznet.data.youtube8m`).

Checksum provenance (what was and was not verified on the machine that wrote this file) is
recorded in each :class:`Checksum`'s ``origin`` field and summarised in :data:`CHECKSUM_NOTES`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Iterable, Mapping

__all__ = [
    "Checksum",
    "FileSpec",
    "DatasetSpec",
    "DATASETS",
    "CHECKSUM_NOTES",
    "get_spec",
    "register",
    "unregister",
    "list_datasets",
    "SUPPORTED_ALGORITHMS",
]

#: Algorithms a :class:`Checksum` may name.  ``"sha256-gunzip"`` is the sha256 of the
#: *decompressed* payload of a ``.gz`` file: it identifies the same data re-compressed by a
#: packager (Debian re-gzips Fashion-MNIST without the embedded file name, so the compressed
#: bytes differ from upstream while the payload does not).
SUPPORTED_ALGORITHMS = ("sha256", "md5", "sha256-gunzip")

_HEX = re.compile(r"^[0-9a-f]+$")
_HEX_LEN = {"sha256": 64, "md5": 32, "sha256-gunzip": 64}


@dataclass(frozen=True)
class Checksum:
    """One accepted identity of a file.

    A file verifies against a :class:`FileSpec` when it matches *any* of the spec's checksums.

    Attributes:
        algorithm: one of :data:`SUPPORTED_ALGORITHMS`.
        digest: lower-case hex digest.
        size: expected size in bytes of the file this digest describes, or ``None``.  The
            digest is authoritative; a size mismatch alone never rejects a file whose digest
            matches (a warning is emitted instead), but the size is used to report progress and
            to explain failures.
        origin: where the value comes from (e.g. ``"upstream, as published by torchvision"``).
    """

    algorithm: str
    digest: str
    size: int | None = None
    origin: str = ""

    def __post_init__(self) -> None:
        if self.algorithm not in SUPPORTED_ALGORITHMS:
            raise ValueError(
                f"unsupported checksum algorithm {self.algorithm!r}; use one of {SUPPORTED_ALGORITHMS}"
            )
        digest = self.digest.lower()
        if not _HEX.match(digest) or len(digest) != _HEX_LEN[self.algorithm]:
            raise ValueError(f"malformed {self.algorithm} digest {self.digest!r}")
        object.__setattr__(self, "digest", digest)
        if self.size is not None and self.size < 0:
            raise ValueError("size must be non-negative")

    def describe(self) -> str:
        """Short human form, e.g. ``md5:f68b3c2d...`` (full digest)."""
        size = f" ({self.size} bytes)" if self.size is not None else ""
        return f"{self.algorithm}:{self.digest}{size}"


@dataclass(frozen=True)
class FileSpec:
    """One file of a dataset.

    Attributes:
        filename: name of the file inside the dataset's root folder.
        urls: download URLs, tried in order (official first, then mirrors).  May be empty for
            files that can only come from a mirror folder.
        checksums: accepted identities (at least one; any match verifies).
        aliases: other names the same file may have in a mirror folder (e.g. the remote
            two-letter YouTube-8M shard names).
        description: free text.
    """

    filename: str
    urls: tuple[str, ...]
    checksums: tuple[Checksum, ...]
    aliases: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        if not self.filename or "/" in self.filename or "\\" in self.filename or self.filename in (".", ".."):
            raise ValueError(f"FileSpec.filename must be a plain file name, got {self.filename!r}")
        object.__setattr__(self, "urls", tuple(self.urls))
        object.__setattr__(self, "checksums", tuple(self.checksums))
        object.__setattr__(self, "aliases", tuple(self.aliases))
        if not self.checksums:
            raise ValueError(
                f"FileSpec {self.filename!r} has no checksum: every registered file must be verifiable"
            )

    @property
    def algorithms(self) -> tuple[str, ...]:
        """Distinct algorithms named by the checksums, in first-seen order."""
        seen: list[str] = []
        for c in self.checksums:
            if c.algorithm not in seen:
                seen.append(c.algorithm)
        return tuple(seen)

    @property
    def expected_size(self) -> int | None:
        """The size of the first checksum that states one (for progress/messages only)."""
        for c in self.checksums:
            if c.size is not None and c.algorithm != "sha256-gunzip":
                return c.size
        return None


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset: its files and how a user obtains them offline.

    Attributes:
        name: registry key (``"mnist"``, ``"fashion_mnist"``, ...).
        kind: ``"files"``, ``"folder"`` or ``"plan"`` (see module docstring).
        files: the files (``kind == "files"``); empty for the other kinds.
        homepage: where the dataset is described.
        licence: short licence statement.
        system_dirs: folders where an operating-system package installs the files (searched
            after the configured mirrors, e.g. Debian's ``/usr/share/datasets/fashion-mnist``).
        offline_help: extra sentence(s) appended to "dataset unavailable" errors.
        config_key: configuration key for a per-dataset folder holding the files
            (default ``data.mirror``, the pipeline's only per-scale mirror key).
    """

    name: str
    kind: str = "files"
    files: tuple[FileSpec, ...] = ()
    homepage: str = ""
    licence: str = ""
    system_dirs: tuple[str, ...] = ()
    offline_help: str = ""
    config_key: str = ""

    def __post_init__(self) -> None:
        if not re.match(r"^[a-z0-9_]+$", self.name):
            raise ValueError(f"dataset name must be lower-case snake case, got {self.name!r}")
        if self.kind not in ("files", "folder", "plan"):
            raise ValueError(f"unknown dataset kind {self.kind!r}")
        object.__setattr__(self, "files", tuple(self.files))
        object.__setattr__(self, "system_dirs", tuple(self.system_dirs))
        if not self.config_key:
            object.__setattr__(self, "config_key", "data.mirror")
        names = [f.filename for f in self.files]
        if len(set(names)) != len(names):
            raise ValueError(f"dataset {self.name!r} lists a file twice")
        if self.kind == "files" and not self.files:
            raise ValueError(f"dataset {self.name!r} of kind 'files' lists no file")

    def file(self, filename: str) -> FileSpec:
        """The :class:`FileSpec` called ``filename``."""
        for f in self.files:
            if f.filename == filename:
                return f
        raise KeyError(f"dataset {self.name!r} has no file {filename!r}")

    def with_files(self, files: Iterable[FileSpec]) -> "DatasetSpec":
        """A copy with another file list (used for YouTube-8M plans and by tests)."""
        return replace(self, files=tuple(files))


# ---------------------------------------------------------------------------------------------
# MNIST
# ---------------------------------------------------------------------------------------------

_TV = "upstream file, md5 as listed in torchvision 0.29.1 datasets/mnist.py"

MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",  # the mirror torchvision uses first
    "http://yann.lecun.com/exdb/mnist/",  # the original site (often refuses scripted downloads)
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # the mirror TensorFlow's loaders use
)

_MNIST_FILES = (
    # filename, md5 (verified against the installed torchvision source), size (bytes, from memory)
    ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9912422),
    ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432", 28881),
    ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3", 1648877),
    ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c", 4542),
)

MNIST = DatasetSpec(
    name="mnist",
    kind="files",
    files=tuple(
        FileSpec(
            filename=fn,
            urls=tuple(m + fn for m in MNIST_MIRRORS),
            checksums=(Checksum("md5", md5, size, _TV),),
        )
        for fn, md5, size in _MNIST_FILES
    ),
    homepage="http://yann.lecun.com/exdb/mnist/",
    licence="CC BY-SA 3.0 (Y. LeCun, C. Cortes, C. J. C. Burges)",
)

# ---------------------------------------------------------------------------------------------
# Fashion-MNIST
# ---------------------------------------------------------------------------------------------

FASHION_MNIST_MIRRORS = (
    # the download links given in the README of github.com/zalandoresearch/fashion-mnist
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    # the same files committed in the GitHub repository
    "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
)

#: Debian package ``dataset-fashion-mnist`` (version 0.0~git20200523.55506a9-1) installs here.
FASHION_MNIST_SYSTEM_DIR = "/usr/share/datasets/fashion-mnist"

_DEB = "Debian dataset-fashion-mnist 0.0~git20200523.55506a9-1, hashed on the build machine"
_DEB_PAYLOAD = "decompressed payload of the Debian copy, hashed on the build machine"
_TV_F = "upstream file, md5 as listed in torchvision 0.29.1 datasets/mnist.py (FashionMNIST)"

_FASHION_FILES = (
    # filename,
    #   upstream md5 (torchvision) and upstream size (= Debian size + 24 bytes of embedded gzip
    #   file name, which Debian strips when re-compressing),
    #   Debian sha256 and size, sha256 of the decompressed payload
    (
        "train-images-idx3-ubyte.gz",
        "8d4fb7e6c68d591d4c3dfef9ec88bf0d", 26421880,
        "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7", 26421856,
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 47040016,
    ),
    (
        "train-labels-idx1-ubyte.gz",
        "25c81989df183df01b3e8a0aad5dffbe", 29515,
        "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056", 29491,
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 60008,
    ),
    (
        "t10k-images-idx3-ubyte.gz",
        "bef4ecab320f06d8554ea6380940ec79", 4422102,
        "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa", 4422079,
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 7840016,
    ),
    (
        "t10k-labels-idx1-ubyte.gz",
        "bb300cfdad3c16e7a12a480ee83cd310", 5148,
        "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05", 5125,
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 10008,
    ),
)

FASHION_MNIST = DatasetSpec(
    name="fashion_mnist",
    kind="files",
    files=tuple(
        FileSpec(
            filename=fn,
            urls=tuple(m + fn for m in FASHION_MNIST_MIRRORS),
            checksums=(
                Checksum("md5", md5, up_size, _TV_F),
                Checksum("sha256", deb_sha, deb_size, _DEB),
                Checksum("sha256-gunzip", payload_sha, payload_size, _DEB_PAYLOAD),
            ),
        )
        for fn, md5, up_size, deb_sha, deb_size, payload_sha, payload_size in _FASHION_FILES
    ),
    homepage="https://github.com/zalandoresearch/fashion-mnist",
    licence="MIT (Zalando SE)",
    system_dirs=(FASHION_MNIST_SYSTEM_DIR,),
    offline_help=(
        "On Debian/Ubuntu the files are packaged: `apt-get install dataset-fashion-mnist` installs "
        f"them under {FASHION_MNIST_SYSTEM_DIR}, which is searched automatically."
    ),
)

# ---------------------------------------------------------------------------------------------
# CIFAR-10 / CIFAR-100 (python pickle versions)
# ---------------------------------------------------------------------------------------------

_TV_C = "upstream tarball, md5 as listed in torchvision 0.29.1 datasets/cifar.py (size from memory)"

CIFAR10 = DatasetSpec(
    name="cifar10",
    kind="files",
    files=(
        FileSpec(
            filename="cifar-10-python.tar.gz",
            urls=("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
            checksums=(Checksum("md5", "c58f30108f718f92721af3b95e74349a", 170498071, _TV_C),),
        ),
    ),
    homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
    licence="no explicit licence; distributed by A. Krizhevsky for research use",
)

CIFAR100 = DatasetSpec(
    name="cifar100",
    kind="files",
    files=(
        FileSpec(
            filename="cifar-100-python.tar.gz",
            urls=("https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",),
            checksums=(Checksum("md5", "eb9058c3a382ffc7106e4002c42a8d85", 169001437, _TV_C),),
        ),
    ),
    homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
    licence="no explicit licence; distributed by A. Krizhevsky for research use",
)

# ---------------------------------------------------------------------------------------------
# ImageNet (ILSVRC2012): never downloaded, the user provides a folder
# ---------------------------------------------------------------------------------------------

_TV_I = "md5 as listed in torchvision 0.29.1 datasets/imagenet.py"

#: The official ILSVRC2012 archives, used when the user's folder holds them instead of (or
#: beside) the extracted class folders.  Only checked when present; never downloaded.
IMAGENET_ARCHIVES = {
    "train": FileSpec(
        "ILSVRC2012_img_train.tar", (), (Checksum("md5", "1d675b47d978889d74fa0da5fadfb00e", None, _TV_I),)
    ),
    "val": FileSpec(
        "ILSVRC2012_img_val.tar", (), (Checksum("md5", "29b22e2961454d5413ddabcf34fc5622", None, _TV_I),)
    ),
    "devkit": FileSpec(
        "ILSVRC2012_devkit_t12.tar.gz", (), (Checksum("md5", "fa75699e90414af021442c21a62c3abf", None, _TV_I),)
    ),
}

#: Image counts of the standard ILSVRC2012 classification splits.
IMAGENET_COUNTS = {"train": 1_281_167, "val": 50_000, "classes": 1000}

IMAGENET = DatasetSpec(
    name="imagenet",
    kind="folder",
    homepage="https://image-net.org/challenges/LSVRC/2012/",
    licence="ImageNet terms of access (non-commercial research; registration required)",
    config_key="data.imagenet_root",  # the key config/config.yaml defines
    offline_help=(
        "ImageNet cannot be downloaded automatically (its terms of access require registration at "
        "https://image-net.org). Obtain ILSVRC2012, lay it out as <dir>/train/<wnid>/*.JPEG (1000 "
        "class folders) and either <dir>/val/<wnid>/*.JPEG (1000 class folders) or "
        "<dir>/ILSVRC2012_img_val.tar + <dir>/ILSVRC2012_devkit_t12.tar.gz, then set the config key "
        "`data.imagenet_root` to <dir> (CLI: --source-dir <dir>)."
    ),
)

# ---------------------------------------------------------------------------------------------
# YouTube-8M: the files come from the official download plan (see youtube8m.py)
# ---------------------------------------------------------------------------------------------

YOUTUBE8M = DatasetSpec(
    name="youtube8m",
    kind="plan",
    homepage="https://research.google.com/youtube8m/",
    licence="CC BY 4.0 (Google)",
    offline_help=(
        "YouTube-8M shards are listed, with one md5 each, by the official download plan "
        "http://data.yt8m.org/<version>/download_plans/<level>_<split>.json. Offline, copy that plan "
        "(saved as <version>_<level>_<split>_download_plan.json, the name the official download.py "
        "uses) and the shards into the mirror folder. The smoke scale never needs the real data: it "
        "writes synthetic TFRecords in the same format instead."
    ),
)

# ---------------------------------------------------------------------------------------------

#: The registry: dataset name -> :class:`DatasetSpec`.
DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec for spec in (MNIST, FASHION_MNIST, CIFAR10, CIFAR100, IMAGENET, YOUTUBE8M)
}

_BUILTIN = frozenset(DATASETS)

#: What was verified about the registered checksums, and how (kept as data so the report can
#: print it).
CHECKSUM_NOTES: Mapping[str, str] = {
    "mnist": "md5s checked against the installed torchvision 0.29.1 source; sizes from memory "
    "(not verifiable offline; a size mismatch only warns).",
    "fashion_mnist": "upstream md5s checked against the installed torchvision source; Debian "
    "sha256/size and payload sha256 computed from the installed Debian files; upstream sizes "
    "= Debian size + 24 (gzip FNAME header field). Upstream md5 not testable offline "
    "(the Debian files are re-compressed).",
    "cifar10": "tarball md5 checked against the installed torchvision source; size from memory.",
    "cifar100": "tarball md5 checked against the installed torchvision source; size from memory.",
    "imagenet": "archive md5s checked against the installed torchvision source; extracted folders "
    "are verified by layout, counts, listing hash and a hashed deterministic sample.",
    "youtube8m": "no checksum is stored here: each shard's md5 comes from the official download "
    "plan JSON at download time (the plan itself has no published checksum; its sha256 is "
    "recorded in the manifest).",
}


def get_spec(dataset: str | DatasetSpec) -> DatasetSpec:
    """Return the :class:`DatasetSpec` for a name (or pass a spec through unchanged).

    Names are case-insensitive and ``-`` is accepted for ``_`` (``"Fashion-MNIST"`` works).
    """
    if isinstance(dataset, DatasetSpec):
        return dataset
    key = str(dataset).strip().lower().replace("-", "_")
    aliases = {"fmnist": "fashion_mnist", "fashionmnist": "fashion_mnist", "cifar_10": "cifar10",
               "cifar_100": "cifar100", "ilsvrc2012": "imagenet", "yt8m": "youtube8m",
               "youtube_8m": "youtube8m"}
    key = aliases.get(key, key)
    try:
        return DATASETS[key]
    except KeyError:
        raise KeyError(f"unknown dataset {dataset!r}; known: {', '.join(sorted(DATASETS))}") from None


def register(spec: DatasetSpec, *, overwrite: bool = False) -> DatasetSpec:
    """Add a dataset to the registry (tests and extensions).  Built-in entries cannot be replaced."""
    if spec.name in _BUILTIN:
        raise ValueError(f"{spec.name!r} is a built-in dataset and cannot be re-registered")
    if spec.name in DATASETS and not overwrite:
        raise ValueError(f"dataset {spec.name!r} is already registered (pass overwrite=True)")
    DATASETS[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a dataset added with :func:`register` (built-ins cannot be removed)."""
    if name in _BUILTIN:
        raise ValueError(f"{name!r} is a built-in dataset")
    DATASETS.pop(name, None)


def list_datasets() -> list[str]:
    """Names of all registered datasets, sorted."""
    return sorted(DATASETS)

